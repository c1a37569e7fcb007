/**
 * From the contract to the data plane: an `ApplyWiresRequest` (plus the agent's own additions:
 * per-endpoint overrides from SetLinkState/SetImpairments, tunnels a peer prepared through
 * PrepareTunnel, remote underlay addresses learned from peers) compiles into one
 * `DesiredState` for `converge`, an index of local endpoints, the peers to tell about
 * cross-host wires, and the addresses to put on endpoints.
 *
 * Checked early, with request field paths (`wires[2].a.interface`), before anything is
 * persisted or touches the kernel.
 */
import { agentv1, topo } from "@kne/proto";
import {
  type DesiredScope,
  type DesiredState,
  type EndpointSpec,
  HOST_NETNS,
  type Impairments,
  InvalidArgumentError,
  type LanWireSpec,
  type NamespaceSpec,
  type WireSpec,
  nodeNetnsName,
  normalizeMac,
  parseOwnedNetnsName,
  validateCidr,
  validateDesiredState,
  validateIfname,
  validateImpairments,
  validateIpAddress,
  validateMtu,
  validateNetnsName,
  validateNodeName,
  validateTopologyId,
  validateUid,
  vniForUid,
} from "@kne/dataplane";

/** `node/interface`: how the agent names a local endpoint (node names contain no '/'). */
export function endpointKey(node: string, iface: string): string {
  return `${node}/${iface}`;
}

/**
 * What SetLinkState and SetImpairments changed on an endpoint since the last ApplyWires;
 * `impairments: {}` means "cleared".
 */
export interface EndpointOverride {
  adminUp?: boolean;
  impairments?: Impairments;
}

/** This host's end of a cross-host wire that a peer asked for through PrepareTunnel. */
export interface PreparedTunnel {
  uid: string;
  node: string;
  interface: string;
  mtu?: number;
  /** The peer's underlay address. */
  remoteUnderlay: string;
  vni: number;
}

/** One local endpoint: where it lives in the kernel. */
export interface LocalEndpointInfo {
  node: string;
  interface: string;
  netns: string;
  ifname: string;
  /** uid of the wire (or segment) it belongs to. */
  wireUid: string;
}

/** A cross-host wire whose far end's agent we tell about it (PrepareTunnel). */
export interface PeerTunnel {
  uid: string;
  vni: number;
  local: { node: string; interface: string; mtu: number };
  remote: { node: string; interface: string; agentAddress: string; underlayAddress: string };
}

export interface CompiledTopology {
  desired: DesiredState;
  endpoints: Map<string, LocalEndpointInfo>;
  /** The endpoint specs inside `desired`, by endpoint key: SetLinkState/SetImpairments patch them. */
  specs: Map<string, EndpointSpec>;
  /**
   * The other end of each endpoint whose wire has exactly two ends on this host (a veth),
   * by endpoint key: its carrier follows this end's admin state.
   */
  farEnds: Map<string, LocalEndpointInfo>;
  peers: PeerTunnel[];
  /** `ip addr` wanted on endpoints (added when missing; others are left alone). */
  addresses: Array<{ netns: string; ifname: string; cidr: string }>;
  /** Cross-host wires left out of this pass, and why (the peer's underlay is not known yet). */
  pending: string[];
  /** Every namespace the topology uses on this host (ours and foreign). */
  namespaces: Set<string>;
  /** Wires as the request counts them (a LAN member is one), tunnels for peers included. */
  wireCount: number;
}

export interface CompileContext {
  /** This host's underlay address when the request does not say. */
  underlayAddress?: string;
  /** Where VXLAN sockets live and host interfaces are (HOST_NETNS: where the agent runs). */
  hostNetns: string;
  scope: DesiredScope;
  /** Remote underlay addresses learned from peers, by wire uid. */
  learnedUnderlay?: Readonly<Record<string, string>>;
  tunnels?: readonly PreparedTunnel[];
  overrides?: ReadonlyMap<string, EndpointOverride>;
}

/** `topo.Impairments` (kbit/s, microseconds) → the data plane's (bit/s, milliseconds); zero is "not impaired". */
export function impairmentsFromProto(i: topo.Impairments | undefined): Impairments | undefined {
  if (!i) return undefined;
  const out: Impairments = {};
  if (i.lossPercent > 0) out.lossPercent = i.lossPercent;
  if (i.rateKbps > 0n) out.rateBitsPerSecond = Number(i.rateKbps) * 1000;
  if (i.delayUs > 0) out.delayMs = i.delayUs / 1000;
  if (i.jitterUs > 0) out.jitterMs = i.jitterUs / 1000;
  if (i.corruptionPercent > 0) out.corruptPercent = i.corruptionPercent;
  if (i.duplicationPercent > 0) out.duplicatePercent = i.duplicationPercent;
  if (i.reorderPercent > 0) out.reorderPercent = i.reorderPercent;
  return Object.keys(out).length > 0 ? out : undefined;
}

