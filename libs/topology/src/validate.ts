/**
 * Validation: everything that can be known about a topology before anything is created.
 * It collects every problem instead of stopping at the first, so that a user fixes a file
 * in one pass, and it separates errors (the topology cannot be created) from warnings
 * (it can, but something is probably not what was meant).
 */
import { statSync } from "node:fs";
import { isAbsolute, resolve as resolvePath } from "node:path";
import { equals, type DescEnum } from "@bufbuild/protobuf";
import { anyUnpack } from "@bufbuild/protobuf/wkt";
import { alpine, ciena, topo, vendorDataRegistry } from "@kne/proto";
import { hostAttachmentNode, managementInterface } from "./constants";
import { TopologyValidationError, type Problem } from "./errors";
import { appendField, appendIndex, type SourceLocator } from "./field-path";
import { type InterfaceNameMapper, type MappedInterfaceNames, mapTopologyInterfaceNames } from "./interface-names";
import { describeLink, linkEndpointsKey } from "./links";
import {
  configFileNameProblem,
  labelKeyProblem,
  labelValueProblem,
  linuxInterfaceNameProblem,
  rfc1123LabelProblem,
  sysctlNameProblem,
} from "./names";

export interface ValidateOptions {
  /** The topology's file, named in every problem. */
  file?: string;
  /**
   * The directory that relative config files (`config.file`, vendor data files) are read
   * from: the topology file's directory. Without it, those files are not checked — as
   * for a topology that arrives over the API, whose files were inlined by the client.
   */
  baseDir?: string;
  /** Finds the line and column of a source path (from loadTopology/parseTopology). */
  locate?: SourceLocator;
  /** Whether a regular file exists; replaceable in tests. */
  fileExists?: (path: string) => boolean;
  /**
   * The vendors' interface naming (`mapInterfaceNames` of `@kne/vendors`): names a vendor
   * renames (Ciena `1/5/1`) are checked as the Linux interface they become. Without it every
   * name must be a Linux interface name as written.
   */
  interfaceNames?: InterfaceNameMapper;
}

/** Every problem found: errors make the topology unusable, warnings do not. */
export interface ValidationResult {
  errors: Problem[];
  warnings: Problem[];
}

export { hostAttachmentNode, managementInterface };

/**
 * The vendor_data message each vendor reads (upstream unpacks exactly this type and fails
 * on any other). Vendors not listed here ignore vendor_data.
 */
const vendorDataTypeByVendor = new Map<topo.Vendor, string>([
  [topo.Vendor.ARISTA, "ceos.CEosLabConfig"],
  [topo.Vendor.ALPINE, "alpine.AlpineConfig"],
  [topo.Vendor.CIENA, "ciena.CienaConfig"],
  [topo.Vendor.FORWARD, "forward.ForwardConfig"],
]);

/** Resolves a config file named in a topology: relative paths are relative to the topology's directory. */
export function resolveConfigPath(baseDir: string, file: string): string {
  return isAbsolute(file) ? file : resolvePath(baseDir, file);
}

/** Validates a topology and returns every problem; never throws for a bad topology. */
export function validateTopology(topology: topo.Topology, options: ValidateOptions = {}): ValidationResult {
  if (options.baseDir !== undefined && options.baseDir === "") {
    throw new TypeError("validateTopology: baseDir must be a directory path or left out, not an empty string");
  }
  return new TopologyValidator(topology, options).run();
}

/** Throws TopologyValidationError carrying every error when there is at least one. */
export function assertValidTopology(result: ValidationResult): void {
  if (result.errors.length > 0) throw new TopologyValidationError(result.errors);
}

function regularFileExists(path: string): boolean {
  return statSync(path, { throwIfNoEntry: false })?.isFile() ?? false;
}

/** Where a problem is: the path users read (`nodes[r1]`) and the path its position is found by (`nodes[0]`). */
class Where {
  constructor(
    readonly display: string,
    readonly source: string,
  ) {}

  field(name: string): Where {
    return new Where(appendField(this.display, name), appendField(this.source, name));
  }

  entry(key: string | number): Where {
    return new Where(appendIndex(this.display, key), appendIndex(this.source, key));
  }
}

const root = new Where("", "");

function enumHas(desc: DescEnum, value: number): boolean {
  return desc.values.some((v) => v.number === value);
}

interface Endpoint {
  node: string;
  interface: string;
}

