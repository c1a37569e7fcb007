/**
 * The level-triggered planner: desired state + observed kernel state → the kernel operations
 * that converge them. Pure and deterministic; running it on the state its own operations
 * produce yields no operations. Problems that block part of the state (a foreign device in
 * the way, a missing namespace, a kernel feature this host lacks) are returned as typed
 * errors beside the operations for everything else.
 */
import type { KernelOperation } from "./batch.ts";
import {
  type EndpointSpec,
  type DesiredState,
  type LanWireSpec,
  type MacvlanWireSpec,
  type VethWireSpec,
  type VxlanWireSpec,
  desiredNamespaces,
  validateDesiredState,
  vniOf,
  wireEndpoints,
} from "./desired-state.ts";
import {
  type DataplaneError,
  type KernelFeature,
  KernelFeatureMissingError,
  KernelObjectExistsError,
  KernelObjectNotFoundError,
} from "./errors.ts";
import {
  type Impairments,
  hasImpairments,
  lossMatches,
  needsLoss,
  needsNetem,
  nftClearLossScript,
  nftDeleteTableScript,
  nftSetLossScript,
  qdiscArgs,
  qdiscDeleteArgs,
  qdiscsMatch,
  requiredFeatures,
  sinkCreateArgs,
} from "./impairments.ts";
import {
  HOST_NETNS,
  SINK_IFNAME,
  bridgeIfname,
  fabricNetnsName,
  isOwnedNetns,
  legIfname,
  normalizeMac,
  ownerAlias,
} from "./names.ts";
import type { ObservedInterface, ObservedNamespace, ObservedState } from "./observe.ts";
import type { ObserveRequest } from "./observe.ts";

export interface PlanOptions {
  /**
   * Kernel features of the host. When given, an endpoint whose impairments need a missing
   * feature gets a `KernelFeatureMissingError` problem instead of operations.
   */
  features?: ReadonlySet<KernelFeature>;
  /** A pid in the host namespace, for `netns <pid>` when a device must land there (default: this process). */
  hostPid?: number;
}

export interface Plan {
  operations: KernelOperation[];
  /** What blocks part of the desired state; the rest is planned anyway. */
  problems: DataplaneError[];
  /** One line per planned change, for logs and tests. */
  actions: string[];
}

type NsState = "new" | "present" | "deleting" | "missing" | "unobserved";

const OUR_QDISCS = new Set(["tbf", "netem", "htb"]);

/** The alias prefix of management ports before the agent made them (`kne-mgmt:<topology>:<node>`). */
const LEGACY_MANAGEMENT_ALIAS = "kne-mgmt:";

function nsLabel(netns: string): string {
  return netns === HOST_NETNS ? "(host)" : netns;
}

function devLabel(netns: string, ifname: string): string {
  return `netns ${nsLabel(netns)} dev ${ifname}`;
}

/** Canonical text of an IP address (IPv6 has many spellings). */
function canonicalIp(address: string | undefined): string | undefined {
  if (address === undefined || !address.includes(":")) return address;
  try {
    return new URL(`http://[${address}]/`).hostname.replace(/^\[|\]$/g, "");
  } catch {
    return address;
  }
}

/** Canonical `address/prefix` (see canonicalIp). */
function canonicalCidr(cidr: string): string {
  const [address, prefix] = cidr.split("/");
  return `${canonicalIp(address)}/${prefix}`;
}

class Planner {
  private readonly topology: string;
  private readonly hostPid: number;
  private readonly nsState = new Map<string, NsState>();
  private readonly expected = new Set<string>();
  /** Endpoints with loss in effect, by namespace → ifnames. */
  private readonly lossIfnames = new Map<string, Set<string>>();
  private readonly ops = {
    netnsAdd: [] as KernelOperation[],
    deletes: [] as KernelOperation[],
    prepares: [] as KernelOperation[],
    creates: [] as KernelOperation[],
    setups: [] as KernelOperation[],
    netnsDelete: [] as KernelOperation[],
  };
  readonly problems: DataplaneError[] = [];
  readonly actions: string[] = [];
  private readonly deleted = new Set<string>();
  private readonly wantedNs: ReturnType<typeof desiredNamespaces>;

