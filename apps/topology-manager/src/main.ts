/**
 * topology-manager — entry point (filled by later work).
 */
export {};
