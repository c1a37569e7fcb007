/**
 * Desired state of one topology's data plane on one host: namespaces and wires. Validated
 * early and completely; every message names the field (`wires[3].a.ifname`).
 */
import { InvalidArgumentError } from "./errors.ts";
import { type Impairments, validateImpairments } from "./impairments.ts";
import {
  FABRIC_NODE,
  HOST_NETNS,
  SINK_IFNAME,
  fabricNetnsName,
  normalizeMac,
  parseOwnedNetnsName,
  validateCidr,
  validateIfname,
  validateIpAddress,
  validateMtu,
  validateNetnsName,
  validateTopologyId,
  validateUid,
  vniForUid,
} from "./names.ts";

/** One end of a wire: an interface in a namespace. */
export interface EndpointSpec {
  /** Namespace name (`kne.<topology>.<node>` for our nodes, any name for foreign ones, HOST_NETNS). */
  netns: string;
  ifname: string;
  mtu?: number;
  mac?: string;
  /** Admin state (default up). */
  adminUp?: boolean;
  /** Egress impairments of this endpoint. */
  impairments?: Impairments;
  /** A bridge in the endpoint's namespace that the device is a port of (it must exist). */
  master?: string;
  /** Addresses (address/prefix) the device carries; other addresses found on it are left alone. */
  addresses?: string[];
}

/** Two endpoints on this host joined by a veth pair. */
export interface VethWireSpec {
  kind: "veth";
  uid: string;
  a: EndpointSpec;
  b: EndpointSpec;
}

export interface VxlanUnderlay {
  /** Namespace whose routing carries the encapsulated packets (HOST_NETNS on a real host). */
  netns: string;
  local: string;
  remote: string;
  /** UDP port (default 4789). */
  dstPort?: number;
  /** Underlay device to bind to. */
  device?: string;
}

/** This host's end of a link whose other end is on another host. */
export interface VxlanWireSpec {
  kind: "vxlan";
  uid: string;
  endpoint: EndpointSpec;
  /** Default: `vniForUid(topology, uid)`; both hosts must agree. */
  vni?: number;
  underlay: VxlanUnderlay;
}

export type MacvlanMode = "bridge" | "private" | "vepa" | "passthru";

/** An endpoint attached to a host interface (the parent) through macvlan. */
export interface MacvlanWireSpec {
  kind: "macvlan";
  uid: string;
  endpoint: EndpointSpec;
  parent: { netns: string; ifname: string };
  /** Default "bridge". */
  mode?: MacvlanMode;
}

/** A LAN segment: a bridge in the topology's fabric namespace with a veth leg per member. */
export interface LanWireSpec {
  kind: "lan";
  uid: string;
  members: EndpointSpec[];
  /** MTU of the bridge and legs when a member does not say. */
  mtu?: number;
}

export type WireSpec = VethWireSpec | VxlanWireSpec | MacvlanWireSpec | LanWireSpec;

export interface NamespaceSpec {
  name: string;
  /** Bring `lo` up (default true). */
  loopbackUp?: boolean;
  /** Set net.ipv4.ip_forward and net.ipv6.conf.all.forwarding; undefined leaves them alone. */
  ipForwarding?: boolean;
}

/**
 * What a desired state is responsible for.
 * - "topology" (default): every object of the topology on this kernel; our namespaces and
 *   devices of the topology that the state does not name are removed.
 * - "listed": only the namespaces the state names (explicitly or through endpoints); others of
 *   the topology are left alone. For several agents sharing one kernel (tests that play
 *   several hosts); LAN segments then belong to one of them, as the fabric namespace is shared.
 */
export type DesiredScope = "topology" | "listed";

export interface DesiredState {
  topology: string;
  scope?: DesiredScope;
  /**
   * Namespaces to have. Our namespaces (`kne.<topology>.*`) named by endpoints are added
   * implicitly; ours that appear nowhere are deleted.
   */
  namespaces?: NamespaceSpec[];
  wires: WireSpec[];
}