  constructor(
    private readonly desired: DesiredState,
    private readonly observed: ObservedState,
    private readonly options: PlanOptions,
  ) {
    this.topology = desired.topology;
    this.hostPid = options.hostPid ?? process.pid;
    this.wantedNs = desiredNamespaces(desired);
  }

  plan(): Plan {
    this.planNamespaces();
    for (const wire of this.desired.wires) {
      switch (wire.kind) {
        case "veth":
          this.planVeth(wire);
          break;
        case "vxlan":
          this.planVxlan(wire);
          break;
        case "macvlan":
          this.planMacvlan(wire);
          break;
        case "lan":
          this.planLan(wire);
          break;
      }
    }
    this.planStaleDevices();
    this.planLossTables();
    const o = this.ops;
    return {
      operations: [...o.netnsAdd, ...o.deletes, ...o.prepares, ...o.creates, ...o.setups, ...o.netnsDelete],
      problems: this.problems,
      actions: this.actions,
    };
  }

  // ---- namespaces -------------------------------------------------------------------------

  private planNamespaces(): void {
    const wanted = this.wantedNs;
    const existing = new Set(this.observed.netnsNames);
    for (const [name, spec] of wanted) {
      const obs = this.observed.namespaces.get(name);
      if (!existing.has(name)) {
        this.nsState.set(name, "new");
        this.ops.netnsAdd.push({ phase: "netns-add", tool: "ip", netns: HOST_NETNS, args: ["netns", "add", name], object: `netns ${name}`, ignore: ["ALREADY_EXISTS"] });
        this.actions.push(`create netns ${name}`);
      } else {
        this.nsState.set(name, obs ? "present" : "unobserved");
        if (!obs) this.problems.push(new KernelObjectNotFoundError(`netns ${name} exists but was not observed; include it in the observation`, { object: `netns ${name}` }));
      }
      const state = this.nsState.get(name)!;
      if (state !== "new" && state !== "present") continue;
      const lo = obs?.interfaces.find((i) => i.ifname === "lo");
      if (spec.loopbackUp && (state === "new" || (lo !== undefined && !lo.adminUp))) {
        // In the setup phase, so that it shares the namespace's one setup batch with the wires.
        this.ops.setups.push({ phase: "setup", tool: "ip", netns: name, args: ["link", "set", "dev", "lo", "up"], object: devLabel(name, "lo") });
        this.actions.push(`set lo up in ${name}`);
      }
      if (spec.ipForwarding !== undefined) {
        const want = spec.ipForwarding;
        if (state === "new" || obs?.forwarding?.ipv4 !== want || obs?.forwarding?.ipv6 !== want) {
          const v = want ? "1" : "0";
          this.ops.setups.push({
            phase: "setup",
            tool: "sysctl",
            netns: name,
            args: [`net.ipv4.ip_forward=${v}`, `net.ipv6.conf.all.forwarding=${v}`],
            object: `sysctl forwarding in netns ${name}`,
          });
          this.actions.push(`set forwarding=${v} in ${name}`);
        }
      }
    }
    if (this.desired.scope === "listed") return;
    for (const name of this.observed.netnsNames) {
      if (isOwnedNetns(name, this.topology) && !wanted.has(name)) {
        this.nsState.set(name, "deleting");
        this.ops.netnsDelete.push({ phase: "netns-delete", tool: "ip", netns: HOST_NETNS, args: ["netns", "del", name], object: `netns ${name}`, ignore: ["NOT_FOUND"] });
        this.actions.push(`delete netns ${name}`);
      }
    }
  }

  /** With scope "listed", namespaces of the topology that the state does not name are someone else's. */
  private inScope(netns: string): boolean {
    if (this.desired.scope !== "listed" || !isOwnedNetns(netns, this.topology)) return true;
    return this.nsState.get(netns) === "new" || this.wantedNs.has(netns);
  }

  private state(netns: string): NsState {
    const known = this.nsState.get(netns);
    if (known) return known;
    let s: NsState;
    if (netns === HOST_NETNS) s = this.observed.namespaces.has(HOST_NETNS) ? "present" : "unobserved";
    else if (!this.observed.netnsNames.includes(netns)) s = "missing";
    else s = this.observed.namespaces.has(netns) ? "present" : "unobserved";
    this.nsState.set(netns, s);
    return s;
  }

