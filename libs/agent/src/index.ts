/**
 * @kne/agent — the topology agent's service: `kne.agent.v1.AgentService` over the Linux data
 * plane (@kne/dataplane). One agent per host makes and keeps the wires of the nodes on its
 * host, their link state and impairments, and reports interfaces and counters.
 *
 * - Declarative: ApplyWires carries the whole desired data plane of a topology with a
 *   generation; older generations are refused (FAILED_PRECONDITION), a reused generation
 *   with other content is ABORTED. The state is persisted (tmp + fsync + rename) before the
 *   kernel is touched; SetLinkState/SetImpairments append to a per-topology journal.
 * - Level-triggered: a pass compiles the persisted state and calls the data plane's
 *   `converge`; passes of one topology are serialized, topologies run in parallel, failed
 *   passes retry with backoff, and everything is re-converged periodically. Kill -9 at any
 *   point and restart: `start()` reloads the state and converges to it.
 * - Cross-host wires are VXLAN; after its pass the agent calls PrepareTunnel on the agent at
 *   the other end (gRPC, h2c), which records and converges its end.
 * - Link state goes through a long-lived `ip -batch` per namespace (sub-millisecond) instead
 *   of a process per call.
 *
 * - Cluster mode (`ClusterWiring`): the agent on a Kubernetes node derives that desired state
 *   itself from the topologies' `Link` objects and the pod namespaces its chained CNI plugin
 *   (`cni/kne-cni.mjs`, installed by `installCniPlugin`) hands off.
 *
 * Use: `createAgentService({ stateDir, underlayAddress, logger })`, register
 * `service`/`impl` with `startServer`, call `start()`; `stop()` on shutdown.
 */
export { agentQuietMethods, createAgentService, type AgentService, type AgentServiceImpl } from "./agent-service.ts";
export { resolveAgentOptions, systemClock, type AgentServiceOptions, type ResolvedAgentOptions, type Clock } from "./agent-options.ts";
export { createPeerClients, type PeerClient, type PeerClientFactory, type PeerClients } from "./peer-clients.ts";
export { toAgentConnectError, AgentError } from "./errors.ts";
export {
  compileTopology,
  impairmentsFromProto,
  endpointKey,
  type CompiledTopology,
  type CompileContext,
  type LocalEndpointInfo,
  type PeerTunnel,
  type PreparedTunnel,
  type EndpointOverride,
} from "./desired-wires.ts";
export { LinkStateSessions, type LinkStateSessionsOptions } from "./link-state-sessions.ts";
export type { PassOutcome } from "./topology-reconciler.ts";
export { ClusterWiring, type ClusterWiringOptions } from "./cluster/cluster-wiring.ts";
export { clusterWires, parseEndpoint, type ClusterWires, type LinkObjectLike, type LocalPod, type SkippedLink } from "./cluster/cluster-wires.ts";
export { readHandoffs, sandboxOf, netnsNameOfPath, watchHandoffs, type PodHandoff } from "./cluster/pod-handoff.ts";
export { installCniPlugin, installNodeRuntime, uninstallCniPlugin, activeConflist, cniPluginSource, CNI_PLUGIN_TYPE, type CniInstallOptions, type CniInstallReport } from "./cluster/cni-install.ts";