class TopologyValidator {
  private readonly errors: Problem[] = [];
  private readonly warnings: Problem[] = [];
  private readonly fileExists: (path: string) => boolean;
  /** Index of the first node with each name. */
  private readonly nodeIndex = new Map<string, number>();
  private readonly segmentIndex = new Map<string, number>();
  /** Which link or segment already wired `node:interface`. */
  private readonly wiredBy = new Map<string, string>();
  /** Links by their four endpoint fields, to find exact duplicates without comparing every pair. */
  private readonly linksByEndpoints = new Map<string, number[]>();
  /** How many LAN links name each segment. */
  private readonly lanLinkCount = new Map<string, number>();
  /** Each node's interface names as its vendor maps them. */
  private readonly naming: Map<string, MappedInterfaceNames>;

  constructor(
    private readonly topology: topo.Topology,
    private readonly options: ValidateOptions,
  ) {
    this.fileExists = options.fileExists ?? regularFileExists;
    this.naming = mapTopologyInterfaceNames(topology, options.interfaceNames);
  }

  /**
   * The Linux interface a data interface name written for a node is, or why it cannot be
   * one: the vendor refuses it, or what it maps to is no Linux name (too long, `/`, `..`).
   */
  private dataInterface(node: string, written: string): { linux: string } | { problem: string } {
    const naming = this.naming.get(node);
    const rule = naming ? ` (${naming.vendor}: ${naming.rule})` : "";
    const refused = naming?.problems.get(written);
    if (refused !== undefined) return { problem: `interface name "${written}" ${refused}${rule}` };
    const linux = naming?.linux.get(written) ?? written;
    const problem = linuxInterfaceNameProblem(linux);
    if (problem === undefined) return { linux };
    if (linux === written) return { problem: `interface name "${written}" ${problem}${rule}` };
    return { problem: `interface name "${written}" is the Linux interface "${linux}", which ${problem}${rule}` };
  }

  /** `"1/5/1"`, or `"1/5/1" (Linux eth1)` when the vendor renames it. */
  private static shown(written: string, linux: string): string {
    return linux === written ? written : `${written} (Linux ${linux})`;
  }

  run(): ValidationResult {
    this.checkTopologyName();
    this.topology.nodes.forEach((node, index) => this.checkNode(node, index));
    this.indexSegments();
    this.topology.links.forEach((link, index) => this.checkLink(link, index));
    this.topology.segments.forEach((segment, index) => this.checkSegment(segment, index));
    return { errors: this.errors, warnings: this.warnings };
  }

  private problem(where: Where, message: string): Problem {
    const position = this.options.locate?.(where.source);
    return { file: this.options.file, line: position?.line, col: position?.col, path: where.display, message };
  }

  private error(where: Where, message: string): void {
    this.errors.push(this.problem(where, message));
  }

  private warning(where: Where, message: string): void {
    this.warnings.push(this.problem(where, message));
  }

  private checkTopologyName(): void {
    const name = this.topology.name;
    if (name === "") {
      this.error(root.field("name"), "topology name is empty (it names the Kubernetes namespace and the state directory)");
      return;
    }
    const problem = rfc1123LabelProblem(name);
    if (problem) this.error(root.field("name"), `topology name "${name}" ${problem}`);
  }

  /** Nodes are shown by name when the name identifies them, by position otherwise. */
  private nodeWhere(node: topo.Node, index: number): Where {
    const usable = node.name !== "" && rfc1123LabelProblem(node.name) === undefined && this.nodeIndex.get(node.name) === index;
    return new Where(appendIndex("nodes", usable ? node.name : index), appendIndex("nodes", index));
  }