  /** Can we put devices into this namespace now? Records a problem when not. */
  private usable(netns: string, forWhat: string): boolean {
    const s = this.state(netns);
    if (s === "new" || s === "present") return true;
    const msg =
      s === "missing"
        ? `netns ${nsLabel(netns)} does not exist (needed for ${forWhat})`
        : s === "deleting"
          ? `netns ${nsLabel(netns)} is being deleted (needed for ${forWhat})`
          : `netns ${nsLabel(netns)} was not observed (needed for ${forWhat})`;
    this.problems.push(new KernelObjectNotFoundError(msg, { object: `netns ${nsLabel(netns)}` }));
    return false;
  }

  /** A namespace that only creates devices must exist, but need not be observed. */
  private exists(netns: string, forWhat: string): boolean {
    const s = this.state(netns);
    if (s === "present" || s === "new" || s === "unobserved") return true;
    return this.usable(netns, forWhat);
  }

  /** Interfaces by namespace and name (the host's may number thousands). */
  private readonly ifaceIndex = new Map<string, Map<string, ObservedInterface>>();

  private iface(netns: string, ifname: string): ObservedInterface | undefined {
    let byName = this.ifaceIndex.get(netns);
    if (!byName) {
      byName = new Map((this.observed.namespaces.get(netns)?.interfaces ?? []).map((i) => [i.ifname, i]));
      this.ifaceIndex.set(netns, byName);
    }
    return byName.get(ifname);
  }

  private ns(netns: string): ObservedNamespace | undefined {
    return this.observed.namespaces.get(netns);
  }

  /**
   * May we treat the device at this place as part of wire `uid`? Ours (alias), or an
   * unmarked device in one of our own namespaces (a pass that died between creating and
   * marking it), yes; anything else is someone else's and blocks the wire.
   */
  private claim(netns: string, ifname: string, uid: string, wireLabel: string): boolean {
    this.expected.add(`${netns}\u0000${ifname}`);
    const o = this.iface(netns, ifname);
    if (!o) return true;
    if (o.owner?.topology === this.topology) return true;
    if (!o.owner && !o.alias && isOwnedNetns(netns, this.topology)) return true;
    // Management ports made by earlier versions of the local backend carried their own
    // marker; they are this topology's, and get ours at the next setup line.
    if (o.alias?.startsWith(`${LEGACY_MANAGEMENT_ALIAS}${this.topology}:`)) return true;
    this.problems.push(
      new KernelObjectExistsError(
        `${devLabel(netns, ifname)} exists and is not ours (alias ${JSON.stringify(o.alias ?? "")}); ${wireLabel} (uid ${uid}) cannot use it`,
        { object: devLabel(netns, ifname) },
      ),
    );
    return false;
  }

  private deleteDevice(netns: string, ifname: string, why: string): void {
    const key = `${netns}\u0000${ifname}`;
    if (this.deleted.has(key)) return;
    this.deleted.add(key);
    this.ops.deletes.push({ phase: "prepare", tool: "ip", netns, args: ["link", "del", "dev", ifname], object: devLabel(netns, ifname), ignore: ["NOT_FOUND"] });
    this.actions.push(`remove ${devLabel(netns, ifname)} (${why})`);
  }

  private nsClause(target: string, creator: string): string[] {
    if (target === creator) return [];
    if (target === HOST_NETNS) return ["netns", String(this.hostPid)];
    return ["netns", target];
  }

  private static mtuArgs(mtu: number | undefined): string[] {
    return mtu === undefined ? [] : ["mtu", String(mtu)];
  }

  private static addressArgs(mac: string | undefined): string[] {
    return mac === undefined ? [] : ["address", normalizeMac(mac)];
  }

  /** Setup line for a device we just created: mark it, and bring it up when it was not created up. */
  private markNew(netns: string, ifname: string, alias: string, up: boolean, master?: string): void {
    this.ops.setups.push({
      phase: "setup",
      tool: "ip",
      netns,
      args: ["link", "set", "dev", ifname, "alias", alias, ...(master !== undefined ? ["master", master] : []), ...(up ? ["up"] : [])],
      object: devLabel(netns, ifname),
    });
  }

