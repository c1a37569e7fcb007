/**
 * topology-agent — entry point (filled by later work).
 */
export {};
