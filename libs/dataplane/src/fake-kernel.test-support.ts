/**
 * A small in-memory model of the kernel objects the planner touches, for unit tests: it
 * applies the operations the planner emits (the subset of ip/tc/nft/sysctl we generate) and
 * reports the state the way `observeNamespaces` would. It lets tests check convergence and
 * idempotence without root. Not exported from the package.
 */
import type { KernelOperation } from "./batch.ts";
import { HOST_NETNS, parseOwnerAlias } from "./names.ts";
import type { ObservedInterface, ObservedNamespace, ObservedQdisc, ObservedState } from "./observe.ts";

interface FakeDevice {
  ifindex: number;
  ifname: string;
  kind?: string;
  alias?: string;
  mtu: number;
  mac: string;
  up: boolean;
  master?: string;
  addresses?: string[];
  peer?: { netns: string; ifname: string };
  parent?: { netns: string; ifname: string };
  vxlan?: { vni: number; local: string; remote: string; port: number };
  macvlanMode?: string;
  qdiscs: ObservedQdisc[];
}

interface FakeNamespace {
  devices: Map<string, FakeDevice>;
  nextIndex: number;
  forwarding: { ipv4: boolean; ipv6: boolean };
  nft: Map<string, Map<string, number | undefined>>;
}

export class FakeKernelError extends Error {}

let macCounter = 0;

export class FakeKernel {
  readonly namespaces = new Map<string, FakeNamespace>();
  /** Every operation applied, for assertions. */
  readonly log: KernelOperation[] = [];

  constructor() {
    this.addNetns(HOST_NETNS);
  }

  addNetns(name: string): void {
    if (this.namespaces.has(name)) throw new FakeKernelError(`File exists: netns ${name}`);
    const ns: FakeNamespace = { devices: new Map(), nextIndex: 1, forwarding: { ipv4: false, ipv6: false }, nft: new Map() };
    this.namespaces.set(name, ns);
    this.addDevice(name, { ifname: "lo", mtu: 65536, mac: "00:00:00:00:00:00", up: name === HOST_NETNS, qdiscs: [] });
  }

  addDevice(netns: string, d: Omit<FakeDevice, "ifindex">): FakeDevice {
    const ns = this.ns(netns);
    if (ns.devices.has(d.ifname)) throw new FakeKernelError(`File exists: ${d.ifname} in ${netns}`);
    const dev = { ...d, ifindex: ns.nextIndex++ };
    ns.devices.set(d.ifname, dev);
    return dev;
  }

  private ns(name: string): FakeNamespace {
    const ns = this.namespaces.get(name);
    if (!ns) throw new FakeKernelError(`No such file or directory: netns ${name}`);
    return ns;
  }

  dev(netns: string, ifname: string): FakeDevice {
    const d = this.ns(netns).devices.get(ifname);
    if (!d) throw new FakeKernelError(`Cannot find device "${ifname}" in ${netns}`);
    return d;
  }

  deleteDevice(netns: string, ifname: string): void {
    const d = this.dev(netns, ifname);
    this.ns(netns).devices.delete(ifname);
    if (d.peer && this.namespaces.get(d.peer.netns)?.devices.has(d.peer.ifname)) this.ns(d.peer.netns).devices.delete(d.peer.ifname);
    for (const [nsName, ns] of this.namespaces) {
      for (const other of [...ns.devices.values()]) {
        if (other.parent?.netns === netns && other.parent.ifname === ifname) ns.devices.delete(other.ifname);
        if (nsName === netns && other.master === ifname) other.master = undefined;
      }
    }
  }

  deleteNetns(name: string): void {
    const ns = this.ns(name);
    for (const d of [...ns.devices.values()]) if (ns.devices.has(d.ifname)) this.deleteDevice(name, d.ifname);
    this.namespaces.delete(name);
  }

  /** Applies operations in the executor's order; returns the errors of those that failed (after `ignore`). */
  apply(operations: readonly KernelOperation[]): Array<{ op: KernelOperation; message: string }> {
    const failures: Array<{ op: KernelOperation; message: string }> = [];
    const order = ["netns-add", "prepare", "create", "setup", "netns-delete"];
    for (const phase of order) {
      for (const op of operations.filter((o) => o.phase === phase)) {
        this.log.push(op);
        try {
          this.applyOne(op);
        } catch (e) {
          const message = (e as Error).message;
          const notFound = /Cannot find|No such/.test(message);
          const exists = /File exists/.test(message);
          if ((notFound && op.ignore?.includes("NOT_FOUND")) || (exists && op.ignore?.includes("ALREADY_EXISTS"))) continue;
          failures.push({ op, message });
        }
      }
    }
    return failures;
  }

