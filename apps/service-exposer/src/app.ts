import type { Interceptor } from "@connectrpc/connect";
import { DEFAULT_FORWARD_ADDRESS, HostPortExposer, createExposerService } from "@kne/exposer";
import { exposerv1 } from "@kne/proto";
import { serviceRegistration, startServer, type RunningServer, type ServerCommand } from "@kne/rpc";
import type { Logger } from "@kne/telemetry";

export const serviceExposerCommand: ServerCommand = {
  name: "service-exposer",
  description:
    "The KNE service exposer: makes the services of topology nodes (ssh, gNMI, ...) reachable " +
    "from outside the topology: at the node's address, and through host port forwards (TCP, on " +
    "--forward-address) that live as long as this process or until unexposed.",
  defaultPort: 50054,
  services: [exposerv1.ExposerService.typeName],
};

export const serviceExposerFlagsHelp = `
Exposer flags:
  --forward-address <ip>  the host address forwards listen on (default ${DEFAULT_FORWARD_ADDRESS};
                          0.0.0.0 opens them to every network this host is on)
`;

export interface ServiceExposerAppOptions {
  port: number;
  host?: string;
  logger: Logger;
  interceptors?: Interceptor[];
  shutdownGraceMs?: number;
  /** Where host port forwards listen (default 127.0.0.1). */
  forwardAddress?: string;
}

export interface ServiceExposerApp extends RunningServer {
  readonly exposer: HostPortExposer;
}

/**
 * Starts the service-exposer: ExposerService over a `HostPortExposer`, with health and
 * reflection. `close()` stops serving, then closes every forward.
 */
export async function createServiceExposerApp(options: ServiceExposerAppOptions): Promise<ServiceExposerApp> {
  const exposer = new HostPortExposer({ ...(options.forwardAddress ? { forwardAddress: options.forwardAddress } : {}), logger: options.logger });
  const server = await startServer({
    port: options.port,
    host: options.host,
    logger: options.logger,
    interceptors: options.interceptors,
    shutdownGraceMs: options.shutdownGraceMs,
    services: [serviceRegistration(exposerv1.ExposerService, createExposerService(exposer))],
  });
  return {
    port: server.port,
    url: server.url,
    health: server.health,
    exposer,
    async close() {
      await server.close();
      await exposer.close();
    },
  };
}