  /**
   * Addresses of an endpoint: all of them on a device made in this pass (`o` undefined),
   * the missing ones on an existing device. Addresses we did not ask for stay (daemons in
   * the node may add their own).
   */
  private planAddresses(ep: EndpointSpec, o: ObservedInterface | undefined): void {
    if (!ep.addresses?.length) return;
    const have = o?.addresses ? new Set(o.addresses.map(canonicalCidr)) : undefined;
    for (const cidr of ep.addresses) {
      // Observed without addresses: unknown, so applied (`addr replace` is idempotent).
      if (o && have && have.has(canonicalCidr(cidr))) continue;
      this.ops.setups.push({ phase: "setup", tool: "ip", netns: ep.netns, args: ["addr", "replace", cidr, "dev", ep.ifname], object: `${devLabel(ep.netns, ep.ifname)} address ${cidr}` });
      if (o) this.actions.push(`add address ${cidr} to ${devLabel(ep.netns, ep.ifname)}`);
    }
  }

  /** One setup line fixing whatever differs on an existing endpoint. */
  private fixDevice(netns: string, o: ObservedInterface, alias: string, want: { mtu?: number; mac?: string; adminUp?: boolean; master?: string }): void {
    const args: string[] = [];
    if (o.alias !== alias) args.push("alias", alias);
    if (want.mtu !== undefined && o.mtu !== want.mtu) args.push("mtu", String(want.mtu));
    if (want.mac !== undefined && o.mac !== normalizeMac(want.mac)) args.push("address", normalizeMac(want.mac));
    if (want.master !== undefined && o.master !== want.master) args.push("master", want.master);
    if (want.adminUp !== undefined && o.adminUp !== want.adminUp) args.push(want.adminUp ? "up" : "down");
    if (args.length === 0) return;
    this.ops.setups.push({ phase: "setup", tool: "ip", netns, args: ["link", "set", "dev", o.ifname, ...args], object: devLabel(netns, o.ifname) });
    this.actions.push(`update ${devLabel(netns, o.ifname)}: ${args.join(" ")}`);
  }

  private fixEndpoint(ep: EndpointSpec, o: ObservedInterface, alias: string): void {
    this.fixDevice(ep.netns, o, alias, { mtu: ep.mtu, mac: ep.mac, adminUp: ep.adminUp ?? true, master: ep.master });
    this.planAddresses(ep, o);
  }

  // ---- impairments ------------------------------------------------------------------------

  private impairmentsAllowed(ep: EndpointSpec): boolean {
    const features = this.options.features;
    if (!features || !hasImpairments(ep.impairments)) return true;
    for (const [feature, what] of requiredFeatures(ep.impairments)) {
      if (!features.has(feature)) {
        this.problems.push(new KernelFeatureMissingError(feature, `${what} on ${devLabel(ep.netns, ep.ifname)}`));
        return false;
      }
    }
    return true;
  }

