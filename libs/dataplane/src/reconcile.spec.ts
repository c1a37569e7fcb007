import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { groupIntoBatches } from "./batch.ts";
import type { DesiredState, EndpointSpec, WireSpec } from "./desired-state.ts";
import { validateDesiredState } from "./desired-state.ts";
import { InvalidArgumentError, KernelFeatureMissingError, KernelObjectExistsError, type KernelFeature } from "./errors.ts";
import { FakeKernel } from "./fake-kernel.test-support.ts";
import { HOST_NETNS, bridgeIfname, fabricNetnsName, legIfname, nodeNetnsName, ownerAlias, vniForUid } from "./names.ts";
import { type Plan, observationRequests, planReconcile } from "./reconcile.ts";
import { ringState } from "./ring.ts";

const ALL: ReadonlySet<KernelFeature> = new Set(["veth", "vxlan", "macvlan", "bridge", "ifb", "sch_tbf", "sch_htb", "sch_netem", "nft_netdev_egress", "nft_fwd"]);
const NO_NETEM: ReadonlySet<KernelFeature> = new Set([...ALL].filter((f) => f !== "sch_netem"));
const HOST_PID = 4242;

const ns = (node: string) => nodeNetnsName("t", node);

function plan(desired: DesiredState, kernel: FakeKernel, features: ReadonlySet<KernelFeature> = ALL): Plan {
  return planReconcile(desired, kernel.observe(desired.topology), { features, hostPid: HOST_PID });
}

/** Plans and applies until nothing is left to do; returns the number of passes. */
function converge(desired: DesiredState, kernel: FakeKernel, features: ReadonlySet<KernelFeature> = ALL): number {
  for (let pass = 1; pass <= 3; pass++) {
    const p = plan(desired, kernel, features);
    if (p.operations.length === 0) return pass;
    const failures = kernel.apply(p.operations);
    expect(failures, JSON.stringify(failures, null, 1)).toEqual([]);
  }
  throw new Error("did not converge in 2 passes");
}

const rich = (): DesiredState => ({
  topology: "t",
  namespaces: [
    { name: ns("r1"), ipForwarding: true },
    { name: ns("r2"), ipForwarding: true },
    { name: ns("h1"), loopbackUp: false },
  ],
  wires: [
    {
      kind: "veth",
      uid: "1",
      a: { netns: ns("r1"), ifname: "eth1", mtu: 9000, mac: "02:00:00:00:01:01", impairments: { lossPercent: 20, rateBitsPerSecond: 50e6 } },
      b: { netns: ns("r2"), ifname: "eth1", mtu: 9000, adminUp: false },
    },
    {
      kind: "lan",
      uid: "lan1",
      members: [
        { netns: ns("r1"), ifname: "eth2" },
        { netns: ns("r2"), ifname: "eth2", impairments: { lossPercent: 5 } },
        { netns: ns("h1"), ifname: "eth0" },
      ],
    },
    {
      kind: "vxlan",
      uid: "9",
      endpoint: { netns: ns("r1"), ifname: "eth3", mtu: 1450 },
      underlay: { netns: HOST_NETNS, local: "198.18.0.1", remote: "198.18.0.2" },
    },
    { kind: "macvlan", uid: "m1", endpoint: { netns: ns("h1"), ifname: "eth1" }, parent: { netns: HOST_NETNS, ifname: "uplink0" } },
  ],
});

function kernelWithUplink(): FakeKernel {
  const k = new FakeKernel();
  k.addDevice(HOST_NETNS, { ifname: "uplink0", kind: "veth", mtu: 1500, mac: "02:00:00:00:99:99", up: true, qdiscs: [] });
  return k;
}

