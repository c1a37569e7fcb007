import type { Interceptor } from "@connectrpc/connect";
import { exposerv1 } from "@kne/proto";
import { notImplementedService, startServer, type RunningServer, type ServerCommand } from "@kne/rpc";
import type { Logger } from "@kne/telemetry";

export const serviceExposerCommand: ServerCommand = {
  name: "service-exposer",
  description:
    "The KNE service exposer: makes the services of topology nodes (ssh, gNMI, ...) reachable " +
    "from outside the topology: Kubernetes Services in a cluster, host ports locally.",
  defaultPort: 50054,
  services: [exposerv1.ExposerService.typeName],
};

export interface ServiceExposerAppOptions {
  port: number;
  host?: string;
  logger: Logger;
  interceptors?: Interceptor[];
  shutdownGraceMs?: number;
}

/**
 * Starts the service-exposer's gRPC server. The service implementation lands in
 * @kne/exposer; until then every method answers UNIMPLEMENTED saying so.
 */
export function createServiceExposerApp(options: ServiceExposerAppOptions): Promise<RunningServer> {
  const scope = "service exposure lands with @kne/exposer";
  return startServer({
    port: options.port,
    host: options.host,
    logger: options.logger,
    interceptors: options.interceptors,
    shutdownGraceMs: options.shutdownGraceMs,
    services: [
      notImplementedService(exposerv1.ExposerService, scope),
    ],
  });
}
