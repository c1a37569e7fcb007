/**
 * @kne/topology-agent — the topology-agent process. `createTopologyAgentApp` starts its server
 * (used by main.ts and by tests); the implementation lives in @kne/agent.
 */
export { createTopologyAgentApp, topologyAgentCommand } from "./app";
export type { TopologyAgentAppOptions } from "./app";
