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
 * - `KubernetesBackend` — topologies as `kne.dev` objects (Topology, Link, Device) in a
 *   cluster, made real by the in-process `TopologyReconciler` over watch caches.
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
} from "./services.ts";
export { WatchHub, type WatchHubOptions, type WatchHubStats, type HubEvent, type StreamSource } from "./watch-hub.ts";
export { LocalBackend, nodeCommand, type LocalBackendOptions } from "./local/local-backend.ts";
export { ManagementNetwork, defaultManagement, allocateAddresses, hostIfnameFor, type ManagementOptions } from "./local/management-network.ts";
export { StateStore, resolveStateDir, DEFAULT_STATE_DIR, STATE_DIR_ENV, type TopologyState, type NodeRecord, type NodeStatusFile } from "./local/state-store.ts";
export { runSupervisor, type SupervisorOptions } from "./local/supervisor.ts";
export { assignLinkUids, wiresRequest } from "./local/wires.ts";
export { createEmbeddedManager, createEmbeddedKubernetesManager, type EmbeddedManager, type EmbeddedKubernetesManager } from "./embedded.ts";
export { KubernetesBackend, type KubernetesBackendOptions } from "./kubernetes/kubernetes-backend.ts";
export { TopologyReconciler, type OperatorModeOption } from "./kubernetes/topology-reconciler.ts";
export { applyImageOverrides, parseImageOverrides, type ImageOverrides } from "./kubernetes/image-overrides.ts";
