/**
 * @kne/vendors — one folder per vendor kind (`src/<vendor>/`, its defaults beside it) and
 * one explicit registry (`vendorRegistry`, an array; importing a vendor registers nothing).
 *
 * - `resolveVendor(node)` — the node's vendor row with its model checked and defaults merged;
 *   unknown vendor or model → `UnsupportedVendorError` / `UnsupportedModelError` listing
 *   the supported ones.
 * - `requireLocalRuntime(node)` — the `LocalRuntime` of HOST, FRR, GOBGP and BIRD;
 *   other vendors → `BackendRequiredError` naming the backend they need.
 * - `mapInterfaceNames(node, names)` — the vendor's interface names → Linux interfaces in
 *   the node (Ciena `1/5/1` → `eth1`, SONiC `Ethernet0` → `eth1`), or why a name is refused.
 * - `withVendorDefaults(node)` — a copy with default model, services and labels filled in
 *   (`applyVendorDefaults(node)`: the same on the node itself).
 * - `LocalRuntime` — what the local backend calls: sysctls → prepare → processes (it
 *   spawns and supervises them in the node's namespace) → ready (poll; also after a
 *   restart) → pushConfig / resetConfig / saveConfig. `nsenterExec(netns)` is a ready `NodeExec`.
 * - `kubeObjectsForNode(input)` — what the kubernetes backend applies for one node
 *   (ConfigMaps, the pod(s) or the vendor operator's custom resource, the Service).
 */
export type {
  ContainerDefaults,
  InterfaceNames,
  InterfaceNaming,
  InterfaceNamingInput,
  ModelDefinition,
  RequiredBackend,
  ResolvedVendor,
  ServiceDefault,
  VendorDefaults,
  VendorDefinition,
} from "./vendor-definition";
export type {
  ExecOptions,
  ExecResult,
  LocalNodeContext,
  LocalRuntime,
  NodeExec,
  NodeProcessControl,
  ProcessSpec,
  ReadyResult,
} from "./local-runtime";
export {
  BackendRequiredError,
  ConfigRejectedError,
  LocalPreconditionError,
  KubeObjectsError,
  NodeCommandError,
  UnsupportedModelError,
  UnsupportedOperationError,
  UnsupportedVendorError,
  VendorError,
  type VendorErrorCode,
} from "./errors";
export {
  findVendorByName,
  localVendorNames,
  requireLocalRuntime,
  requireVendorDefinition,
  resolveVendor,
  supportedVendorNames,
  vendorEnumName,
  vendorRegistry,
  withVendorDefaults,
  mapInterfaceNames,
  type NodeInterfaceNames,
  applyVendorDefaults,
  applyConfigDefaults,
} from "./registry";
export { execHost, nsenterExec, NETNS_RUN_DIR } from "./node-exec";
export { MAX_SOCKET_PATH_BYTES } from "./node-files";
export { FRR_DAEMONS_ENV, defaultFrrConfig, frrDaemonsOf, frrPaths } from "./frr/frr";
export { daemonsForConfig, knownFrrDaemons, type FrrDaemon } from "./frr/frr-daemons";
export { GOBGP_API_PORT } from "./gobgp/gobgp";
export { gobgpConfigType, type GobgpConfigType } from "./gobgp/gobgp-config";
export { defaultBirdConfig } from "./bird/bird";
export { BOOT_CONFIG_ENV } from "./host/host";
export {
  DEFAULT_INIT_IMAGE,
  dns1123Subdomain,
  kubeObjectsForNode,
  NODE_LABEL,
  TOPOLOGY_LABEL,
  type KubeObject,
  type KubeObjectMeta,
  type NodeObjects,
  type NodeObjectsInput,
  type OperatorMode,
} from "./kube-objects";
