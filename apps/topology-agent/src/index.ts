/**
 * @kne/topology-agent — the topology-agent process. `createTopologyAgentApp` starts its server
 * (used by main.ts and by tests); the implementation lives in @kne/agent.
 */
export { createTopologyAgentApp, topologyAgentCommand } from "./app";
export type { TopologyAgentApp, TopologyAgentAppOptions } from "./app";
export { splitAgentFlags, agentFlagsHelp, defaultStateDir } from "./agent-flags";
export type { AgentFlags } from "./agent-flags";
