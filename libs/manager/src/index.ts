/**
 * @kne/manager — the topology manager: the `kne.manager.v1` services (TopologyService,
 * LinkService, NodeService) and upstream's `controller.TopologyManager`, implemented once
 * over a `RuntimeBackend`, and the local backend (one Linux host, no Kubernetes).
 *
 * - `createManagerServices(backend, {limits, watch})` → Connect implementations; `managerRegistrations` for
 *   `startServer`, `registerManagerServices` for a router. Watches go through one `WatchHub`
 *   (shared backend subscriptions, revisions, resumable history, bounded queues per watcher).
 * - `LocalBackend` — namespaces and wires through the embedded agent, a management network
 *   (`kne-mgmt`, 198.19.0.0/16), vendor processes under a detached per-topology supervisor,
 *   state in a state directory (`KNE_STATE_DIR`, default /var/lib/kne).
 * - `createEmbeddedManager(options)` — the manager in-process behind a router transport (what
 *   the `kne` CLI uses unless told of a server).
 * - `createKubernetesBackend`, `createEmbeddedKubernetesManager` — topologies as `kne.dev`
 *   objects in a cluster; async, because the backend and the Kubernetes client load only
 *   then. The class itself: `@kne/manager/kubernetes` (an entry of its own, for tests and
 *   benchmarks that build one directly). `createKubecfgClusters` — the other clusters that
 *   upstream's CreateTopology names by `kubecfg` (see kubernetes/kubecfg-clusters.ts).
 */
export type {
  RuntimeBackend,
  TopologyView,
  ProgressEvent,
  CreateOptions,
  UpdateResult,
  ExecRequest,
  ExecOutcome,
  LogsRequest,
  LinkImpairments,
} from "./backend.ts";
export { ManagerError, toManagerConnectError, problemViolations, type ManagerCode } from "./errors.ts";
export { linkId, findLink, endpointRef } from "./link-ref.ts";
export { checkHostConstraints, readProcSys, type SysctlReader } from "./host-constraints.ts";
export {
  createManagerServices,
  managerRegistrations,
  registerManagerServices,
  prepareTopology,
  type ManagerServices,
  type ManagerServiceOptions,
  type ManagerLimits,
  type KubecfgClusterChooser,
  type ClusterLease,
} from "./services.ts";
export { WatchHub, type WatchHubOptions, type WatchHubStats, type HubEvent, type StreamSource } from "./watch-hub.ts";
export { LocalBackend, nodeCommand, type LocalBackendOptions } from "./local/local-backend.ts";
export { ManagementNetwork, defaultManagement, allocateAddresses, hostIfnameFor, type ManagementOptions } from "./local/management-network.ts";
export { StateStore, resolveStateDir, DEFAULT_STATE_DIR, STATE_DIR_ENV, type TopologyState, type NodeRecord, type NodeStatusFile } from "./local/state-store.ts";
export { runSupervisor, type SupervisorOptions } from "./local/supervisor.ts";
export { assignLinkUids, wiresRequest } from "./local/wires.ts";
export { createEmbeddedManager, type Embedded, type EmbeddedManager } from "./embedded.ts";
export { createKubernetesBackend, createEmbeddedKubernetesManager, createKubecfgClusters, type EmbeddedKubernetesManager } from "./kubernetes-loader.ts";
export type { KubecfgClusters, KubecfgClustersOptions, StartableBackend } from "./kubernetes/kubecfg-clusters.ts";
export type { KubernetesBackend, KubernetesBackendOptions } from "./kubernetes/kubernetes-backend.ts";
export { applyImageOverrides, parseImageOverrides, type ImageOverrides } from "./kubernetes/image-overrides.ts";