  private applyOne(op: KernelOperation): void {
    const a = [...op.args];
    switch (op.tool) {
      case "ip":
        return this.ip(op.netns, a);
      case "tc":
        return this.tc(op.netns, a);
      case "nft":
        return this.nft(op.netns, a);
      case "sysctl":
        for (const kv of a) {
          const [k, v] = kv.split("=");
          if (k === "net.ipv4.ip_forward") this.ns(op.netns).forwarding.ipv4 = v === "1";
          if (k === "net.ipv6.conf.all.forwarding") this.ns(op.netns).forwarding.ipv6 = v === "1";
        }
        return;
    }
  }

  private resolveNs(value: string): string {
    return /^\d+$/.test(value) ? HOST_NETNS : value;
  }

  private ip(netns: string, a: string[]): void {
    if (a[0] === "netns" && a[1] === "add") return this.addNetns(a[2]!);
    if (a[0] === "netns" && a[1] === "del") return this.deleteNetns(a[2]!);
    if (a[0] === "addr" && a[1] === "replace" && a[3] === "dev") {
      const d = this.dev(netns, a[4]!);
      d.addresses = [...(d.addresses ?? []).filter((x) => x !== a[2]), a[2]!];
      return;
    }
    if (a[0] !== "link") throw new Error(`fake ip: unsupported ${a.join(" ")}`);
    if (a[1] === "del") return this.deleteDevice(netns, a[3]!);
    if (a[1] === "set") {
      const d = this.dev(netns, a[3]!);
      for (let i = 4; i < a.length; i++) {
        const t = a[i]!;
        if (t === "alias") d.alias = a[++i];
        else if (t === "mtu") d.mtu = Number(a[++i]);
        else if (t === "address") d.mac = a[++i]!;
        else if (t === "master") {
          const m = a[++i]!;
          this.dev(netns, m);
          d.master = m;
        } else if (t === "up") d.up = true;
        else if (t === "down") d.up = false;
        else throw new Error(`fake ip: unsupported set ${t}`);
      }
      return;
    }
    if (a[1] !== "add") throw new Error(`fake ip: unsupported ${a.join(" ")}`);
    // link add name N [netns X] [link P] [mtu] [address] [up] [master B] type K ... [peer name ...]
    const parseSide = (from: number, stopAt: string) => {
      const side: { ifname?: string; netns: string; mtu?: number; mac?: string; up: boolean; master?: string; link?: string } = { netns, up: false };
      let i = from;
      for (; i < a.length && a[i] !== stopAt; i++) {
        const t = a[i]!;
        if (t === "name") side.ifname = a[++i];
        else if (t === "netns") side.netns = this.resolveNs(a[++i]!);
        else if (t === "mtu") side.mtu = Number(a[++i]);
        else if (t === "address") side.mac = a[++i];
        else if (t === "up") side.up = true;
        else if (t === "master") side.master = a[++i];
        else if (t === "link") side.link = a[++i];
        else throw new Error(`fake ip: unsupported add token ${t}`);
      }
      return { side, next: i };
    };
    const { side, next } = parseSide(2, "type");
    const kind = a[next + 1]!;
    const kindArgs = a.slice(next + 2);
    const mac = () => `02:fa:00:00:${((++macCounter >> 8) & 0xff).toString(16).padStart(2, "0")}:${(macCounter & 0xff).toString(16).padStart(2, "0")}`;
    const base = (s: typeof side, k: string): Omit<FakeDevice, "ifindex"> => ({
      ifname: s.ifname!,
      kind: k,
      mtu: s.mtu ?? 1500,
      mac: s.mac ?? mac(),
      up: s.up,
      master: s.master,
      qdiscs: [],
    });
    if (side.master) this.dev(side.netns, side.master);
    if (kind === "veth") {
      const peerAt = kindArgs.indexOf("peer");
      const { side: peer } = parseSide(next + 2 + peerAt + 1, "\u0000");
      if (peer.up) throw new FakeKernelError("Transport endpoint is not connected");
      if (this.ns(side.netns).devices.has(side.ifname!) || this.ns(peer.netns).devices.has(peer.ifname!)) throw new FakeKernelError("File exists");
      this.addDevice(side.netns, { ...base(side, "veth"), peer: { netns: peer.netns, ifname: peer.ifname! } });
      this.addDevice(peer.netns, { ...base(peer, "veth"), peer: { netns: side.netns, ifname: side.ifname! } });
      return;
    }
    if (kind === "vxlan") {
      const get = (k: string) => kindArgs[kindArgs.indexOf(k) + 1]!;
      this.addDevice(side.netns, { ...base(side, "vxlan"), vxlan: { vni: Number(get("id")), local: get("local"), remote: get("remote"), port: Number(get("dstport")) } });
      return;
    }
    if (kind === "macvlan") {
      this.dev(netns, side.link!);
      this.addDevice(side.netns, { ...base(side, "macvlan"), parent: { netns, ifname: side.link! }, macvlanMode: kindArgs[1] });
      return;
    }
    if (kind === "bridge" || kind === "ifb") {
      this.addDevice(side.netns, base(side, kind));
      return;
    }
    throw new Error(`fake ip: unsupported kind ${kind}`);
  }

