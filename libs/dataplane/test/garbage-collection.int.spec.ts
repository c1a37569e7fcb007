// Garbage collection by marker: after deleteTopology no namespace, interface (the host's
// included) or nft table of the topology remains, and objects without our marker survive.
import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import {
  HOST_NETNS,
  type DesiredState,
  collectGarbage,
  convergeOrThrow,
  deleteTopology,
  listOwnedNamespaces,
  nodeNetnsName,
  readInterfaces,
  readNftTable,
} from "../src/index.ts";
import { canRun, fixtureNamespace, sh, trackHostDevice, uniqueTopology, useCleanup } from "./helpers.ts";

function nftTables(netns: string): string {
  const argv = netns === HOST_NETNS ? ["nft", "list", "tables"] : ["nsenter", `--net=/run/netns/${netns}`, "--", "nft", "list", "tables"];
  return spawnSync(argv[0]!, argv.slice(1), { encoding: "utf8" }).stdout;
}

describe.skipIf(!canRun)("garbage collection", () => {
  useCleanup();

  it("deleteTopology removes every marked object and nothing else", async () => {
    const t = uniqueTopology("gc");
    const other = uniqueTopology("gco");
    const pod = await fixtureNamespace(`${t}-pod`);
    // A device of someone else in the foreign namespace must survive.
    await sh(pod, ["link", "add", "name", "theirs0", "type", "veth", "peer", "name", "theirs1"]);
    const hostEnd = `kg${process.pid.toString(36)}`.slice(0, 15);
    trackHostDevice(hostEnd);
    const desired: DesiredState = {
      topology: t,
      wires: [
        { kind: "veth", uid: "1", a: { netns: nodeNetnsName(t, "r1"), ifname: "eth1", impairments: { lossPercent: 10 } }, b: { netns: pod, ifname: "eth1", impairments: { lossPercent: 10 } } },
        { kind: "veth", uid: "2", a: { netns: nodeNetnsName(t, "r1"), ifname: "eth2" }, b: { netns: HOST_NETNS, ifname: hostEnd } },
        { kind: "lan", uid: "lan", members: [{ netns: nodeNetnsName(t, "r1"), ifname: "lan0" }, { netns: nodeNetnsName(t, "r2"), ifname: "lan0" }] },
      ],
    };
    await convergeOrThrow(desired);
    const bystander: DesiredState = { topology: other, wires: [{ kind: "veth", uid: "1", a: { netns: nodeNetnsName(other, "x"), ifname: "eth1" }, b: { netns: nodeNetnsName(other, "y"), ifname: "eth1" } }] };
    await convergeOrThrow(bystander);
    expect((await listOwnedNamespaces(t)).map((n) => n.node).sort()).toEqual(["_fabric", "r1", "r2"]);
    expect((await readInterfaces(HOST_NETNS)).find((i) => i.ifname === hostEnd)?.owner?.topology).toBe(t);
    expect(nftTables(pod)).toContain(`kne_${t}`);

    const report = await deleteTopology(t);
    expect(report.failures).toEqual([]);
    expect(report.deletedNamespaces.sort()).toEqual([`kne.${t}._fabric`, nodeNetnsName(t, "r1"), nodeNetnsName(t, "r2")].sort());

    const netnsList = spawnSync("ip", ["netns", "list"], { encoding: "utf8" }).stdout;
    expect(netnsList).not.toContain(`kne.${t}.`);
    const hostLinks = JSON.parse(spawnSync("ip", ["-json", "link", "show"], { encoding: "utf8" }).stdout) as Array<{ ifname: string; ifalias?: string }>;
    expect(hostLinks.filter((l) => l.ifalias?.startsWith(`kne:${t}:`))).toEqual([]);
    const podLinks = await readInterfaces(pod);
    expect(podLinks.filter((i) => i.alias?.startsWith(`kne:${t}:`))).toEqual([]);
    expect(podLinks.map((i) => i.ifname).sort()).toEqual(["lo", "theirs0", "theirs1"]);
    expect(nftTables(pod)).not.toContain(`kne_${t}`);
    expect(nftTables(HOST_NETNS)).not.toContain(`kne_${t}`);
    // The other topology is untouched.
    expect((await listOwnedNamespaces(other)).map((n) => n.node).sort()).toEqual(["x", "y"]);
    expect((await deleteTopology(t)).deletedNamespaces).toEqual([]);
  });

  it("collectGarbage keeps what it is told to keep", async () => {
    const t = uniqueTopology("gck");
    const pod = await fixtureNamespace(`${t}-pod`);
    const r1 = nodeNetnsName(t, "r1");
    await convergeOrThrow({
      topology: t,
      scope: "listed",
      wires: [
        { kind: "veth", uid: "keep", a: { netns: pod, ifname: "k0", impairments: { lossPercent: 1 } }, b: { netns: r1, ifname: "k0" } },
        { kind: "veth", uid: "drop", a: { netns: pod, ifname: "d0", impairments: { lossPercent: 1 } }, b: { netns: r1, ifname: "d0" } },
        { kind: "veth", uid: "gone", a: { netns: nodeNetnsName(t, "r2"), ifname: "g0" }, b: { netns: nodeNetnsName(t, "r3"), ifname: "g0" } },
      ],
    });
    const report = await collectGarbage(t, { namespaces: [r1], uids: ["keep"] });
    expect(report.failures).toEqual([]);
    expect(report.deletedNamespaces.sort()).toEqual([nodeNetnsName(t, "r2"), nodeNetnsName(t, "r3")]);
    expect((await readInterfaces(pod)).map((i) => i.ifname).sort()).toEqual(["k0", "kne-sink", "lo"]);
    expect((await readNftTable(pod, `kne_${t}`))?.chains.map((c) => c.ifname)).toEqual(["k0"]);
    expect((await readInterfaces(r1)).map((i) => i.ifname).sort()).toEqual(["k0", "lo"]);
  });
});
