/**
 * cli — entry point (filled by later work).
 */
export {};