  private checkNode(node: topo.Node, index: number): void {
    const first = this.nodeIndex.get(node.name);
    if (first === undefined) this.nodeIndex.set(node.name, index);
    const where = this.nodeWhere(node, index);
    const nameProblem = rfc1123LabelProblem(node.name);
    if (node.name === "") this.error(where.field("name"), "node name is empty");
    else if (nameProblem) this.error(where.field("name"), `node name "${node.name}" ${nameProblem}`);
    else if (first !== undefined) this.error(where.field("name"), `duplicate node name "${node.name}" (first used by nodes[${first}])`);

    if (!enumHas(topo.VendorSchema, node.vendor)) this.error(where.field("vendor"), `unknown vendor number ${node.vendor}`);
    if (!enumHas(topo.Node_TypeSchema, node.type)) this.error(where.field("type"), `unknown node type number ${node.type}`);

    for (const [key, value] of Object.entries(node.labels)) {
      const keyProblem = labelKeyProblem(key);
      if (keyProblem) this.error(where.field("labels").entry(key), `label key "${key}" ${keyProblem}`);
      const valueProblem = labelValueProblem(value);
      if (valueProblem) this.error(where.field("labels").entry(key), `label value "${value}" ${valueProblem}`);
    }

    for (const [name, intf] of Object.entries(node.interfaces)) {
      const at = where.field("interfaces").entry(name);
      const data = this.dataInterface(node.name, name);
      if ("problem" in data) this.error(at, data.problem);
      if (intf.mtu !== 0 && (intf.mtu < 68 || intf.mtu > 65535)) {
        this.error(at.field("mtu"), `mtu ${intf.mtu} is outside 68..65535`);
      }
      if (!enumHas(topo.Interface_InterfaceTypeSchema, intf.type)) {
        this.error(at.field("type"), `unknown interface type number ${intf.type}`);
      }
    }

    for (const [key, service] of Object.entries(node.services)) {
      const at = where.field("services").entry(key);
      const outside = Number(key);
      if (!(outside >= 1 && outside <= 65535)) this.error(at, `service port ${key} is outside 1..65535`);
      if (!(service.inside >= 1 && service.inside <= 65535)) {
        this.error(at.field("inside"), `inside port ${service.inside} is outside 1..65535`);
      }
      if (service.outside !== 0 && service.outside !== outside) {
        this.warning(at.field("outside"), `outside ${service.outside} differs from the map key ${key}; the key is the outside port`);
      }
    }

    node.hostConstraints.forEach((constraint, i) => {
      const at = where.field("host_constraints").entry(i);
      if (constraint.constraint.case !== "kernelConstraint") return;
      const kernel = constraint.constraint.value;
      const problem = sysctlNameProblem(kernel.name);
      if (problem) this.error(at.field("kernel_constraint").field("name"), `kernel parameter "${kernel.name}" ${problem}`);
      if (kernel.ConstraintType.case === "boundedInteger") {
        const { minValue, maxValue } = kernel.ConstraintType.value;
        if (maxValue !== 0n && minValue > maxValue) {
          this.error(at.field("kernel_constraint").field("bounded_integer"), `min_value ${minValue} is greater than max_value ${maxValue}`);
        }
      }
    });

    if (node.config) this.checkConfig(node, node.config, where.field("config"));
  }

  private checkConfig(node: topo.Node, config: topo.Config, where: Where): void {
    if (config.configData.case === "file") {
      this.checkFile(config.configData.value, where.field("file"), "config file");
    }
    if (config.configFile !== "") {
      const problem = configFileNameProblem(config.configFile);
      if (problem) this.error(where.field("config_file"), `config_file "${config.configFile}" ${problem}`);
    }
    if (config.vendorData) this.checkVendorData(node, config.vendorData, where.field("vendor_data"));
  }

  private checkFile(file: string, where: Where, what: string): void {
    if (file === "") {
      this.error(where, `${what} name is empty`);
      return;
    }
    const baseDir = this.options.baseDir;
    if (baseDir === undefined) return;
    const path = resolveConfigPath(baseDir, file);
    if (!this.fileExists(path)) this.error(where, `${what} "${file}" not found (looked for ${path})`);
  }

  private checkVendorData(node: topo.Node, any: NonNullable<topo.Config["vendorData"]>, where: Where): void {
    const typeName = any.typeUrl.slice(any.typeUrl.lastIndexOf("/") + 1);
    const expected = vendorDataTypeByVendor.get(node.vendor);
    const vendorName = topo.VendorSchema.value[node.vendor]?.name ?? String(node.vendor);
    if (expected === undefined) {
      this.warning(where, `vendor ${vendorName} does not read vendor_data; it is ignored`);
      return;
    }
    if (typeName !== expected) {
      this.error(where, `vendor ${vendorName} reads vendor_data of type ${expected}, got ${typeName || "no type"}`);
      return;
    }
    let payload;
    try {
      payload = anyUnpack(any, vendorDataRegistry);
    } catch (error) {
      this.error(where, `vendor_data does not decode as ${expected}: ${error instanceof Error ? error.message : String(error)}`);
      return;
    }
    if (!payload) {
      this.error(where, `vendor_data type ${typeName} is not known`);
      return;
    }
    if (payload.$typeName === "alpine.AlpineConfig") {
      const files = (payload as alpine.AlpineConfig).files;
      for (const [name, data] of Object.entries(files?.files ?? {})) {
        const at = where.field("files").field("files").entry(name);
        const problem = configFileNameProblem(name);
        if (problem) this.error(at, `file name "${name}" ${problem}`);
        if (data.fileData.case === "file") this.checkFile(data.fileData.value, at.field("file"), "file");
      }
    }
    if (payload.$typeName === "ciena.CienaConfig") {
      const equipment = (payload as ciena.CienaConfig).systemEquipment;
      // Upstream reads this file whenever vendor_data is present.
      this.checkFile(equipment?.equipmentJson ?? "", where.field("system_equipment").field("equipment_json"), "equipment JSON file");
    }
  }