describe("planReconcile from nothing", () => {
  it("creates a ring with one host batch for all wires and one setup batch per namespace", () => {
    const desired = ringState("t", 3);
    const p = plan(desired, new FakeKernel());
    expect(p.problems).toEqual([]);
    const phases = groupIntoBatches(p.operations);
    // netns add and all wires: one host batch each; then one batch per node for lo, marks and peers.
    expect(phases.map((b) => `${b[0]!.phase}:${b.length}`)).toEqual(["netns-add:1", "create:1", "setup:3"]);
    const create = phases[1]![0]!;
    expect(create.netns).toBe(HOST_NETNS);
    expect(create.operations.map((o) => o.args.join(" "))).toEqual([
      `link add name eth1 netns ${ns("n0")} up type veth peer name eth2 netns ${ns("n1")}`,
      `link add name eth1 netns ${ns("n1")} up type veth peer name eth2 netns ${ns("n2")}`,
      `link add name eth1 netns ${ns("n2")} up type veth peer name eth2 netns ${ns("n0")}`,
    ]);
    const setupN1 = phases[2]!.find((b) => b.netns === ns("n1"))!;
    expect(setupN1.operations.map((o) => o.args.join(" ")).sort()).toEqual([
      "link set dev eth1 alias kne:t:l1",
      "link set dev eth2 alias kne:t:l0 up",
      "link set dev lo up",
    ]);
  });

  it("places LAN bridges and legs in the fabric namespace", () => {
    const p = plan(rich(), kernelWithUplink());
    const fabric = fabricNetnsName("t");
    const br = bridgeIfname("t", "lan1");
    const leg = legIfname("t", "lan1", ns("r1"), "eth2");
    const lines = p.operations.filter((o) => o.netns === fabric).map((o) => `${o.phase}: ${o.args.join(" ")}`);
    expect(lines).toContain(`prepare: link add name ${br} up type bridge mcast_snooping 0`);
    expect(lines).toContain(`create: link add name ${leg} master ${br} up type veth peer name eth2 netns ${ns("r1")}`);
    expect(lines).toContain(`setup: link set dev ${leg} alias ${ownerAlias("t", "lan1")}`);
  });

  it("creates VXLAN in the underlay namespace and macvlan beside its parent", () => {
    const p = plan(rich(), kernelWithUplink());
    const creates = p.operations.filter((o) => o.phase === "create" && o.netns === HOST_NETNS).map((o) => o.args.join(" "));
    expect(creates).toContain(
      `link add name eth3 netns ${ns("r1")} mtu 1450 up type vxlan id ${vniForUid("t", "9")} local 198.18.0.1 remote 198.18.0.2 dstport 4789`,
    );
    expect(creates).toContain(`link add name eth1 netns ${ns("h1")} link uplink0 up type macvlan mode bridge`);
  });

  it("addresses the host namespace by pid when a device must land there", () => {
    const desired: DesiredState = {
      topology: "t",
      wires: [{ kind: "veth", uid: "h", a: { netns: ns("r1"), ifname: "eth9" }, b: { netns: HOST_NETNS, ifname: "kne-h" } }],
    };
    const k = new FakeKernel();
    const p = plan(desired, k);
    expect(p.operations.find((o) => o.phase === "create")!.args.join(" ")).toBe(`link add name eth9 netns ${ns("r1")} up type veth peer name kne-h`);
    const vx: DesiredState = {
      topology: "t",
      wires: [{ kind: "vxlan", uid: "v", endpoint: { netns: HOST_NETNS, ifname: "vx0" }, underlay: { netns: "underlay", local: "198.18.0.1", remote: "198.18.0.2" } }],
    };
    k.addNetns("underlay");
    expect(plan(vx, k).operations.find((o) => o.phase === "create")!.args).toEqual(expect.arrayContaining(["netns", String(HOST_PID)]));
  });
});