/** Every endpoint of a wire, with its field path. */
export function wireEndpoints(wire: WireSpec): Array<{ endpoint: EndpointSpec; field: string }> {
  switch (wire.kind) {
    case "veth":
      return [
        { endpoint: wire.a, field: "a" },
        { endpoint: wire.b, field: "b" },
      ];
    case "vxlan":
    case "macvlan":
      return [{ endpoint: wire.endpoint, field: "endpoint" }];
    case "lan":
      return wire.members.map((m, i) => ({ endpoint: m, field: `members[${i}]` }));
  }
}

export function vniOf(topology: string, wire: VxlanWireSpec): number {
  return wire.vni ?? vniForUid(topology, wire.uid);
}

function validateEndpoint(ep: EndpointSpec, field: string, topology: string): void {
  validateNetnsName(ep.netns, `${field}.netns`);
  if (/^\d+$/.test(ep.netns)) throw new InvalidArgumentError("a namespace name of digits only would be read as a process id", `${field}.netns`);
  const owned = parseOwnedNetnsName(ep.netns);
  if (owned && owned.node === FABRIC_NODE) throw new InvalidArgumentError("endpoints cannot live in the fabric namespace", `${field}.netns`);
  if (owned && owned.topology !== topology) {
    throw new InvalidArgumentError(`namespace ${ep.netns} belongs to topology ${owned.topology}, not ${topology}`, `${field}.netns`);
  }
  validateIfname(ep.ifname, `${field}.ifname`);
  if (ep.ifname === "lo" || ep.ifname === SINK_IFNAME) throw new InvalidArgumentError(`${ep.ifname} is reserved`, `${field}.ifname`);
  if (ep.mtu !== undefined) validateMtu(ep.mtu, `${field}.mtu`);
  if (ep.mac !== undefined) normalizeMac(ep.mac, `${field}.mac`);
  if (ep.impairments) validateImpairments(ep.impairments, `${field}.impairments`);
  if (ep.master !== undefined) validateIfname(ep.master, `${field}.master`);
  ep.addresses?.forEach((a, i) => validateCidr(a, `${field}.addresses[${i}]`));
}

