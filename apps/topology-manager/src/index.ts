/**
 * @kne/topology-manager — the topology-manager process. `createTopologyManagerApp` starts
 * its server (used by main.ts and by tests); the implementations live in @kne/manager.
 */
export { createTopologyManagerApp, topologyManagerCommand } from "./app";
export type { TopologyManagerAppOptions } from "./app";