describe("convergence and idempotence", () => {
  it("converges a mixed topology in one pass and then plans nothing", () => {
    const k = kernelWithUplink();
    expect(converge(rich(), k)).toBe(2);
    const r1 = k.observe("t").namespaces.get(ns("r1"))!;
    expect(r1.interfaces.find((i) => i.ifname === "eth1")).toMatchObject({ mtu: 9000, mac: "02:00:00:00:01:01", adminUp: true, qdisc: "tbf" });
    expect(r1.nftTable?.chains).toEqual([expect.objectContaining({ ifname: "eth1", lossPercent: 20 })]);
    expect(r1.forwarding).toEqual({ ipv4: true, ipv6: true });
    expect(k.observe("t").namespaces.get(ns("r2"))!.interfaces.find((i) => i.ifname === "eth1")!.adminUp).toBe(false);
    expect(k.observe("t").namespaces.get(ns("h1"))!.interfaces.find((i) => i.ifname === "lo")!.adminUp).toBe(false);
  });

  it("converges any small random topology in one pass (property)", () => {
    const nodes = ["a", "b", "c", "d"];
    const endpointArb = (ifname: string) =>
      fc.record({
        node: fc.constantFrom(...nodes),
        mtu: fc.option(fc.constantFrom(1400, 1500, 9000), { nil: undefined }),
        adminUp: fc.option(fc.boolean(), { nil: undefined }),
        loss: fc.option(fc.constantFrom(1, 20, 50), { nil: undefined }),
        rate: fc.option(fc.constantFrom(1e6, 50e6), { nil: undefined }),
        ifname: fc.constant(ifname),
      });
    const wireArb = fc.oneof(
      fc.record({ kind: fc.constant("veth" as const), a: endpointArb("a"), b: endpointArb("b") }),
      fc.record({ kind: fc.constant("lan" as const), members: fc.array(endpointArb("m"), { minLength: 1, maxLength: 3 }) }),
    );
    fc.assert(
      fc.property(fc.array(wireArb, { maxLength: 5 }), fc.array(wireArb, { maxLength: 5 }), (first, second) => {
        const build = (wires: typeof first): DesiredState => {
          let n = 0;
          const ep = (e: { node: string; mtu?: number; adminUp?: boolean; loss?: number; rate?: number; ifname: string }): EndpointSpec => ({
            netns: ns(e.node),
            ifname: `${e.ifname}${n++}`,
            mtu: e.mtu,
            adminUp: e.adminUp,
            impairments: e.loss || e.rate ? { lossPercent: e.loss, rateBitsPerSecond: e.rate } : undefined,
          });
          return {
            topology: "t",
            wires: wires.map((w, i): WireSpec => (w.kind === "veth" ? { kind: "veth", uid: `w${i}`, a: ep(w.a), b: ep(w.b) } : { kind: "lan", uid: `s${i}`, members: w.members.map(ep) })),
          };
        };
        const k = new FakeKernel();
        expect(converge(build(first), k)).toBeLessThanOrEqual(2);
        // Level-triggered: a different wanted state converges from whatever is there.
        expect(converge(build(second), k)).toBeLessThanOrEqual(2);
        const left = k.observe("t");
        const ours = [...left.namespaces.values()].flatMap((n) => n.interfaces.filter((i) => i.owner?.topology === "t" && i.owner.uid !== "_sink"));
        const wantedCount = build(second).wires.reduce((sum, w) => sum + (w.kind === "lan" ? w.members.length * 2 + 1 : 2), 0);
        expect(ours).toHaveLength(wantedCount);
      }),
      { numRuns: 150 },
    );
  });

  it("fixes drift in place: MTU, admin state, alias", () => {
    const k = kernelWithUplink();
    converge(rich(), k);
    k.dev(ns("r1"), "eth1").mtu = 1500;
    k.dev(ns("r2"), "eth1").up = true;
    k.dev(ns("r1"), "eth3").alias = undefined;
    const p = plan(rich(), k);
    expect(p.operations.map((o) => `${o.netns} ${o.args.join(" ")}`)).toEqual([
      `${ns("r1")} link set dev eth1 mtu 9000`,
      `${ns("r2")} link set dev eth1 down`,
      `${ns("r1")} link set dev eth3 alias kne:t:9`,
    ]);
  });

  it("recreates a wire that lost an end and re-applies its impairments", () => {
    const k = kernelWithUplink();
    converge(rich(), k);
    k.deleteDevice(ns("r1"), "eth1"); // takes the peer with it
    const p = plan(rich(), k);
    expect(p.actions).toContain("create veth 1");
    expect(p.operations.some((o) => o.tool === "nft" && o.netns === ns("r1"))).toBe(true);
    expect(p.operations.some((o) => o.tool === "tc" && o.netns === ns("r1") && o.args[1] === "add")).toBe(true);
    k.apply(p.operations);
    expect(plan(rich(), k).operations).toEqual([]);
  });

  it("reattaches LAN legs to a recreated bridge", () => {
    const k = kernelWithUplink();
    converge(rich(), k);
    const fabric = fabricNetnsName("t");
    const br = bridgeIfname("t", "lan1");
    k.deleteDevice(fabric, br);
    const p = plan(rich(), k);
    expect(p.operations.filter((o) => o.netns === fabric && o.args.includes("master")).map((o) => o.args.join(" "))).toHaveLength(3);
    k.apply(p.operations);
    expect(plan(rich(), k).operations).toEqual([]);
  });

  it("changes and clears impairments", () => {
    const k = kernelWithUplink();
    const desired = rich();
    converge(desired, k);
    const a = (desired.wires[0] as { a: EndpointSpec }).a;
    a.impairments = { lossPercent: 10, rateBitsPerSecond: 50e6 };
    let p = plan(desired, k);
    expect(p.operations.map((o) => o.tool)).toEqual(["nft"]);
    k.apply(p.operations);
    a.impairments = undefined;
    (desired.wires[1] as { members: EndpointSpec[] }).members[1]!.impairments = undefined;
    p = plan(desired, k);
    expect(p.actions).toEqual(
      expect.arrayContaining([`clear qdisc on netns ${ns("r1")} dev eth1`, `delete nft table in ${ns("r1")}`, `remove netns ${ns("r1")} dev kne-sink (no loss wanted)`]),
    );
    k.apply(p.operations);
    expect(plan(desired, k).operations).toEqual([]);
    expect(k.observe("t").namespaces.get(ns("r1"))!.nftTable).toBeNull();
  });
});

