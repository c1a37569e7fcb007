/**
 * @kne/config-bootstrapper — the config-bootstrapper process. `createConfigBootstrapperApp`
 * starts its server (used by main.ts and by tests); the implementation lives in @kne/bootstrap.
 */
export { createConfigBootstrapperApp, configBootstrapperCommand } from "./app";
export type { ConfigBootstrapperAppOptions } from "./app";