  private indexSegments(): void {
    this.topology.segments.forEach((segment, index) => {
      if (!this.segmentIndex.has(segment.name)) this.segmentIndex.set(segment.name, index);
    });
  }

  private linkWhere(index: number): Where {
    return root.field("links").entry(index);
  }

  private checkLink(link: topo.Link, index: number): void {
    const where = this.linkWhere(index);
    const endpointsKey = linkEndpointsKey(link);
    const sameEndpoints = this.linksByEndpoints.get(endpointsKey) ?? [];
    const duplicateOf = sameEndpoints.find((i) => equals(topo.LinkSchema, this.topology.links[i]!, link));
    if (duplicateOf !== undefined) {
      // Upstream's own test data lists a link twice; refusing it would refuse their file.
      this.warning(where, `same link as links[${duplicateOf}]; the duplicate is ignored`);
      return;
    }
    this.linksByEndpoints.set(endpointsKey, [...sameEndpoints, index]);
    if (link.kind === topo.LinkKind.LAN_SEGMENT) this.lanLinkCount.set(link.zNode, (this.lanLinkCount.get(link.zNode) ?? 0) + 1);
    if (!enumHas(topo.LinkKindSchema, link.kind)) this.error(where.field("kind"), `unknown link kind number ${link.kind}`);
    if (!enumHas(topo.LinkStateSchema, link.adminState)) {
      this.error(where.field("admin_state"), `unknown link state number ${link.adminState}`);
    }
    const aLinux = this.checkNodeEndpoint(where, "a", link.aNode, link.aInt);

    switch (link.kind) {
      case topo.LinkKind.LAN_SEGMENT: {
        if (link.zNode === "") this.error(where.field("z_node"), "a LAN segment link needs z_node naming a segment");
        else if (!this.segmentIndex.has(link.zNode)) {
          this.error(where.field("z_node"), `unknown segment "${link.zNode}"${this.nodeIndex.has(link.zNode) ? " (it is a node; a LAN segment link names a segment)" : ""}`);
        }
        if (link.zInt !== "") this.warning(where.field("z_int"), "z_int is ignored on a LAN segment link");
        if (aLinux !== undefined) this.wire({ node: link.aNode, interface: link.aInt }, aLinux, where.field("a_int"), `links[${index}]`);
        break;
      }
      case topo.LinkKind.HOST_ATTACHMENT: {
        if (link.zNode !== hostAttachmentNode) {
          this.error(where.field("z_node"), `a host attachment link has z_node "${hostAttachmentNode}", got "${link.zNode}"`);
        }
        const problem = linuxInterfaceNameProblem(link.zInt);
        if (problem) this.error(where.field("z_int"), `host interface name "${link.zInt}" ${problem}`);
        if (aLinux !== undefined) this.wire({ node: link.aNode, interface: link.aInt }, aLinux, where.field("a_int"), `links[${index}]`);
        break;
      }
      default: {
        const zLinux = this.checkNodeEndpoint(where, "z", link.zNode, link.zInt);
        const sameInterface = aLinux !== undefined ? aLinux === zLinux : link.aInt === link.zInt;
        if (link.aNode === link.zNode && sameInterface && link.aNode !== "") {
          this.error(where, `link ${describeLink(link)} connects an interface to itself`);
          return;
        }
        if (aLinux !== undefined) this.wire({ node: link.aNode, interface: link.aInt }, aLinux, where.field("a_int"), `links[${index}]`);
        if (zLinux !== undefined) this.wire({ node: link.zNode, interface: link.zInt }, zLinux, where.field("z_int"), `links[${index}]`);
      }
    }
    this.checkImpairments(link.impairments, where.field("impairments"));
    this.checkImpairments(link.aToZ, where.field("a_to_z"));
    this.checkImpairments(link.zToA, where.field("z_to_a"));
  }

