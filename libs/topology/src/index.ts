/**
 * @kne/topology — load (textproto | YAML | JSON) → validate → resolve → plan. Pure: no
 * I/O but reading topology and config files.
 *
 * - `loadTopology(file)` / `parseTopology(text, { format })` parse and keep a way back to
 *   the source, so that every problem names `file:line:col` and a field path.
 * - `validateTopology(topology, loaded)` returns every error and warning at once.
 * - `resolveTopology(topology)` fills interfaces from links, as upstream KNE does.
 * - Both take `interfaceNames` (the vendor registry's `mapInterfaceNames`; this library knows
 *   no vendor): names a vendor renames (Ciena `1/5/1` → `eth1`) are checked and resolved as
 *   the Linux interface they become; `linuxInterfaceOf(node, name)` finds it again.
 * - `planTopology(current, desired)` says what to add, remove and modify (`kne apply`).
 * - `serializeTopology(topology, format)` writes any of the three formats.
 */
export * from "./errors";
export {
  detectTopologyFormat,
  isTopologyFormat,
  knownTopologyExtensions,
  topologyFileExtension,
  topologyFormats,
  type TopologyFormat,
} from "./format";
export { parentPath, type SourceLocator } from "./field-path";
export { loadTopology, parseTopology, type LoadedTopology, type LoadTopologyOptions, type ParseTopologyOptions } from "./load";
export {
  assertValidTopology,
  hostAttachmentNode,
  managementInterface,
  resolveConfigPath,
  validateTopology,
  type ValidateOptions,
  type ValidationResult,
} from "./validate";
export {
  configFileNameProblem,
  labelKeyProblem,
  labelValueProblem,
  linuxInterfaceNameProblem,
  rfc1123LabelProblem,
  sysctlNameProblem,
} from "./names";
export { describeLink, linkEndpointsKey, linkWireKey } from "./links";
export {
  interfaceNamesByNode,
  linuxInterfaceOf,
  mapTopologyInterfaceNames,
  type InterfaceNameMapper,
  type MappedInterfaceNames,
} from "./interface-names";
export { resolveTopology, type ResolveOptions } from "./resolve";
export { planTopology, type Change, type ChangeSet, type TopologyPlan } from "./plan";
export { serializeTopology } from "./serialize";
export { parseTextFormat, toTextFormat, type TextFormatOptions, type TextFormatWriteOptions } from "./textformat";