/** Validates proto impairments and reports problems under the proto field names. */
export function checkImpairments(i: Impairments | undefined, field: string): void {
  if (!i) return;
  try {
    validateImpairments(i, field);
  } catch (err) {
    if (!(err instanceof InvalidArgumentError)) throw err;
    const names: Record<string, string> = {
      lossPercent: "loss_percent",
      rateBitsPerSecond: "rate_kbps",
      delayMs: "delay_us",
      jitterMs: "jitter_us",
      corruptPercent: "corruption_percent",
      duplicatePercent: "duplication_percent",
      reorderPercent: "reorder_percent",
    };
    const m = /^(.*)\.(\w+)$/.exec(err.field ?? "");
    const protoField = m ? `${m[1]}.${names[m[2]!] ?? m[2]}` : field;
    const description = err.field && err.message.startsWith(`${err.field}: `) ? err.message.slice(err.field.length + 2) : err.message;
    throw new InvalidArgumentError(description, protoField);
  }
}

function adminUpFrom(state: topo.LinkState): boolean {
  return state !== topo.LinkState.DOWN;
}

/** `host:port` of a peer agent; brackets for IPv6 (`[fd00::1]:50052`). */
export function validateAgentAddress(address: string, field: string): string {
  const m = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(address);
  if (!m || Number(m[2]) < 1 || Number(m[2]) > 65535) {
    throw new InvalidArgumentError(`agent address ${JSON.stringify(address)} must be host:port`, field);
  }
  return address;
}

/** Validates a local endpoint's own fields and returns its data plane spec (netns filled by the caller). */
function endpointSpec(ep: agentv1.LocalEndpoint | undefined, field: string, netns: string, adminUp: boolean, impairments: Impairments | undefined): EndpointSpec {
  if (!ep) throw new InvalidArgumentError("is required", field);
  validateNodeName(ep.node, `${field}.node`);
  validateIfname(ep.interface, `${field}.interface`);
  if (ep.mtu !== 0) validateMtu(ep.mtu, `${field}.mtu`);
  if (ep.mac !== "") normalizeMac(ep.mac, `${field}.mac`);
  ep.addresses.forEach((a, i) => validateCidr(a, `${field}.addresses[${i}]`));
  return {
    netns,
    ifname: ep.interface,
    ...(ep.mtu !== 0 ? { mtu: ep.mtu } : {}),
    ...(ep.mac !== "" ? { mac: ep.mac } : {}),
    adminUp,
    ...(impairments ? { impairments } : {}),
  };
}

/**
 * A node's port on a host segment: a macvlan (bridge mode) on a host device, or a veth whose
 * first end is in the host namespace on the bridge (the kernel enslaves it as it creates it)
 * and whose peer is the node's interface with its addresses. Its uid comes from the host
 * end's name, unique on the host.
 */
function bridgePortWire(port: agentv1.BridgePort, field: string, netns: string, hostNetns: string): WireSpec {
  validateIfname(port.interface, `${field}.interface`);
  validateIfname(port.hostInterface, `${field}.host_interface`);
  port.addresses.forEach((a, i) => validateCidr(a, `${field}.addresses[${i}]`));
  const addresses = port.addresses.length > 0 ? { addresses: [...port.addresses] } : {};
  if (port.macvlanParent !== "") {
    validateIfname(port.macvlanParent, `${field}.macvlan_parent`);
    if (port.bridge !== "") throw new InvalidArgumentError("give a bridge or a macvlan_parent, not both", `${field}.bridge`);
    return {
      kind: "macvlan",
      uid: `port.${port.hostInterface}`,
      endpoint: { netns, ifname: port.interface, adminUp: true, ...addresses },
      parent: { netns: hostNetns, ifname: port.macvlanParent },
      mode: "bridge",
    };
  }
  validateIfname(port.bridge, `${field}.bridge`);
  return {
    kind: "veth",
    uid: `port.${port.hostInterface}`,
    a: { netns: hostNetns, ifname: port.hostInterface, master: port.bridge, adminUp: true },
    b: { netns, ifname: port.interface, adminUp: true, ...addresses },
  };
}

/**
 * Compiles the request into the data plane's desired state. Throws `InvalidArgumentError`
 * with a request field path for the first problem.
 */
