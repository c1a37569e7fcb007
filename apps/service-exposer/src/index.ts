/**
 * @kne/service-exposer — the service-exposer process. `createServiceExposerApp` starts its server
 * (used by main.ts and by tests); the implementation lives in @kne/exposer.
 */
export { createServiceExposerApp, serviceExposerCommand } from "./app";
export type { ServiceExposerAppOptions } from "./app";