  /**
   * Qdiscs and the loss chain of one endpoint. `fresh`: the device is created in this pass,
   * so it has the default qdisc and no chain bound to it.
   */
  private planImpairments(uid: string, ep: EndpointSpec, o: ObservedInterface | undefined, fresh: boolean): void {
    if (!this.impairmentsAllowed(ep)) {
      // Leave whatever is there: a loss chain in effect keeps its sink.
      const chain = this.ns(ep.netns)?.nftTable?.chains.find((c) => c.ifname === ep.ifname);
      if (chain?.lossPercent !== undefined && !fresh) this.lossSet(ep.netns).add(ep.ifname);
      return;
    }
    const wanted: Impairments | undefined = hasImpairments(ep.impairments) ? ep.impairments : undefined;
    const obsNs = this.ns(ep.netns);
    const wantsQdisc = !!wanted && (needsNetem(wanted) || (wanted.rateBitsPerSecond ?? 0) > 0);
    let qdiscOk: boolean;
    if (fresh) qdiscOk = !wantsQdisc;
    else if (obsNs?.qdiscs) qdiscOk = qdiscsMatch(wanted, obsNs.qdiscs, ep.ifname);
    else qdiscOk = !wantsQdisc && !OUR_QDISCS.has(o?.qdisc ?? "");
    const object = devLabel(ep.netns, ep.ifname);
    if (!qdiscOk) {
      if (!fresh) this.ops.setups.push({ phase: "setup", tool: "tc", netns: ep.netns, args: qdiscDeleteArgs(ep.ifname), object, ignore: ["NOT_FOUND"] });
      for (const args of wanted ? qdiscArgs(ep.ifname, wanted, ep.mtu ?? o?.mtu) : []) {
        this.ops.setups.push({ phase: "setup", tool: "tc", netns: ep.netns, args, object });
      }
      this.actions.push(wantsQdisc ? `set qdisc on ${object}` : `clear qdisc on ${object}`);
    }
    if (needsLoss(wanted)) {
      this.lossSet(ep.netns).add(ep.ifname);
      const table = obsNs?.nftTable;
      const chain = table ? table.chains.find((c) => c.ifname === ep.ifname) : undefined;
      if (fresh || !lossMatches(wanted, chain)) {
        this.ops.setups.push({ phase: "setup", tool: "nft", netns: ep.netns, args: nftSetLossScript(this.topology, uid, ep.ifname, wanted!.lossPercent!), object });
        this.actions.push(`set loss ${wanted!.lossPercent}% on ${object}`);
      }
    }
  }

  private lossSet(netns: string): Set<string> {
    let s = this.lossIfnames.get(netns);
    if (!s) {
      s = new Set();
      this.lossIfnames.set(netns, s);
    }
    return s;
  }

  /** Sinks and tables: create where loss is wanted, remove chains and tables no longer wanted. */
  private planLossTables(): void {
    const namespaces = new Set<string>([...this.lossIfnames.keys(), ...this.observed.namespaces.keys()]);
    for (const netns of namespaces) {
      const state = this.state(netns);
      if ((state !== "new" && state !== "present") || !this.inScope(netns)) continue;
      const wanted = this.lossIfnames.get(netns) ?? new Set<string>();
      const sink = this.iface(netns, SINK_IFNAME);
      const sinkOurs = sink?.owner?.topology === this.topology;
      const table = this.ns(netns)?.nftTable;
      if (wanted.size > 0) {
        this.expected.add(`${netns}\u0000${SINK_IFNAME}`);
        if (!sink) {
          for (const args of sinkCreateArgs(this.topology)) {
            this.ops.prepares.push({ phase: "prepare", tool: "ip", netns, args, object: devLabel(netns, SINK_IFNAME), ignore: ["ALREADY_EXISTS"] });
          }
          this.actions.push(`create loss sink in ${nsLabel(netns)}`);
        } else if (!sinkOurs) {
          this.problems.push(new KernelObjectExistsError(`${devLabel(netns, SINK_IFNAME)} exists and is not ours`, { object: devLabel(netns, SINK_IFNAME) }));
        }
        for (const chain of table?.chains ?? []) {
          if (chain.ifname === undefined || !wanted.has(chain.ifname)) {
            this.ops.setups.push({ phase: "setup", tool: "nft", netns, args: nftClearLossScript(this.topology, chain.ifname ?? chain.name.slice(3)), object: `nft chain ${chain.name} in netns ${nsLabel(netns)}` });
            this.actions.push(`remove loss chain ${chain.name} in ${nsLabel(netns)}`);
          }
        }
      } else {
        if (table) {
          this.ops.deletes.push({ phase: "prepare", tool: "nft", netns, args: nftDeleteTableScript(this.topology), object: `nft table netdev kne_${this.topology} in netns ${nsLabel(netns)}` });
          this.actions.push(`delete nft table in ${nsLabel(netns)}`);
        }
        if (sink && sinkOurs) this.deleteDevice(netns, SINK_IFNAME, "no loss wanted");
      }
    }
  }

  // ---- wires ------------------------------------------------------------------------------