/** Throws `InvalidArgumentError` for the first problem; returns the state unchanged. */
export function validateDesiredState(desired: DesiredState): DesiredState {
  const topology = validateTopologyId(desired.topology);
  if (desired.scope !== undefined && desired.scope !== "topology" && desired.scope !== "listed") {
    throw new InvalidArgumentError(`scope ${String(desired.scope)} must be "topology" or "listed"`, "scope");
  }
  const endpointOwner = new Map<string, string>();
  const uniqueUids = new Set<string>();
  const vnis = new Map<string, string>();
  const nsNames = new Set<string>();
  (desired.namespaces ?? []).forEach((ns, i) => {
    validateNetnsName(ns.name, `namespaces[${i}].name`, false);
    const owned = parseOwnedNetnsName(ns.name);
    if (!owned || owned.topology !== topology || owned.node === FABRIC_NODE) {
      throw new InvalidArgumentError(`namespace ${ns.name} is not a node namespace of topology ${topology} (kne.${topology}.<node>)`, `namespaces[${i}].name`);
    }
    if (nsNames.has(ns.name)) throw new InvalidArgumentError(`namespace ${ns.name} is listed twice`, `namespaces[${i}].name`);
    nsNames.add(ns.name);
  });
  desired.wires.forEach((wire, w) => {
    const field = `wires[${w}]`;
    validateUid(wire.uid, `${field}.uid`);
    // vxlan and macvlan wires are keyed by their endpoint: the same link uid appears on two
    // hosts, and a test may play both hosts in one process.
    if (wire.kind === "veth" || wire.kind === "lan") {
      const key = `${wire.kind}:${wire.uid}`;
      if (uniqueUids.has(key)) throw new InvalidArgumentError(`${wire.kind} uid ${wire.uid} is used twice`, `${field}.uid`);
      uniqueUids.add(key);
    }
    for (const { endpoint, field: epField } of wireEndpoints(wire)) {
      validateEndpoint(endpoint, `${field}.${epField}`, topology);
      const key = `${endpoint.netns}\u0000${endpoint.ifname}`;
      const other = endpointOwner.get(key);
      if (other) throw new InvalidArgumentError(`interface ${endpoint.ifname} in ${endpoint.netns || "(host)"} is already used by ${other}`, `${field}.${epField}`);
      endpointOwner.set(key, field);
    }
    if (wire.kind === "vxlan") {
      const u = wire.underlay;
      validateNetnsName(u.netns, `${field}.underlay.netns`);
      validateIpAddress(u.local, `${field}.underlay.local`);
      validateIpAddress(u.remote, `${field}.underlay.remote`);
      if (u.local.includes(":") !== u.remote.includes(":")) throw new InvalidArgumentError("local and remote must be of one address family", `${field}.underlay`);
      if (u.dstPort !== undefined && (!Number.isInteger(u.dstPort) || u.dstPort < 1 || u.dstPort > 65535)) {
        throw new InvalidArgumentError(`port ${u.dstPort} must be in 1..65535`, `${field}.underlay.dstPort`);
      }
      if (u.device !== undefined) validateIfname(u.device, `${field}.underlay.device`);
      if (wire.vni !== undefined && (!Number.isInteger(wire.vni) || wire.vni < 1 || wire.vni > 0xffffff)) {
        throw new InvalidArgumentError(`VNI ${wire.vni} must be in 1..16777215`, `${field}.vni`);
      }
      const vni = vniOf(topology, wire);
      const vkey = `${u.netns}\u0000${u.dstPort ?? 4789}\u0000${vni}`;
      const clash = vnis.get(vkey);
      if (clash) throw new InvalidArgumentError(`VNI ${vni} on underlay ${u.netns || "(host)"} is already used by ${clash}; set an explicit vni`, `${field}.vni`);
      vnis.set(vkey, field);
    }
    if (wire.kind === "macvlan") {
      validateNetnsName(wire.parent.netns, `${field}.parent.netns`);
      validateIfname(wire.parent.ifname, `${field}.parent.ifname`);
      if (wire.mode !== undefined && !["bridge", "private", "vepa", "passthru"].includes(wire.mode)) {
        throw new InvalidArgumentError(`mode ${String(wire.mode)} must be bridge, private, vepa or passthru`, `${field}.mode`);
      }
    }
    if (wire.kind === "lan") {
      if (wire.members.length === 0) throw new InvalidArgumentError("a LAN needs at least one member", `${field}.members`);
      if (wire.mtu !== undefined) validateMtu(wire.mtu, `${field}.mtu`);
    }
  });
  return desired;
}

/** The namespaces the state asks for, explicit or implied, with defaults filled in. */
export function desiredNamespaces(desired: DesiredState): Map<string, Required<Pick<NamespaceSpec, "loopbackUp">> & NamespaceSpec> {
  const out = new Map<string, Required<Pick<NamespaceSpec, "loopbackUp">> & NamespaceSpec>();
  for (const ns of desired.namespaces ?? []) out.set(ns.name, { ...ns, loopbackUp: ns.loopbackUp ?? true });
  for (const wire of desired.wires) {
    for (const { endpoint } of wireEndpoints(wire)) {
      if (endpoint.netns !== HOST_NETNS && parseOwnedNetnsName(endpoint.netns) && !out.has(endpoint.netns)) {
        out.set(endpoint.netns, { name: endpoint.netns, loopbackUp: true });
      }
    }
  }
  if (desired.wires.some((w) => w.kind === "lan")) {
    const fabric = fabricNetnsName(desired.topology);
    out.set(fabric, { name: fabric, loopbackUp: false });
  }
  return out;
}