  /** Checks one node end of a link; its Linux interface when it names an existing node and a usable interface. */
  private checkNodeEndpoint(where: Where, side: "a" | "z", node: string, intf: string): string | undefined {
    let valid = true;
    const nodeField = where.field(`${side}_node`);
    const intField = where.field(`${side}_int`);
    if (node === "") {
      this.error(nodeField, `${side}_node is empty`);
      valid = false;
    } else if (!this.nodeIndex.has(node)) {
      const hint = this.segmentIndex.has(node) ? ` ("${node}" is a segment: set kind: LINK_KIND_LAN_SEGMENT and name it in z_node)` : "";
      this.error(nodeField, `unknown node "${node}"${hint}`);
      valid = false;
    }
    const data = this.dataInterface(node, intf);
    if ("problem" in data) {
      this.error(intField, data.problem);
      return undefined;
    }
    if (data.linux === managementInterface) {
      this.error(intField, `${TopologyValidator.shown(intf, data.linux)} is the management interface and cannot be a data link`);
      return undefined;
    }
    return valid ? data.linux : undefined;
  }

  /** Records that `by` wires an endpoint (by its Linux interface); an endpoint may be wired once. */
  private wire(endpoint: Endpoint, linux: string, where: Where, by: string): void {
    const key = `${endpoint.node}\u0000${linux}`;
    const earlier = this.wiredBy.get(key);
    if (earlier !== undefined) {
      this.error(where, `interface ${endpoint.node}:${TopologyValidator.shown(endpoint.interface, linux)} is already wired by ${earlier}`);
      return;
    }
    this.wiredBy.set(key, by);
  }

  private checkImpairments(impairments: topo.Impairments | undefined, where: Where): void {
    if (!impairments) return;
    const percentages: [keyof topo.Impairments & string, string][] = [
      ["lossPercent", "loss_percent"],
      ["corruptionPercent", "corruption_percent"],
      ["duplicationPercent", "duplication_percent"],
      ["reorderPercent", "reorder_percent"],
    ];
    for (const [property, field] of percentages) {
      const value = impairments[property] as number;
      if (!(value >= 0 && value <= 100)) this.error(where.field(field), `${field} ${value} is outside 0..100`);
    }
    if (impairments.jitterUs !== 0 && impairments.delayUs === 0) {
      this.error(where.field("jitter_us"), "jitter_us needs a delay_us: jitter varies a delay");
    }
    if (impairments.reorderPercent > 0 && impairments.delayUs === 0) {
      this.error(where.field("reorder_percent"), "reorder_percent needs a delay_us: packets are reordered by sending some without the delay");
    }
  }

  private checkSegment(segment: topo.Segment, index: number): void {
    const first = this.segmentIndex.get(segment.name);
    const usable = segment.name !== "" && first === index && rfc1123LabelProblem(segment.name) === undefined;
    const where = new Where(appendIndex("segments", usable ? segment.name : index), appendIndex("segments", index));
    const problem = rfc1123LabelProblem(segment.name);
    if (problem) this.error(where.field("name"), `segment name "${segment.name}" ${problem}`);
    else if (first !== index) this.error(where.field("name"), `duplicate segment name "${segment.name}" (first used by segments[${first}])`);
    else if (this.nodeIndex.has(segment.name)) this.error(where.field("name"), `segment name "${segment.name}" is also a node name`);

    segment.endpoints.forEach((endpoint, i) => {
      const at = where.field("endpoints").entry(i);
      let valid = true;
      if (!this.nodeIndex.has(endpoint.node)) {
        this.error(at.field("node"), endpoint.node === "" ? "node is empty" : `unknown node "${endpoint.node}"`);
        valid = false;
      }
      const data = this.dataInterface(endpoint.node, endpoint.interface);
      if ("problem" in data) {
        this.error(at.field("interface"), data.problem);
        valid = false;
      } else if (data.linux === managementInterface) {
        this.error(at.field("interface"), `${TopologyValidator.shown(endpoint.interface, data.linux)} is the management interface and cannot be a data link`);
        valid = false;
      }
      if (valid && "linux" in data) this.wire(endpoint, data.linux, at.field("interface"), `segments[${segment.name || index}]`);
    });

    const lanLinks = first === index ? (this.lanLinkCount.get(segment.name) ?? 0) : 0;
    if (segment.endpoints.length + lanLinks < 2) {
      this.warning(where, `segment "${segment.name}" joins fewer than two interfaces`);
    }
  }
}
