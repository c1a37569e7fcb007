import type { Interceptor } from "@connectrpc/connect";
import { bootstrapv1 } from "@kne/proto";
import { notImplementedService, startServer, type RunningServer, type ServerCommand } from "@kne/rpc";
import type { Logger } from "@kne/telemetry";

export const configBootstrapperCommand: ServerCommand = {
  name: "config-bootstrapper",
  description:
    "The KNE config bootstrapper: prepares the boot configuration of nodes, pushes, resets " +
    "and saves device configuration, and generates node certificates.",
  defaultPort: 50053,
  services: [bootstrapv1.BootstrapService.typeName],
};

export interface ConfigBootstrapperAppOptions {
  port: number;
  host?: string;
  logger: Logger;
  interceptors?: Interceptor[];
  shutdownGraceMs?: number;
}

/**
 * Starts the config-bootstrapper's gRPC server. The service implementation lands in
 * @kne/bootstrap; until then every method answers UNIMPLEMENTED saying so.
 */
export function createConfigBootstrapperApp(options: ConfigBootstrapperAppOptions): Promise<RunningServer> {
  const scope = "boot config, config push/reset/save and certificates land with @kne/bootstrap";
  return startServer({
    port: options.port,
    host: options.host,
    logger: options.logger,
    interceptors: options.interceptors,
    shutdownGraceMs: options.shutdownGraceMs,
    services: [
      notImplementedService(bootstrapv1.BootstrapService, scope),
    ],
  });
}
