/**
 * @kne/topology-manager — the topology-manager process. `createTopologyManagerApp` starts
 * its server (used by main.ts and by tests); `runTopologyManager` is the whole process
 * (flags, TLS/mTLS, bearer token, signals); the implementations live in @kne/manager.
 */
export { createTopologyManagerApp, topologyManagerCommand } from "./app";
export type { TopologyManagerAppOptions } from "./app";
export { runTopologyManager } from "./run";
export { parseManagerFlags, loadManagerOptions, topologyManagerHelp, managerEnv } from "./manager-options";
export type { ManagerFlags, LoadedManagerOptions, TopologyManagerFlags } from "./manager-options";
