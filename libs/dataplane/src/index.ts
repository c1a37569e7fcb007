/**
 * @kne/dataplane — the Linux data plane of KNE: network namespaces, wires (veth, VXLAN,
 * macvlan, LAN segments on a bridge), link state, egress impairments and counters.
 *
 * How it talks to the kernel: external tools (`ip`, `tc`, `nft`, `nsenter`, `sysctl`) with
 * argument arrays, batched: one `ip -batch -` per namespace per phase (in-namespace setup of
 * many namespaces goes through one netlink helper process instead, netlink-helper.ts).
 * Single fast requests (link admin state, reading a namespace's links) go over rtnetlink
 * sockets of this process (rtnetlink.ts, rtnetlink-links.ts) where it can open them. Devices are created
 * directly in their target namespaces (`ip link add NAME netns A type veth peer name B netns
 * B`); moving devices between namespaces costs an RCU grace period each and is never used.
 *
 * Ownership (so garbage collection removes exactly our objects):
 * - namespaces: `kne.<topology>.<node>` and `kne.<topology>._fabric` (LAN bridges). Topology
 *   ids are DNS labels (no dots), so names split back unambiguously; netns names may be long.
 * - interfaces: alias `kne:<topology>:<uid>` (uid = wire uid; `_sink` for the loss sink).
 * - nft: table `netdev kne_<topology>` with one chain `eg_<ifname>` per impaired interface.
 *
 * Level-triggered use: describe the wanted state (`DesiredState`), call `converge` — observe
 * (`observeForReconcile`), plan (`planReconcile`, pure), apply (`applyOperations`). Direct
 * calls (`setLinkState`, `setImpairments`, `createNamespaces`...) serve tools and tests.
 *
 * Kernel gaps are errors, not silence: an impairment that needs `sch_netem` on a kernel without
 * it fails with `KernelFeatureMissingError` (code FAILED_PRECONDITION, `feature: "sch_netem"`).
 */
export {
  DataplaneError,
  InvalidArgumentError,
  KernelFeatureMissingError,
  ToolMissingError,
  KernelObjectExistsError,
  KernelObjectNotFoundError,
  KernelPermissionError,
  KernelCommandError,
  PlanConflictError,
  ApplyError,
  translateCommandFailure,
  summarizeStderr,
  type DataplaneCode,
  type CommandContext,
  type KernelFeature,
} from "./errors.ts";

export {
  HOST_NETNS,
  NETNS_PREFIX,
  FABRIC_NODE,
  SINK_IFNAME,
  MAX_IFNAME_BYTES,
  validateTopologyId,
  validateNodeName,
  validateUid,
  validateIfname,
  validateNetnsName,
  validateMtu,
  validateIpAddress,
  validateCidr,
  normalizeMac,
  nodeNetnsName,
  fabricNetnsName,
  parseOwnedNetnsName,
  isOwnedNetns,
  ownerAlias,
  parseOwnerAlias,
  bridgeIfname,
  legIfname,
  nftTableName,
  nftChainName,
  vniForUid,
  type EndpointRef,
  type OwnedNetnsName,
  type OwnerMarker,
} from "./names.ts";

export { processRunner, mapLimit, toolEnvironment, trySetNice, DEFAULT_CONCURRENCY, type CommandRunner, type CommandResult, type RunOptions } from "./command-runner.ts";

export { runMultiplexed, splitMultiplexedStderr, DEFAULT_MULTIPLEX_FROM, type MultiplexedOutcome, type MultiplexedRun } from "./process-multiplexer.ts";

export { helperSupports, splitHelperOutput, NETLINK_HELPER_FROM } from "./netlink-helper.ts";

export {
  PHASES,
  groupIntoBatches,
  batchLine,
  batchText,
  batchCommand,
  batchInput,
  toolArgv,
  nsenterPrefix,
  parseBatchFailures,
  type Phase,
  type Tool,
  type KernelOperation,
  type Batch,
  type BatchFailures,
} from "./batch.ts";

export { applyOperations, applyOperationsOrThrow, type ExecutorOptions, type ApplyReport, type OperationFailure } from "./executor.ts";

export {
  listNetns,
  listNetnsEntries,
  observeNamespace,
  observeNamespaces,
  readQdiscs,
  readNftTable,
  parseIpLink,
  parseIpLinkEntry,
  parseNetconf,
  parseObserveBatch,
  parseTcQdiscs,
  parseNftTable,
  splitJsonDocuments,
  type ObservedState,
  type ObservedNamespace,
  type ObservedInterface,
  type ObservedVxlan,
  type ObservedQdisc,
  type ObservedNftTable,
  type ObservedNftChain,
  type ObservedForwarding,
  type InterfaceCounters,
  type ObserveRequest,
  type ObserveOptions,
} from "./observe.ts";

export { probeKernelFeatures, detectKernelFeatures, type KernelFeatures } from "./capabilities.ts";

export {
  validateImpairments,
  hasImpairments,
  requiredFeatures,
  assertFeatures,
  qdiscArgs,
  nftSetLossScript,
  nftClearLossScript,
  lossThreshold,
  type Impairments,
} from "./impairments.ts";

export {
  validateDesiredState,
  desiredNamespaces,
  wireEndpoints,
  vniOf,
  type DesiredState,
  type DesiredScope,
  type NamespaceSpec,
  type WireSpec,
  type EndpointSpec,
  type VethWireSpec,
  type VxlanWireSpec,
  type VxlanUnderlay,
  type MacvlanWireSpec,
  type MacvlanMode,
  type LanWireSpec,
} from "./desired-state.ts";

export { planReconcile, observationRequests, type Plan, type PlanOptions } from "./reconcile.ts";

export { converge, convergeOrThrow, observeForReconcile, type ConvergeOptions, type ConvergeResult } from "./converge.ts";

export {
  createNamespaces,
  deleteNamespaces,
  listOwnedNamespaces,
  execInNamespace,
  spawnInNamespace,
  setSysctls,
  type CreateNamespacesOptions,
  type OwnedNamespace,
} from "./namespaces.ts";

export {
  setLinkState,
  readInterface,
  readInterfaces,
  refreshLink,
  waitForLinkState,
  watchLinks,
  type WatchLinksOptions,
  parseMonitorLine,
  splitMonitorStamp,
  type LinkEvent,
  type LinkWatch,
} from "./link-state.ts";

export { setImpairments, clearImpairments, type ImpairmentControlOptions } from "./impairment-control.ts";

export { collectGarbage, deleteTopology, type KeepSet, type GarbageCollectionOptions, type GarbageReport } from "./garbage-collection.ts";

export { ringState, type RingOptions } from "./ring.ts";

export { RouteNetlink, routeNetlinkUnavailable, encodeSetLinkAdmin, parseAnswer, type RouteNetlinkOptions, type NetlinkAnswer } from "./rtnetlink.ts";
export { encodeGetLink, encodeGetLinks, parseLinkMessages, readLinksNetlink } from "./rtnetlink-links.ts";
