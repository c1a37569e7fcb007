/**
 * @kne/service-exposer — the service-exposer process. `createServiceExposerApp` starts its
 * server (used by main.ts and by tests); the implementation lives in @kne/exposer.
 */
export { createServiceExposerApp, serviceExposerCommand, serviceExposerFlagsHelp } from "./app";
export type { ServiceExposerApp, ServiceExposerAppOptions } from "./app";
export { splitExposerFlags } from "./exposer-flags";