describe("ownership", () => {
  it("deletes stale devices and namespaces of the topology only", () => {
    const k = new FakeKernel();
    converge(ringState("t", 4), k);
    converge(ringState("u", 2), k);
    const smaller: DesiredState = { ...ringState("t", 3), wires: ringState("t", 3).wires.slice(0, 1) };
    const p = plan(smaller, k);
    expect(p.actions).toEqual(expect.arrayContaining([`delete netns ${ns("n3")}`]));
    expect(p.operations.every((o) => !o.args.join(" ").includes("kne.u."))).toBe(true);
    k.apply(p.operations);
    expect(plan(smaller, k).operations).toEqual([]);
    expect(k.observe("u").netnsNames.filter((n) => n.startsWith("kne.u."))).toHaveLength(2);
  });

  it("with scope \"listed\" leaves the topology's other namespaces to their own agent", () => {
    const k = new FakeKernel();
    const hostA: DesiredState = { topology: "t", scope: "listed", wires: [{ kind: "veth", uid: "1", a: { netns: ns("a1"), ifname: "e1" }, b: { netns: ns("a2"), ifname: "e1" } }] };
    const hostB: DesiredState = { topology: "t", scope: "listed", wires: [{ kind: "veth", uid: "2", a: { netns: ns("b1"), ifname: "e1" }, b: { netns: ns("b2"), ifname: "e1" } }] };
    converge(hostA, k);
    converge(hostB, k);
    expect(plan(hostA, k).operations).toEqual([]);
    expect(k.observe("t").netnsNames.sort()).toEqual([ns("a1"), ns("a2"), ns("b1"), ns("b2")]);
    expect(plan({ ...hostA, scope: "topology" }, k).actions).toEqual([`delete netns ${ns("b1")}`, `delete netns ${ns("b2")}`]);
  });

  it("leaves a foreign device alone and reports the conflict", () => {
    const k = new FakeKernel();
    k.addNetns("cni-1");
    k.addDevice("cni-1", { ifname: "eth1", kind: "veth", mtu: 1500, mac: "02:00:00:00:00:05", up: true, qdiscs: [] });
    const desired: DesiredState = {
      topology: "t",
      wires: [
        { kind: "veth", uid: "1", a: { netns: "cni-1", ifname: "eth1" }, b: { netns: ns("r2"), ifname: "eth1" } },
        { kind: "veth", uid: "2", a: { netns: "cni-1", ifname: "eth2" }, b: { netns: ns("r2"), ifname: "eth2" } },
      ],
    };
    const p = plan(desired, k);
    expect(p.problems).toHaveLength(1);
    expect(p.problems[0]).toBeInstanceOf(KernelObjectExistsError);
    expect(p.problems[0]!.message).toContain("netns cni-1 dev eth1 exists and is not ours");
    expect(p.operations.some((o) => o.args.includes("eth1") && o.netns === "cni-1")).toBe(false);
    expect(p.actions).toContain("create veth 2");
  });

  it("adopts an unmarked device in its own namespace (a pass that died before marking)", () => {
    const k = new FakeKernel();
    const desired = ringState("t", 2);
    const p = plan(desired, k);
    k.apply(p.operations.filter((o) => o.phase !== "setup"));
    const again = plan(desired, k);
    expect(again.problems).toEqual([]);
    expect(again.operations.every((o) => o.phase === "setup")).toBe(true);
  });

  it("reports a namespace that does not exist", () => {
    const desired: DesiredState = { topology: "t", wires: [{ kind: "veth", uid: "1", a: { netns: "cni-gone", ifname: "eth1" }, b: { netns: ns("r1"), ifname: "eth1" } }] };
    const p = plan(desired, new FakeKernel());
    expect(p.problems.map((e) => e.code)).toEqual(["NOT_FOUND"]);
    expect(p.operations.some((o) => o.phase === "create")).toBe(false);
  });
});

