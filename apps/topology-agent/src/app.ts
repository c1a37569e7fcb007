import type { Interceptor } from "@connectrpc/connect";
import { agentv1 } from "@kne/proto";
import { notImplementedService, startServer, type RunningServer, type ServerCommand } from "@kne/rpc";
import type { Logger } from "@kne/telemetry";

export const topologyAgentCommand: ServerCommand = {
  name: "topology-agent",
  description:
    "The KNE topology agent, one per host: creates and maintains the wires of topologies " +
    "(veth, VXLAN), their link state and impairments, and reports interfaces and counters.",
  defaultPort: 50052,
  services: [agentv1.AgentService.typeName],
};

export interface TopologyAgentAppOptions {
  port: number;
  host?: string;
  logger: Logger;
  interceptors?: Interceptor[];
  shutdownGraceMs?: number;
}

/**
 * Starts the topology-agent's gRPC server. The service implementation lands in
 * @kne/agent; until then every method answers UNIMPLEMENTED saying so.
 */
export function createTopologyAgentApp(options: TopologyAgentAppOptions): Promise<RunningServer> {
  const scope = "wires, link state and impairments land with @kne/agent";
  return startServer({
    port: options.port,
    host: options.host,
    logger: options.logger,
    interceptors: options.interceptors,
    shutdownGraceMs: options.shutdownGraceMs,
    services: [
      notImplementedService(agentv1.AgentService, scope),
    ],
  });
}