export function compileTopology(request: agentv1.ApplyWiresRequest, ctx: CompileContext): CompiledTopology {
  const topology = validateTopologyId(request.topology, "topology");
  const overrides = ctx.overrides ?? new Map<string, EndpointOverride>();
  const nodeNetns = new Map<string, string>();
  const namespaces: NamespaceSpec[] = [];
  const used = new Set<string>();
  const bridgePorts: WireSpec[] = [];
  request.namespaces.forEach((ns, i) => {
    const field = `namespaces[${i}]`;
    validateNodeName(ns.node, `${field}.node`);
    if (nodeNetns.has(ns.node)) throw new InvalidArgumentError(`node ${ns.node} is listed twice`, `${field}.node`);
    const netns = ns.netns === "" ? nodeNetnsName(topology, ns.node) : validateNetnsName(ns.netns, `${field}.netns`, false);
    const owned = parseOwnedNetnsName(netns);
    if (owned && owned.topology !== topology) throw new InvalidArgumentError(`namespace ${netns} belongs to topology ${owned.topology}`, `${field}.netns`);
    if (!owned && ns.create) throw new InvalidArgumentError(`only namespaces named kne.${topology}.<node> can be created by the agent`, `${field}.create`);
    nodeNetns.set(ns.node, netns);
    if (owned) namespaces.push({ name: netns });
    if (ns.bridgePort) bridgePorts.push(bridgePortWire(ns.bridgePort, `${field}.bridge_port`, netns, ctx.hostNetns));
  });
  const netnsOf = (node: string): string => nodeNetns.get(node) ?? nodeNetnsName(topology, node);

  const endpoints = new Map<string, LocalEndpointInfo>();
  const specs = new Map<string, EndpointSpec>();
  const addresses: CompiledTopology["addresses"] = [];
  const wires: WireSpec[] = [];
  const lans = new Map<string, LanWireSpec>();
  const peers: PeerTunnel[] = [];
  const pending: string[] = [];
  const localUnderlay = request.underlayAddress !== "" ? validateIpAddress(request.underlayAddress, "underlay_address") : ctx.underlayAddress;

  const local = (ep: agentv1.LocalEndpoint | undefined, field: string, wireUid: string, state: topo.LinkState, egress: topo.Impairments | undefined): EndpointSpec => {
    const fromRequest = impairmentsFromProto(egress);
    checkImpairments(fromRequest, field.replace(/\.(a|z)$/, (_, s: string) => `.${s}_egress`));
    // Node name first: the override key and netns need it.
    if (ep) validateNodeName(ep.node, `${field}.node`);
    const key = ep ? endpointKey(ep.node, ep.interface) : "";
    const o = overrides.get(key);
    const spec = endpointSpec(ep, field, ep ? netnsOf(ep.node) : "", o?.adminUp ?? adminUpFrom(state), o?.impairments !== undefined ? o.impairments : fromRequest);
    if (endpoints.has(key)) throw new InvalidArgumentError(`endpoint ${key} is used by two wires`, field);
    endpoints.set(key, { node: ep!.node, interface: ep!.interface, netns: spec.netns, ifname: spec.ifname, wireUid });
    specs.set(key, spec);
    used.add(spec.netns);
    for (const cidr of ep!.addresses) addresses.push({ netns: spec.netns, ifname: spec.ifname, cidr });
    return spec;
  };

  request.wires.forEach((w, i) => {
    const field = `wires[${i}]`;
    const uid = validateUid(w.uid.toString(), `${field}.uid`);
    const a = local(w.a, `${field}.a`, uid, w.aState, w.aEgress);
    switch (w.peer.case) {
      case "z": {
        const z = local(w.peer.value, `${field}.z`, uid, w.zState, w.zEgress);
        wires.push({ kind: "veth", uid, a, b: z });
        break;
      }
      case "remote": {
        const r = w.peer.value;
        validateNodeName(r.node, `${field}.remote.node`);
        validateIfname(r.interface, `${field}.remote.interface`);
        if (r.agentAddress !== "") validateAgentAddress(r.agentAddress, `${field}.remote.agent_address`);
        if (r.underlayAddress !== "") validateIpAddress(r.underlayAddress, `${field}.remote.underlay_address`);
        if (r.underlayAddress === "" && r.agentAddress === "") {
          throw new InvalidArgumentError("a cross-host wire needs the remote underlay_address or agent_address", `${field}.remote`);
        }
        if (localUnderlay === undefined) {
          throw new InvalidArgumentError("this host's underlay address is unknown: set it in the request or start the agent with --underlay-address", "underlay_address");
        }
        const vni = vniForUid(topology, uid);
        const remoteUnderlay = r.underlayAddress !== "" ? r.underlayAddress : ctx.learnedUnderlay?.[uid];
        if (r.agentAddress !== "") {
          peers.push({
            uid,
            vni,
            local: { node: w.a!.node, interface: w.a!.interface, mtu: w.a!.mtu },
            remote: { node: r.node, interface: r.interface, agentAddress: r.agentAddress, underlayAddress: remoteUnderlay ?? "" },
          });
        }
        if (remoteUnderlay === undefined) {
          pending.push(`wire ${uid} waits for the underlay address of agent ${r.agentAddress}`);
          // Its interface does not exist until then: no addresses to put on it either.
          const waiting = addresses.filter((x) => x.netns === a.netns && x.ifname === a.ifname);
          for (const x of waiting) addresses.splice(addresses.indexOf(x), 1);
          break;
        }
        wires.push({ kind: "vxlan", uid, endpoint: a, vni, underlay: { netns: ctx.hostNetns, local: localUnderlay, remote: remoteUnderlay } });
        break;
      }
      case "segment": {
        const segment = validateUid(w.peer.value, `${field}.segment`);
        let lan = lans.get(segment);
        if (!lan) {
          lan = { kind: "lan", uid: segment, members: [] };
          lans.set(segment, lan);
          wires.push(lan);
        }
        lan.members.push(a);
        endpoints.get(endpointKey(w.a!.node, w.a!.interface))!.wireUid = segment;
        break;
      }
      case "hostInterface": {
        const parent = validateIfname(w.peer.value, `${field}.host_interface`);
        wires.push({ kind: "macvlan", uid, endpoint: a, parent: { netns: ctx.hostNetns, ifname: parent } });
        break;
      }
      default:
        throw new InvalidArgumentError("one of z, remote, segment or host_interface is required", `${field}.peer`);
    }
  });

  for (const t of ctx.tunnels ?? []) {
    const key = endpointKey(t.node, t.interface);
    if (endpoints.has(key) || localUnderlay === undefined) continue;
    const o = overrides.get(key);
    const netns = netnsOf(t.node);
    const endpoint: EndpointSpec = { netns, ifname: t.interface, ...(t.mtu ? { mtu: t.mtu } : {}), adminUp: o?.adminUp ?? true, ...(o?.impairments ? { impairments: o.impairments } : {}) };
    endpoints.set(key, { node: t.node, interface: t.interface, netns, ifname: t.interface, wireUid: t.uid });
    specs.set(key, endpoint);
    used.add(netns);
    wires.push({ kind: "vxlan", uid: t.uid, endpoint, vni: t.vni, underlay: { netns: ctx.hostNetns, local: localUnderlay, remote: t.remoteUnderlay } });
  }

  wires.push(...bridgePorts);
  const desired: DesiredState = { topology, scope: ctx.scope, namespaces, wires };
  try {
    validateDesiredState(desired);
  } catch (err) {
    // Our own checks above cover the request's fields; what is left (a VNI clash, a reserved
    // name) is reported without a request path rather than with a data plane one.
    if (err instanceof InvalidArgumentError) throw new InvalidArgumentError(err.message, "wires");
    throw err;
  }
  for (const ns of namespaces) used.add(ns.name);
  if (ctx.hostNetns !== HOST_NETNS && (bridgePorts.length > 0 || wires.some((w) => w.kind === "vxlan" || w.kind === "macvlan"))) used.add(ctx.hostNetns);
  const wireCount = request.wires.length + bridgePorts.length + wires.filter((w) => w.kind === "vxlan" && !request.wires.some((r) => r.uid.toString() === w.uid)).length;
  return { desired, endpoints, specs, farEnds: farEndsOf(endpoints), peers, addresses, pending, namespaces: used, wireCount };
}

/** Endpoints paired by wire uid, for the wires with exactly two local ends (not LAN segments). */
function farEndsOf(endpoints: Map<string, LocalEndpointInfo>): Map<string, LocalEndpointInfo> {
  const byWire = new Map<string, [string, LocalEndpointInfo][]>();
  for (const entry of endpoints) {
    const ends = byWire.get(entry[1].wireUid);
    if (ends) ends.push(entry);
    else byWire.set(entry[1].wireUid, [entry]);
  }
  const farEnds = new Map<string, LocalEndpointInfo>();
  for (const ends of byWire.values()) {
    if (ends.length !== 2) continue;
    const [[ka, a], [kz, z]] = ends as [[string, LocalEndpointInfo], [string, LocalEndpointInfo]];
    farEnds.set(ka, z);
    farEnds.set(kz, a);
  }
  return farEnds;
}
