import type { Interceptor } from "@connectrpc/connect";
import { alpine, ceos, ciena, controller, forward, managerv1 } from "@kne/proto";
import { notImplementedService, startServer, type RunningServer, type ServerCommand } from "@kne/rpc";
import type { Logger } from "@kne/telemetry";

export const topologyManagerCommand: ServerCommand = {
  name: "topology-manager",
  description:
    "The KNE topology manager: the public API that creates, changes, watches and deletes " +
    "topologies (kne.manager.v1), and upstream KNE's controller.TopologyManager service for " +
    "existing KNE clients.",
  defaultPort: 50051,
  services: [
    managerv1.TopologyService.typeName,
    managerv1.LinkService.typeName,
    managerv1.NodeService.typeName,
    controller.TopologyManager.typeName,
  ],
};

export interface TopologyManagerAppOptions {
  port: number;
  host?: string;
  logger: Logger;
  interceptors?: Interceptor[];
  shutdownGraceMs?: number;
}

/**
 * Starts the topology-manager's gRPC server. The service implementations land in
 * @kne/manager; until then every method answers UNIMPLEMENTED saying so.
 */
export function createTopologyManagerApp(options: TopologyManagerAppOptions): Promise<RunningServer> {
  const scope = "the topology manager implementation lands with @kne/manager";
  return startServer({
    port: options.port,
    host: options.host,
    logger: options.logger,
    interceptors: options.interceptors,
    shutdownGraceMs: options.shutdownGraceMs,
    services: [
      notImplementedService(managerv1.TopologyService, scope),
      notImplementedService(managerv1.LinkService, scope),
      notImplementedService(managerv1.NodeService, scope),
      notImplementedService(controller.TopologyManager, scope),
    ],
    // Topologies carry vendor_data in google.protobuf.Any: reflection clients such as
    // buf curl need these types to print it.
    reflectionFiles: [ceos.file_ceos_ceos, alpine.file_alpine_alpine, ciena.file_ciena_ciena, forward.file_forward_forward],
  });
}