  private planVeth(w: VethWireSpec): void {
    const label = `veth ${w.uid}`;
    const alias = ownerAlias(this.topology, w.uid);
    const { a, b } = w;
    const okA = this.claim(a.netns, a.ifname, w.uid, label);
    const okB = this.claim(b.netns, b.ifname, w.uid, label);
    if (!okA || !okB || !this.usable(a.netns, label) || !this.usable(b.netns, label)) return;
    const oa = this.iface(a.netns, a.ifname);
    const ob = this.iface(b.netns, b.ifname);
    const good = oa?.kind === "veth" && ob?.kind === "veth" && oa.linkIndex === ob.ifindex && ob.linkIndex === oa.ifindex;
    if (good) {
      this.fixEndpoint(a, oa, alias);
      this.fixEndpoint(b, ob, alias);
      this.planImpairments(w.uid, a, oa, false);
      this.planImpairments(w.uid, b, ob, false);
      return;
    }
    if (oa) this.deleteDevice(a.netns, a.ifname, `${label} is not as wanted`);
    if (ob) this.deleteDevice(b.netns, b.ifname, `${label} is not as wanted`);
    const upA = a.adminUp ?? true;
    const upB = b.adminUp ?? true;
    this.ops.creates.push({
      phase: "create",
      tool: "ip",
      netns: HOST_NETNS,
      args: [
        // The kernel takes `master` with the new device only for the first end (the peer's
        // attributes are nested); the peer joins its bridge in its setup line.
        "link", "add", "name", a.ifname, ...this.nsClause(a.netns, HOST_NETNS), ...Planner.mtuArgs(a.mtu), ...Planner.addressArgs(a.mac),
        ...(a.master !== undefined ? ["master", a.master] : []), ...(upA ? ["up"] : []),
        "type", "veth",
        "peer", "name", b.ifname, ...this.nsClause(b.netns, HOST_NETNS), ...Planner.mtuArgs(b.mtu), ...Planner.addressArgs(b.mac),
      ],
      object: `${label}: ${devLabel(a.netns, a.ifname)} <-> ${devLabel(b.netns, b.ifname)}`,
    });
    this.markNew(a.netns, a.ifname, alias, false);
    this.markNew(b.netns, b.ifname, alias, upB, b.master);
    this.planAddresses(a, undefined);
    this.planAddresses(b, undefined);
    this.actions.push(`${oa || ob ? "recreate" : "create"} ${label}`);
    this.planImpairments(w.uid, a, undefined, true);
    this.planImpairments(w.uid, b, undefined, true);
  }

  private planVxlan(w: VxlanWireSpec): void {
    const label = `vxlan ${w.uid}`;
    const alias = ownerAlias(this.topology, w.uid);
    const ep = w.endpoint;
    const u = w.underlay;
    const vni = vniOf(this.topology, w);
    const port = u.dstPort ?? 4789;
    if (!this.claim(ep.netns, ep.ifname, w.uid, label) || !this.usable(ep.netns, label) || !this.exists(u.netns, `${label} underlay`)) return;
    const o = this.iface(ep.netns, ep.ifname);
    const good =
      o?.kind === "vxlan" &&
      o.vxlan?.vni === vni &&
      canonicalIp(o.vxlan.local) === canonicalIp(u.local) &&
      canonicalIp(o.vxlan.remote) === canonicalIp(u.remote) &&
      (o.vxlan.port ?? 4789) === port;
    if (good) {
      this.fixEndpoint(ep, o, alias);
      this.planImpairments(w.uid, ep, o, false);
      return;
    }
    if (o) this.deleteDevice(ep.netns, ep.ifname, `${label} is not as wanted`);
    this.ops.creates.push({
      phase: "create",
      tool: "ip",
      netns: u.netns,
      args: [
        "link", "add", "name", ep.ifname, ...this.nsClause(ep.netns, u.netns), ...Planner.mtuArgs(ep.mtu), ...Planner.addressArgs(ep.mac), ...((ep.adminUp ?? true) ? ["up"] : []),
        "type", "vxlan", "id", String(vni), "local", u.local, "remote", u.remote, "dstport", String(port), ...(u.device ? ["dev", u.device] : []),
      ],
      object: `${label}: ${devLabel(ep.netns, ep.ifname)} vni ${vni} ${u.local} -> ${u.remote}`,
    });
    this.markNew(ep.netns, ep.ifname, alias, false, ep.master);
    this.planAddresses(ep, undefined);
    this.actions.push(`${o ? "recreate" : "create"} ${label} (vni ${vni})`);
    this.planImpairments(w.uid, ep, undefined, true);
  }