  private tc(netns: string, a: string[]): void {
    const d = this.dev(netns, a[3]!);
    if (a[1] === "del") {
      if (d.qdiscs.length === 0) throw new FakeKernelError("Cannot delete qdisc with handle of zero (No such)");
      d.qdiscs = [];
      return;
    }
    const root = a[4] === "root";
    const kindAt = a.findIndex((t) => t === "tbf" || t === "netem");
    const kind = a[kindAt]!;
    const q: ObservedQdisc = { dev: d.ifname, kind, handle: root ? "1:" : "10:", root, parent: root ? undefined : "1:1" };
    if (kind === "tbf") q.rateBitsPerSecond = Number(a[a.indexOf("rate") + 1]!.replace(/bit$/, ""));
    d.qdiscs.push(q);
  }

  private nft(netns: string, lines: string[]): void {
    const ns = this.ns(netns);
    const draft = new Map([...ns.nft].map(([t, chains]) => [t, new Map(chains)]));
    for (const line of lines) {
      const m = /^(add|flush|delete) (table|chain|rule) netdev (\S+)(?: (\S+))?(.*)$/.exec(line);
      if (!m) throw new Error(`fake nft: unsupported ${line}`);
      const [, verb, what, table, chain, rest] = m;
      const t = draft.get(table!);
      if (what === "table") {
        if (verb === "add" && !t) draft.set(table!, new Map());
        if (verb === "delete") {
          if (!t) throw new FakeKernelError("No such file or directory");
          draft.delete(table!);
        }
        continue;
      }
      if (!t) throw new FakeKernelError("No such file or directory");
      if (what === "chain") {
        if (verb === "add" && !t.has(chain!)) t.set(chain!, undefined);
        if (verb === "flush") t.set(chain!, undefined);
        if (verb === "delete") {
          if (!t.has(chain!)) throw new FakeKernelError("No such file or directory");
          t.delete(chain!);
        }
        continue;
      }
      const n = /numgen random mod 10000 < (\d+)/.exec(rest!);
      if (!t.has(chain!)) throw new FakeKernelError("No such file or directory");
      t.set(chain!, n ? Number(n[1]) / 100 : undefined);
    }
    ns.nft = draft;
  }

  /** The state as `observeNamespaces` would report it, every namespace read in full. */
  observe(topology: string): ObservedState {
    const namespaces = new Map<string, ObservedNamespace>();
    for (const [name, ns] of this.namespaces) {
      const interfaces: ObservedInterface[] = [...ns.devices.values()].map((d) => {
        const peer = d.peer ? this.namespaces.get(d.peer.netns)?.devices.get(d.peer.ifname) : undefined;
        const parent = d.parent ? this.namespaces.get(d.parent.netns)?.devices.get(d.parent.ifname) : undefined;
        const carrier = d.up && (d.kind !== "veth" || peer?.up === true);
        return {
          netns: name,
          ifindex: d.ifindex,
          ifname: d.ifname,
          kind: d.kind,
          alias: d.alias,
          owner: parseOwnerAlias(d.alias),
          mtu: d.mtu,
          mac: d.mac,
          adminUp: d.up,
          carrier,
          operState: carrier ? "UP" : d.up ? "LOWERLAYERDOWN" : "DOWN",
          flags: [...(d.up ? ["UP"] : []), ...(carrier ? ["LOWER_UP"] : [])],
          master: d.master,
          addresses: [...(d.addresses ?? [])],
          linkIndex: peer?.ifindex ?? parent?.ifindex,
          qdisc: d.qdiscs.find((q) => q.root)?.kind ?? "noqueue",
          vxlan: d.vxlan,
          macvlanMode: d.macvlanMode,
          counters: { rxPackets: 0, txPackets: 0, rxBytes: 0, txBytes: 0, rxDropped: 0, txDropped: 0, rxErrors: 0, txErrors: 0 },
        };
      });
      const table = ns.nft.get(`kne_${topology}`);
      namespaces.set(name, {
        name,
        interfaces,
        forwarding: { ...ns.forwarding },
        qdiscs: [...ns.devices.values()].flatMap((d) => d.qdiscs),
        nftTable: table
          ? {
              name: `kne_${topology}`,
              chains: [...table].map(([chain, loss]) => ({ name: chain, ifname: chain.slice(3), hook: "egress", lossPercent: loss, foreignRules: 0 })),
            }
          : null,
      });
    }
    return { netnsNames: [...this.namespaces.keys()].filter((n) => n !== HOST_NETNS), namespaces };
  }
}
