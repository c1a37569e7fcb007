// Samples in testdata/ were captured on Linux 6.18 with iproute2 6.1 and nftables 1.0.6:
// a veth wire (w1) whose far end is down, a LAN member (lan1), a macvlan (m1), a VXLAN end
// (v1), the loss sink, a tbf qdisc and our nft loss chain.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseIpLink, parseNftTable, parseObserveBatch, parseTcQdiscs, splitJsonDocuments } from "./observe.ts";

const sample = (name: string) => readFileSync(new URL(`./testdata/${name}`, import.meta.url), "utf8");

describe("splitJsonDocuments", () => {
  it("splits back-to-back documents and ignores brackets in strings", () => {
    expect(splitJsonDocuments('[{"a":"]["}]\n[1,2]\n{"b":{}}')).toEqual([[{ a: "][" }], [1, 2], { b: {} }]);
    expect(splitJsonDocuments("")).toEqual([]);
  });
});

describe("parseObserveBatch", () => {
  const r1 = parseObserveBatch(sample("ip-observe-r1.txt"), "kne.fx.r1");
  const byName = new Map(r1.interfaces.map((i) => [i.ifname, i]));

  it("reads every interface with owner, kind, state and counters", () => {
    expect([...byName.keys()]).toEqual(["lo", "eth1", "eth3", "eth4", "eth5", "kne-sink"]);
    const eth1 = byName.get("eth1")!;
    expect(eth1).toMatchObject({
      netns: "kne.fx.r1",
      kind: "veth",
      owner: { topology: "fx", uid: "w1" },
      mtu: 9000,
      mac: "02:00:00:00:01:01",
      adminUp: true,
      qdisc: "tbf",
      linkIndex: 2,
    });
    // The peer is down: no LOWER_UP, whatever the (lazily updated) operstate says.
    expect(eth1.carrier).toBe(false);
    expect(eth1.counters).toEqual(expect.objectContaining({ rxPackets: expect.any(Number), txBytes: expect.any(Number) }));
    expect(byName.get("lo")!.kind).toBeUndefined();
    expect(byName.get("lo")!.adminUp).toBe(true);
  });

  it("reads VXLAN and macvlan details", () => {
    expect(byName.get("eth5")!.vxlan).toEqual({ vni: 4242, local: "198.18.0.1", remote: "198.18.0.2", port: 4789 });
    expect(byName.get("eth4")!).toMatchObject({ kind: "macvlan", macvlanMode: "bridge", owner: { uid: "m1" } });
    expect(byName.get("kne-sink")!).toMatchObject({ kind: "ifb", owner: { topology: "fx", uid: "_sink" }, adminUp: false });
  });

  it("reads forwarding from netconf", () => {
    expect(r1.forwarding).toEqual({ ipv4: true, ipv6: false });
    expect(parseObserveBatch(sample("ip-observe-r2.txt"), "kne.fx.r2").forwarding).toEqual({ ipv4: false, ipv6: false });
  });

  it("pairs veth peers through link_index and sees admin-down ends", () => {
    const r2 = parseObserveBatch(sample("ip-observe-r2.txt"), "kne.fx.r2");
    const eth2 = r2.interfaces.find((i) => i.ifname === "eth2")!;
    expect(eth2).toMatchObject({ adminUp: false, carrier: false, operState: "DOWN", linkIndex: 2, mtu: 9000 });
    expect(byName.get("eth1")!.linkIndex).toBe(eth2.ifindex);
    expect(eth2.linkIndex).toBe(byName.get("eth1")!.ifindex);
  });

  it("reads bridge ports", () => {
    const fabric = parseObserveBatch(sample("ip-observe-fabric.txt"), "kne.fx._fabric");
    const leg = fabric.interfaces.find((i) => i.ifname === "kl1")!;
    expect(leg).toMatchObject({ kind: "veth", master: "kbabc", owner: { uid: "lan1" } });
    expect(fabric.interfaces.find((i) => i.ifname === "kbabc")!.kind).toBe("bridge");
  });

  it("reads addresses from `ip addr show` entries, and leaves them unknown for `ip link show` ones", () => {
    const entry = {
      ifindex: 3,
      ifname: "eth0",
      flags: ["UP"],
      mtu: 1500,
      address: "02:00:00:00:00:01",
      addr_info: [
        { family: "inet", local: "198.19.0.2", prefixlen: 16 },
        { family: "inet6", local: "fe80::1", prefixlen: 64 },
        { family: "inet" },
      ],
    };
    expect(parseIpLink([entry], "n")[0]!.addresses).toEqual(["198.19.0.2/16", "fe80::1/64"]);
    const { addr_info: _, ...linkOnly } = entry;
    expect(parseIpLink([linkOnly], "n")[0]!.addresses).toBeUndefined();
  });

    it("ignores entries without a name", () => {
    expect(parseIpLink([{ ifindex: 1 }, null, "x"], "n")).toEqual([]);
    expect(parseIpLink({}, "n")).toEqual([]);
  });
});

describe("parseTcQdiscs", () => {
  it("reads tbf rate in bit/s and burst", () => {
    const q = parseTcQdiscs(JSON.parse(sample("tc-qdisc-r1.json")));
    const tbf = q.find((x) => x.dev === "eth1")!;
    expect(tbf).toMatchObject({ kind: "tbf", root: true, handle: "1:", rateBitsPerSecond: 50_000_000 });
    expect(tbf.burstBytes).toBeGreaterThan(60_000);
    expect(q.find((x) => x.dev === "eth3")!.kind).toBe("noqueue");
  });

  it("reads netem options best-effort", () => {
    const q = parseTcQdiscs([
      { kind: "netem", handle: "1:", dev: "eth1", root: true, options: { limit: 1000, delay: { delay: 0.01, jitter: 0.002 }, duplicate: { duplicate: 0.01 } } },
    ]);
    expect(q[0]!.netem).toMatchObject({ delayMs: 10, jitterMs: 2, duplicatePercent: 1 });
  });
});

describe("parseNftTable", () => {
  it("finds our chain, its interface and the loss", () => {
    const t = parseNftTable(JSON.parse(sample("nft-r1.json")), "kne_fx");
    expect(t).toEqual({ name: "kne_fx", chains: [{ name: "eg_eth1", ifname: "eth1", hook: "egress", lossPercent: 20, foreignRules: 0 }] });
  });

  it("returns null when the table is not there", () => {
    expect(parseNftTable(JSON.parse(sample("nft-r1.json")), "kne_other")).toBeNull();
    expect(parseNftTable({ nftables: [] }, "kne_fx")).toBeNull();
  });
});