describe("kernel features", () => {
  it("reports sch_netem missing for a delay, and still builds the wire", () => {
    const desired: DesiredState = {
      topology: "t",
      wires: [{ kind: "veth", uid: "1", a: { netns: ns("a"), ifname: "eth1", impairments: { delayMs: 10 } }, b: { netns: ns("b"), ifname: "eth1" } }],
    };
    const p = plan(desired, new FakeKernel(), NO_NETEM);
    expect(p.problems).toHaveLength(1);
    const e = p.problems[0] as KernelFeatureMissingError;
    expect(e).toBeInstanceOf(KernelFeatureMissingError);
    expect(e.feature).toBe("sch_netem");
    expect(e.code).toBe("FAILED_PRECONDITION");
    expect(e.message).toContain(`delay on netns ${ns("a")} dev eth1`);
    expect(p.actions).toContain("create veth 1");
    expect(p.operations.some((o) => o.tool === "tc" && o.args[1] === "add")).toBe(false);
  });
});

describe("bridge ports (a host end on a bridge, addresses on the node end)", () => {
  const port = (address = "198.19.0.2/16"): DesiredState => ({
    topology: "t",
    wires: [
      {
        kind: "veth",
        uid: "port.kmg1",
        a: { netns: HOST_NETNS, ifname: "kmg1", master: "br0", adminUp: true },
        b: { netns: ns("r1"), ifname: "eth0", addresses: [address] },
      },
    ],
  });
  const withBridge = (): FakeKernel => {
    const k = new FakeKernel();
    k.addDevice(HOST_NETNS, { ifname: "br0", kind: "bridge", mtu: 1500, mac: "02:00:00:00:00:b0", up: true, qdiscs: [] });
    return k;
  };

  it("makes the port on the bridge with the address in one pass, then has nothing to do", () => {
    const k = withBridge();
    const first = plan(port(), k);
    const create = first.operations.find((o) => o.phase === "create")!;
    // The host end joins the bridge as the kernel creates it: no separate line for it.
    expect(create.args.slice(0, 6)).toEqual(["link", "add", "name", "kmg1", "master", "br0"]);
    expect(first.operations.filter((o) => o.args[0] === "addr")).toEqual([
      expect.objectContaining({ phase: "setup", netns: ns("r1"), args: ["addr", "replace", "198.19.0.2/16", "dev", "eth0"] }),
    ]);
    expect(converge(port(), k)).toBe(2);
    expect(k.dev(HOST_NETNS, "kmg1").master).toBe("br0");
    expect(k.dev(ns("r1"), "eth0").addresses).toEqual(["198.19.0.2/16"]);
    expect(k.dev(ns("r1"), "eth0").up).toBe(true);
  });

  it("puts back a missing address and a port taken off the bridge, leaving other addresses", () => {
    const k = withBridge();
    converge(port(), k);
    k.dev(ns("r1"), "eth0").addresses = ["10.0.0.1/24"];
    k.dev(HOST_NETNS, "kmg1").master = undefined;
    const p = plan(port(), k);
    expect(p.actions.sort()).toEqual(["add address 198.19.0.2/16 to netns kne.t.r1 dev eth0", "update netns (host) dev kmg1: master br0"]);
    expect(converge(port(), k)).toBe(2);
    expect(k.dev(ns("r1"), "eth0").addresses).toEqual(["10.0.0.1/24", "198.19.0.2/16"]);
  });

  it("takes over a port marked by the earlier management code of the same topology only", () => {
    const k = withBridge();
    converge(port(), k);
    k.dev(HOST_NETNS, "kmg1").alias = "kne-mgmt:t:r1";
    k.dev(ns("r1"), "eth0").alias = "kne-mgmt:t:r1";
    const p = plan(port(), k);
    expect(p.problems).toEqual([]);
    expect(p.actions.every((a) => a.startsWith("update"))).toBe(true);
    expect(converge(port(), k)).toBe(2);
    expect(k.dev(HOST_NETNS, "kmg1").alias).toBe(ownerAlias("t", "port.kmg1"));
    k.dev(HOST_NETNS, "kmg1").alias = "kne-mgmt:other:r1";
    expect(plan(port(), k).problems[0]).toBeInstanceOf(KernelObjectExistsError);
  });

  it("gives a macvlan port its address in the pass that makes it, and nothing to do after", () => {
    const k = withBridge();
    const desired: DesiredState = {
      topology: "t",
      wires: [{ kind: "macvlan", uid: "port.kmg1", endpoint: { netns: ns("r1"), ifname: "eth0", addresses: ["198.19.0.3/16"] }, parent: { netns: HOST_NETNS, ifname: "br0" }, mode: "bridge" }],
    };
    expect(converge(desired, k)).toBe(2);
    expect(k.dev(ns("r1"), "eth0").addresses).toEqual(["198.19.0.3/16"]);
  });

    it("rejects a bad bridge name or address, naming the field", () => {
    const bad = port("198.19.0.2");
    expect(() => validateDesiredState(bad)).toThrow(/wires\[0\]\.b\.addresses\[0\]/);
    const badMaster = port();
    (badMaster.wires[0] as { a: EndpointSpec }).a.master = "a b";
    expect(() => validateDesiredState(badMaster)).toThrow(/wires\[0\]\.a\.master/);
  });
});

