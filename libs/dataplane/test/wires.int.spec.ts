// Wires for real: veth, VXLAN between two test "hosts", a three-node LAN and a macvlan host
// attachment. Every address is in TEST-NET / benchmarking ranges inside our own namespaces.
import { describe, expect, it } from "vitest";
import {
  type DesiredState,
  bridgeIfname,
  convergeOrThrow,
  converge,
  fabricNetnsName,
  nodeNetnsName,
  readInterface,
  readInterfaces,
  vniForUid,
} from "../src/index.ts";
import { addAddress, canRun, fixtureNamespace, ping, sh, uniqueTopology, useCleanup } from "./helpers.ts";

describe.skipIf(!canRun)("wires", () => {
  useCleanup();

  it("veth: creates a pair with MTU and MAC, marks both ends, and carries ping", async () => {
    const t = uniqueTopology("veth");
    const r1 = nodeNetnsName(t, "r1");
    const r2 = nodeNetnsName(t, "r2");
    const desired: DesiredState = {
      topology: t,
      wires: [{ kind: "veth", uid: "1", a: { netns: r1, ifname: "eth1", mtu: 9000, mac: "02:00:00:00:01:01" }, b: { netns: r2, ifname: "eth1", mtu: 9000 } }],
    };
    const first = await convergeOrThrow(desired);
    expect(first.plan.actions).toContain("create veth 1");
    const a = await readInterface({ netns: r1, ifname: "eth1" });
    const b = await readInterface({ netns: r2, ifname: "eth1" });
    expect(a).toMatchObject({ kind: "veth", mtu: 9000, mac: "02:00:00:00:01:01", adminUp: true, owner: { topology: t, uid: "1" } });
    expect(b).toMatchObject({ kind: "veth", mtu: 9000, adminUp: true, carrier: true, owner: { topology: t, uid: "1" } });
    expect(a.linkIndex).toBe(b.ifindex);
    expect((await readInterface({ netns: r1, ifname: "lo" })).adminUp).toBe(true);

    await addAddress(r1, "eth1", "10.0.0.1/30");
    await addAddress(r2, "eth1", "10.0.0.2/30");
    const p = await ping(r1, "10.0.0.2");
    expect(p.received, p.output).toBe(3);
    const after = await readInterface({ netns: r2, ifname: "eth1" });
    expect(after.counters.rxPackets).toBeGreaterThanOrEqual(3);
    expect(after.counters.txPackets).toBeGreaterThanOrEqual(3);
    expect(after.counters.rxBytes).toBeGreaterThan(0);

    const second = await converge(desired);
    expect(second.plan.operations).toEqual([]);
    expect(second.errors).toEqual([]);
  });

  it("vxlan: two agents on two underlay hosts join their nodes over VNI-derived tunnels", async () => {
    const t = uniqueTopology("vx");
    const host1 = await fixtureNamespace(`${t}-h1`);
    const host2 = await fixtureNamespace(`${t}-h2`);
    await sh(host1, ["link", "add", "name", "u1", "type", "veth", "peer", "name", "u2", "netns", host2]);
    await addAddress(host1, "u1", "198.18.0.1/24");
    await addAddress(host2, "u2", "198.18.0.2/24");
    await sh(host1, ["link", "set", "dev", "u1", "up"]);
    await sh(host2, ["link", "set", "dev", "u2", "up"]);
    const r1 = nodeNetnsName(t, "r1");
    const r2 = nodeNetnsName(t, "r2");
    // Each "agent" converges only its own side; both derive the VNI from topology and uid.
    const side = (netns: string, underlay: string, local: string, remote: string): DesiredState => ({
      topology: t,
      scope: "listed", // both "hosts" share this kernel: neither may prune the other's node
      wires: [{ kind: "vxlan", uid: "7", endpoint: { netns, ifname: "eth1", mtu: 1450 }, underlay: { netns: underlay, local, remote } }],
    });
    await convergeOrThrow(side(r1, host1, "198.18.0.1", "198.18.0.2"));
    await convergeOrThrow(side(r2, host2, "198.18.0.2", "198.18.0.1"));
    const e1 = await readInterface({ netns: r1, ifname: "eth1" });
    const e2 = await readInterface({ netns: r2, ifname: "eth1" });
    expect(e1.vxlan).toEqual({ vni: vniForUid(t, "7"), local: "198.18.0.1", remote: "198.18.0.2", port: 4789 });
    expect(e2.vxlan?.vni).toBe(e1.vxlan?.vni);
    expect(e1).toMatchObject({ kind: "vxlan", mtu: 1450, adminUp: true, owner: { topology: t, uid: "7" } });
    // The underlay socket stays in the host namespace: nothing of ours is left there.
    expect((await readInterfaces(host1)).map((i) => i.ifname).sort()).toEqual(["lo", "u1"]);

    await addAddress(r1, "eth1", "10.7.0.1/24");
    await addAddress(r2, "eth1", "10.7.0.2/24");
    const p = await ping(r1, "10.7.0.2");
    expect(p.received, p.output).toBe(3);
    const u1 = await readInterface({ netns: host1, ifname: "u1" });
    expect(u1.counters.txPackets).toBeGreaterThanOrEqual(3);

    expect((await converge(side(r1, host1, "198.18.0.1", "198.18.0.2"))).plan.operations).toEqual([]);
  });

  it("lan: three nodes on one bridge in the topology's fabric namespace reach each other", async () => {
    const t = uniqueTopology("lan");
    const nodes = ["a", "b", "c"].map((n) => nodeNetnsName(t, n));
    const desired: DesiredState = { topology: t, wires: [{ kind: "lan", uid: "seg1", members: nodes.map((netns) => ({ netns, ifname: "eth1" })) }] };
    await convergeOrThrow(desired);
    const fabric = await readInterfaces(fabricNetnsName(t));
    const br = bridgeIfname(t, "seg1");
    expect(fabric.find((i) => i.ifname === br)).toMatchObject({ kind: "bridge", adminUp: true, owner: { uid: "seg1" } });
    expect(fabric.filter((i) => i.master === br)).toHaveLength(3);
    await Promise.all(nodes.map((n, i) => addAddress(n, "eth1", `10.9.0.${i + 1}/24`)));
    for (const [from, to] of [[0, 1], [1, 2], [2, 0]] as const) {
      const p = await ping(nodes[from]!, `10.9.0.${to + 1}`, ["-c", "2", "-i", "0.2", "-W", "1"]);
      expect(p.received, `${from}->${to}: ${p.output}`).toBe(2);
    }
    expect((await converge(desired)).plan.operations).toEqual([]);
  });

  it("macvlan: a node attaches to a host interface and reaches the network behind it", async () => {
    const t = uniqueTopology("mv");
    // The "host" has an uplink (a veth; never a real NIC) into an "external" network.
    const host = await fixtureNamespace(`${t}-host`);
    const ext = await fixtureNamespace(`${t}-ext`);
    await sh(host, ["link", "add", "name", "up0", "type", "veth", "peer", "name", "up0p", "netns", ext]);
    await sh(host, ["link", "set", "dev", "up0", "up"]);
    await sh(ext, ["link", "set", "dev", "up0p", "up"]);
    await addAddress(ext, "up0p", "198.18.1.1/24");
    const node = nodeNetnsName(t, "h1");
    const desired: DesiredState = {
      topology: t,
      wires: [{ kind: "macvlan", uid: "mgmt", endpoint: { netns: node, ifname: "eth0", mac: "02:00:00:00:0a:01" }, parent: { netns: host, ifname: "up0" } }],
    };
    await convergeOrThrow(desired);
    const eth0 = await readInterface({ netns: node, ifname: "eth0" });
    expect(eth0).toMatchObject({ kind: "macvlan", macvlanMode: "bridge", mac: "02:00:00:00:0a:01", adminUp: true, owner: { topology: t, uid: "mgmt" } });
    await addAddress(node, "eth0", "198.18.1.2/24");
    const p = await ping(node, "198.18.1.1");
    expect(p.received, p.output).toBe(3);
    expect((await converge(desired, { extraNamespaces: [host] })).plan.operations).toEqual([]);
  });
});
