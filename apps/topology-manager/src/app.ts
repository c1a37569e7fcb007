import type { Interceptor } from "@connectrpc/connect";
import { homedir } from "node:os";
import { join } from "node:path";
import { type KubecfgClusters, LocalBackend, type RuntimeBackend, createKubecfgClusters, createKubernetesBackend, createManagerServices, managerRegistrations } from "@kne/manager";
import { alpine, ceos, ciena, controller, forward, managerv1 } from "@kne/proto";
import { authInterceptor, startServer, type RunningServer, type ServerCommand, type TlsOptions } from "@kne/rpc";
import { startTelemetry, type Logger, type Telemetry } from "@kne/telemetry";
import { observeManager } from "./manager-metrics";
import type { BackendFlags, ManagerRuntimeFlags } from "./manager-options";

export const topologyManagerCommand: ServerCommand = {
  name: "topology-manager",
  description:
    "The KNE topology manager: the public API that creates, changes, watches and deletes " +
    "topologies (kne.manager.v1), and upstream KNE's controller.TopologyManager service for " +
    "existing KNE clients. It runs topologies on this host (the local backend), keeping its " +
    "state in --state-dir (or $KNE_STATE_DIR; default /var/lib/kne), and owns that state dir while it serves; " +
    "or, with --backend kubernetes, in the cluster of --kubeconfig, as kne.dev Topology, Link and Device objects.",
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
  /** Which backend to make when `backend` is not given (flags --backend, --kubeconfig, --operator-mode; default local). */
  backendChoice?: BackendFlags;
  /** Metrics and trace export, and the limits on requests (flags --metrics-addr, --otlp-endpoint, --max-*). */
  runtime?: Partial<ManagerRuntimeFlags>;
}

export interface TopologyManagerServer extends RunningServer {
  /** Where Prometheus scrapes, when --metrics-addr was given. */
  readonly metricsUrl: string | undefined;
}

/**
 * Starts the topology-manager's gRPC server over the local backend. The backend takes the
 * state dir's lock at the first change and keeps it (so in-process `kne` commands on the same
 * state dir are told to use this server); it is released on close.
 */
export async function createTopologyManagerApp(options: TopologyManagerAppOptions): Promise<TopologyManagerServer> {
  const runtime = options.runtime ?? {};
  // Before the services and the server: their instruments come from the global providers.
  let telemetry: Telemetry | undefined;
  if (runtime.metricsAddr !== undefined || runtime.otlpEndpoint !== undefined) {
    telemetry = await startTelemetry({
      serviceName: topologyManagerCommand.name,
      logger: options.logger,
      ...(runtime.metricsAddr !== undefined ? { metricsAddr: runtime.metricsAddr } : {}),
      ...(runtime.otlpEndpoint !== undefined ? { otlpEndpoint: runtime.otlpEndpoint } : {}),
    });
  }
  const choice = options.backendChoice;
  let backend: RuntimeBackend;
  let kubecfgClusters: KubecfgClusters | undefined;
  if (options.backend) {
    backend = options.backend;
  } else if (choice?.kind === "kubernetes") {
    // Loaded only here: a manager over the local backend never loads the Kubernetes client.
    const imageOverrides = choice.imageOverrides ? { imageOverrides: choice.imageOverrides } : {};
    const kubernetes = await createKubernetesBackend({ kubeconfigPath: choice.kubeconfig, operatorMode: choice.operatorMode, installCrds: choice.installCrds, ...imageOverrides, logger: options.logger.child({ component: "kubernetes-backend" }) });
    // It installs its CRDs and fills its caches before serving: a bad kubeconfig or an
    // unreachable cluster fails the start, not the first call.
    await kubernetes.start();
    backend = kubernetes;
    const clusterLogger = options.logger.child({ component: "kubecfg-clusters" });
    kubecfgClusters = await createKubecfgClusters({
      own: { backend: kubernetes, server: kubernetes.client.server.href },
      ownKubeconfigPaths: ownKubeconfigPaths(choice.kubeconfig),
      ...(choice.kubecfgDir !== undefined ? { allowedDir: choice.kubecfgDir } : {}),
      ...(choice.kubecfgMaxClusters !== undefined ? { maxClusters: choice.kubecfgMaxClusters } : {}),
      logger: clusterLogger,
      createBackend: (kubeconfigPath) =>
        createKubernetesBackend({ kubeconfigPath, operatorMode: choice.operatorMode, installCrds: choice.installCrds, ...imageOverrides, logger: clusterLogger.child({ kubecfg: kubeconfigPath }) }),
    });
  } else {
    backend = new LocalBackend({ stateDir: options.stateDir, logger: options.logger.child({ component: "local-backend" }), exclusive: true });
  }
  const services = createManagerServices(backend, {
    limits: { maxNodes: runtime.maxNodes, maxLinks: runtime.maxLinks },
    logger: options.logger.child({ component: "services" }),
    ...(kubecfgClusters ? { kubecfgClusters } : {}),
  });
  if (telemetry) observeManager(telemetry.meter("@kne/topology-manager"), backend, services.watchHub, options.logger);
  const server = await startServer({
    port: options.port,
    host: options.host,
    logger: options.logger,
    // The auth check runs nearest the handler, so rejected calls are still logged and traced.
    interceptors: [...(options.interceptors ?? []), ...(options.authToken !== undefined ? [authInterceptor({ token: options.authToken })] : [])],
    tls: options.tls,
    shutdownGraceMs: options.shutdownGraceMs,
    services: managerRegistrations(services),
    ...(runtime.maxMessageBytes !== undefined ? { readMaxBytes: runtime.maxMessageBytes } : {}),
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
    metricsUrl: telemetry?.metricsUrl,
    async close() {
      await server.close();
      services.watchHub.close();
      await kubecfgClusters?.close();
      await backend.close();
      await telemetry?.shutdown();
    },
  };
}

/** The files the manager's own cluster comes from: --kubeconfig, else those of $KUBECONFIG, else ~/.kube/config. */
function ownKubeconfigPaths(explicit: string | undefined): string[] {
  if (explicit !== undefined) return [explicit];
  const fromEnv = (process.env["KUBECONFIG"] ?? "").split(":").filter((p) => p !== "");
  return fromEnv.length > 0 ? fromEnv : [join(homedir(), ".kube", "config")];
}
