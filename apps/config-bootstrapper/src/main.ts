/**
 * config-bootstrapper — entry point (filled by later work).
 */
export {};