describe("validation", () => {
  const bad = (d: Partial<DesiredState>, re: RegExp) => expect(() => validateDesiredState({ topology: "t", wires: [], ...d })).toThrow(re);
  it("rejects what must not reach the kernel, naming the field", () => {
    bad({ topology: "T" }, /DNS label/);
    bad({ wires: [{ kind: "veth", uid: "1", a: { netns: ns("a"), ifname: "x".repeat(16) }, b: { netns: ns("b"), ifname: "e" } }] }, /wires\[0\]\.a\.ifname/);
    bad({ wires: [{ kind: "veth", uid: "1", a: { netns: ns("a"), ifname: "e1" }, b: { netns: ns("a"), ifname: "e1" } }] }, /already used by wires\[0\]/);
    bad({ wires: [{ kind: "veth", uid: "1", a: { netns: "kne.other.a", ifname: "e1" }, b: { netns: ns("a"), ifname: "e2" } }] }, /belongs to topology other/);
    bad({ wires: [{ kind: "veth", uid: "1", a: { netns: "123", ifname: "e1" }, b: { netns: ns("a"), ifname: "e2" } }] }, /process id/);
    bad({ wires: [{ kind: "veth", uid: "1", a: { netns: ns("a"), ifname: "lo" }, b: { netns: ns("b"), ifname: "e2" } }] }, /reserved/);
    bad({ namespaces: [{ name: "kne.other.a" }] }, /not a node namespace of topology t/);
    const vx = (uid: string, vni?: number): WireSpec => ({ kind: "vxlan", uid, vni, endpoint: { netns: ns(uid), ifname: "vx" }, underlay: { netns: "", local: "198.18.0.1", remote: "198.18.0.2" } });
    bad({ wires: [vx("a", 100), vx("b", 100)] }, /VNI 100 .* already used/);
    expect(() => validateDesiredState({ topology: "t", wires: [vx("a", 100), vx("b", 101)] })).not.toThrow();
    expect(() => validateDesiredState({ topology: "t", wires: [{ kind: "lan", uid: "l", members: [] }] })).toThrow(InvalidArgumentError);
  });
});

describe("observationRequests", () => {
  it("covers desired, existing-ours, parents and extras; reads tc/nft where impairments are wanted", () => {
    const reqs = observationRequests(rich(), [ns("r1"), ns("old"), "kne.u.x", "cni-9"], ["cni-9"]);
    const byNs = new Map(reqs.map((r) => [r.netns, r]));
    expect([...byNs.keys()].sort()).toEqual([HOST_NETNS, "cni-9", fabricNetnsName("t"), ns("h1"), ns("old"), ns("r1"), ns("r2")].sort());
    expect(byNs.get(ns("r1"))).toEqual({ netns: ns("r1"), qdiscs: true, nft: true });
    expect(byNs.get(ns("h1"))).toEqual({ netns: ns("h1"), qdiscs: "auto", nft: "auto" });
  });
});
