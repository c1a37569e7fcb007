/**
 * service-exposer — entry point (filled by later work).
 */
export {};
