import type { Interceptor } from "@connectrpc/connect";
import { bootstrapv1 } from "@kne/proto";
import { createBootstrapService } from "@kne/bootstrap";
import { serviceRegistration, startServer, type RunningServer, type ServerCommand } from "@kne/rpc";
import type { Logger } from "@kne/telemetry";

export const configBootstrapperCommand: ServerCommand = {
  name: "config-bootstrapper",
  description:
    "The KNE config bootstrapper: generates self-signed node certificates (common name, key size, " +
    "DNS and IP subject alternative names). Boot config, push, reset and save are applied by the " +
    "topology manager through each vendor's runtime; here they answer UNIMPLEMENTED saying so.",
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
 * Starts the config-bootstrapper's gRPC server: BootstrapService from @kne/bootstrap
 * (certificates; the config methods answer UNIMPLEMENTED naming where configs are applied).
 */
export function createConfigBootstrapperApp(options: ConfigBootstrapperAppOptions): Promise<RunningServer> {
  return startServer({
    port: options.port,
    host: options.host,
    logger: options.logger,
    interceptors: options.interceptors,
    shutdownGraceMs: options.shutdownGraceMs,
    services: [serviceRegistration(bootstrapv1.BootstrapService, createBootstrapService())],
  });
}