  private planMacvlan(w: MacvlanWireSpec): void {
    const label = `macvlan ${w.uid}`;
    const alias = ownerAlias(this.topology, w.uid);
    const ep = w.endpoint;
    const mode = w.mode ?? "bridge";
    if (!this.claim(ep.netns, ep.ifname, w.uid, label) || !this.usable(ep.netns, label) || !this.usable(w.parent.netns, `${label} parent`)) return;
    const parent = this.iface(w.parent.netns, w.parent.ifname);
    if (!parent) {
      this.problems.push(new KernelObjectNotFoundError(`parent ${devLabel(w.parent.netns, w.parent.ifname)} of ${label} does not exist`, { object: devLabel(w.parent.netns, w.parent.ifname) }));
      return;
    }
    const o = this.iface(ep.netns, ep.ifname);
    const good = o?.kind === "macvlan" && (o.macvlanMode ?? "bridge") === mode && o.linkIndex === parent.ifindex;
    if (good) {
      this.fixEndpoint(ep, o, alias);
      this.planImpairments(w.uid, ep, o, false);
      return;
    }
    if (o) this.deleteDevice(ep.netns, ep.ifname, `${label} is not as wanted`);
    this.ops.creates.push({
      phase: "create",
      tool: "ip",
      netns: w.parent.netns,
      args: [
        "link", "add", "name", ep.ifname, ...this.nsClause(ep.netns, w.parent.netns), "link", w.parent.ifname,
        ...Planner.mtuArgs(ep.mtu), ...Planner.addressArgs(ep.mac), ...((ep.adminUp ?? true) ? ["up"] : []),
        "type", "macvlan", "mode", mode,
      ],
      object: `${label}: ${devLabel(ep.netns, ep.ifname)} on ${devLabel(w.parent.netns, w.parent.ifname)}`,
    });
    this.markNew(ep.netns, ep.ifname, alias, false, ep.master);
    this.planAddresses(ep, undefined);
    this.actions.push(`${o ? "recreate" : "create"} ${label}`);
    this.planImpairments(w.uid, ep, undefined, true);
  }

  private planLan(w: LanWireSpec): void {
    const label = `lan ${w.uid}`;
    const alias = ownerAlias(this.topology, w.uid);
    const fabric = fabricNetnsName(this.topology);
    const br = bridgeIfname(this.topology, w.uid);
    if (!this.claim(fabric, br, w.uid, label) || !this.usable(fabric, label)) return;
    const ob = this.iface(fabric, br);
    const bridgeGood = ob?.kind === "bridge";
    if (bridgeGood) {
      this.fixDevice(fabric, ob, alias, { mtu: w.mtu, adminUp: true });
    } else {
      if (ob) this.deleteDevice(fabric, br, `${label} bridge is not a bridge`);
      this.ops.prepares.push(
        {
          phase: "prepare",
          tool: "ip",
          netns: fabric,
          args: ["link", "add", "name", br, ...Planner.mtuArgs(w.mtu), "up", "type", "bridge", "mcast_snooping", "0"],
          object: `${label}: bridge ${devLabel(fabric, br)}`,
        },
        { phase: "prepare", tool: "ip", netns: fabric, args: ["link", "set", "dev", br, "alias", alias], object: devLabel(fabric, br) },
      );
      this.actions.push(`${ob ? "recreate" : "create"} ${label} bridge ${br}`);
    }
    for (const m of w.members) {
      const leg = legIfname(this.topology, w.uid, m.netns, m.ifname);
      const memberLabel = `${label} member ${nsLabel(m.netns)}/${m.ifname}`;
      const okLeg = this.claim(fabric, leg, w.uid, memberLabel);
      const okEp = this.claim(m.netns, m.ifname, w.uid, memberLabel);
      if (!okLeg || !okEp || !this.usable(m.netns, memberLabel)) continue;
      const ol = this.iface(fabric, leg);
      const oe = this.iface(m.netns, m.ifname);
      const mtu = m.mtu ?? w.mtu;
      const good = ol?.kind === "veth" && oe?.kind === "veth" && ol.linkIndex === oe.ifindex && oe.linkIndex === ol.ifindex;
      if (good) {
        // A recreated bridge has lost its ports even though they still name it as master.
        const master = bridgeGood ? br : undefined;
        this.fixDevice(fabric, ol, alias, { mtu, adminUp: true, master });
        if (!bridgeGood) this.ops.setups.push({ phase: "setup", tool: "ip", netns: fabric, args: ["link", "set", "dev", leg, "master", br], object: devLabel(fabric, leg) });
        this.fixEndpoint({ ...m, mtu }, oe, alias);
        this.planImpairments(w.uid, m, oe, false);
        continue;
      }
      if (ol) this.deleteDevice(fabric, leg, `${memberLabel} is not as wanted`);
      if (oe) this.deleteDevice(m.netns, m.ifname, `${memberLabel} is not as wanted`);
      this.ops.creates.push({
        phase: "create",
        tool: "ip",
        netns: fabric,
        args: [
          "link", "add", "name", leg, "master", br, ...Planner.mtuArgs(mtu), "up",
          "type", "veth",
          "peer", "name", m.ifname, ...this.nsClause(m.netns, fabric), ...Planner.mtuArgs(mtu), ...Planner.addressArgs(m.mac),
        ],
        object: `${memberLabel}: ${devLabel(fabric, leg)} <-> ${devLabel(m.netns, m.ifname)}`,
      });
      this.markNew(fabric, leg, alias, false);
      this.markNew(m.netns, m.ifname, alias, m.adminUp ?? true, m.master);
      this.planAddresses(m, undefined);
      this.actions.push(`${ol || oe ? "recreate" : "create"} ${memberLabel}`);
      this.planImpairments(w.uid, m, undefined, true);
    }
  }

