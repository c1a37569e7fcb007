import type { Interceptor } from "@connectrpc/connect";
import { LocalBackend, type RuntimeBackend, createManagerServices, managerRegistrations } from "@kne/manager";
import { alpine, ceos, ciena, controller, forward, managerv1 } from "@kne/proto";
import { authInterceptor, startServer, type RunningServer, type ServerCommand, type TlsOptions } from "@kne/rpc";
import type { Logger } from "@kne/telemetry";

export const topologyManagerCommand: ServerCommand = {
  name: "topology-manager",
  description:
    "The KNE topology manager: the public API that creates, changes, watches and deletes " +
    "topologies (kne.manager.v1), and upstream KNE's controller.TopologyManager service for " +
    "existing KNE clients. It runs topologies on this host (the local backend), keeping its " +
    "state in --state-dir (or $KNE_STATE_DIR; default /var/lib/kne), and owns that state dir while it serves.",
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
  /** The state directory of the local backend (default $KNE_STATE_DIR, else /var/lib/kne). */
  stateDir?: string;
  /** Serve TLS; with `ca` and `requestClientCert`, mTLS (connections without a good client cert are refused). */
  tls?: TlsOptions;
  /** Require `authorization: Bearer <token>` on mutating calls (see authInterceptor). */
  authToken?: string;
  /** Another backend (tests); closed with the server. */
  backend?: RuntimeBackend;
}

/**
 * Starts the topology-manager's gRPC server over the local backend. The backend takes the
 * state dir's lock at the first change and keeps it (so in-process `kne` commands on the same
 * state dir are told to use this server); it is released on close.
 */
export async function createTopologyManagerApp(options: TopologyManagerAppOptions): Promise<RunningServer> {
  const backend = options.backend ?? new LocalBackend({ stateDir: options.stateDir, logger: options.logger.child({ component: "local-backend" }), exclusive: true });
  const server = await startServer({
    port: options.port,
    host: options.host,
    logger: options.logger,
    // The auth check runs nearest the handler, so rejected calls are still logged and traced.
    interceptors: [...(options.interceptors ?? []), ...(options.authToken !== undefined ? [authInterceptor({ token: options.authToken })] : [])],
    tls: options.tls,
    shutdownGraceMs: options.shutdownGraceMs,
    services: managerRegistrations(createManagerServices(backend)),
    // Topologies carry vendor_data in google.protobuf.Any: reflection clients such as
    // buf curl need these types to print it.
    reflectionFiles: [ceos.file_ceos_ceos, alpine.file_alpine_alpine, ciena.file_ciena_ciena, forward.file_forward_forward],
  });
  return {
    get port() {
      return server.port;
    },
    get url() {
      return server.url;
    },
    get health() {
      return server.health;
    },
    async close() {
      await server.close();
      await backend.close();
    },
  };
}