  /** Devices marked as ours that no wanted wire accounts for. */
  private planStaleDevices(): void {
    for (const [netns, obs] of this.observed.namespaces) {
      const state = this.state(netns);
      if (state !== "present" || !this.inScope(netns)) continue;
      for (const o of obs.interfaces) {
        if (o.owner?.topology !== this.topology || o.ifname === SINK_IFNAME) continue;
        if (this.expected.has(`${netns}\u0000${o.ifname}`)) continue;
        this.deleteDevice(netns, o.ifname, `stale, uid ${o.owner.uid}`);
      }
    }
  }
}

/** Plans the operations that converge `observed` to `desired` (validates `desired` first). */
export function planReconcile(desired: DesiredState, observed: ObservedState, options: PlanOptions = {}): Plan {
  validateDesiredState(desired);
  return new Planner(desired, observed, options).plan();
}

/**
 * What to observe for a reconcile pass: every namespace the state names or implies, every
 * existing namespace of the topology (to find stale ones), macvlan parents, and `extra`
 * (foreign namespaces that may hold stale devices of ours). qdiscs and nft are read where
 * impairments are wanted, and elsewhere only when the cheap `ip link` look shows traces.
 */
export function observationRequests(desired: DesiredState, existingNetns: readonly string[], extra: readonly string[] = []): ObserveRequest[] {
  const wantQdisc = new Set<string>();
  const wantNft = new Set<string>();
  const names = new Set<string>(desiredNamespaces(desired).keys());
  if (desired.scope !== "listed") for (const n of existingNetns) if (isOwnedNetns(n, desired.topology)) names.add(n);
  for (const n of extra) names.add(n);
  for (const wire of desired.wires) {
    for (const { endpoint } of wireEndpoints(wire)) {
      names.add(endpoint.netns);
      const i = endpoint.impairments;
      if (i && (needsNetem(i) || (i.rateBitsPerSecond ?? 0) > 0)) wantQdisc.add(endpoint.netns);
      if (needsLoss(i)) wantNft.add(endpoint.netns);
    }
    if (wire.kind === "macvlan") names.add(wire.parent.netns);
  }
  return [...names].map((netns) => ({
    netns,
    qdiscs: wantQdisc.has(netns) ? true : "auto",
    nft: wantNft.has(netns) ? true : "auto",
  }));
}
