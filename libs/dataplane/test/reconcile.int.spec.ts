// The reconciler against the real kernel: a mixed topology converges in one pass, a second
// pass does nothing, drift (a deleted device, a changed MTU, a removed qdisc) is repaired,
// and a smaller desired state removes exactly what is no longer wanted.
import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { type DesiredState, converge, convergeOrThrow, nodeNetnsName, readInterface, readQdiscs } from "../src/index.ts";
import { canRun, sh, uniqueTopology, useCleanup } from "./helpers.ts";

describe.skipIf(!canRun)("reconcile", () => {
  useCleanup();

  it("is idempotent, repairs drift and prunes what is no longer wanted", async () => {
    const t = uniqueTopology("rec");
    const n = (name: string) => nodeNetnsName(t, name);
    const full: DesiredState = {
      topology: t,
      namespaces: [{ name: n("r1"), ipForwarding: true }],
      wires: [
        { kind: "veth", uid: "1", a: { netns: n("r1"), ifname: "eth1", mtu: 9000, impairments: { lossPercent: 5, rateBitsPerSecond: 20e6 } }, b: { netns: n("r2"), ifname: "eth1", mtu: 9000 } },
        { kind: "veth", uid: "2", a: { netns: n("r2"), ifname: "eth2" }, b: { netns: n("r3"), ifname: "eth1", adminUp: false } },
        { kind: "lan", uid: "lan", members: [n("r1"), n("r2"), n("r3")].map((netns) => ({ netns, ifname: "lan0" })) },
      ],
    };

    const first = await convergeOrThrow(full);
    console.info(`first pass: ${first.plan.operations.length} operations in ${first.report.processes} processes, ${first.report.elapsedMs.toFixed(0)} ms`);
    const second = await converge(full);
    expect(second.plan.operations).toEqual([]);
    expect(second.errors).toEqual([]);
    expect(second.observed.namespaces.get(n("r1"))?.forwarding).toEqual({ ipv4: true, ipv6: true });

    // Drift: someone deletes a wire end, changes an MTU and removes a qdisc.
    await sh(n("r3"), ["link", "del", "dev", "eth1"]);
    await sh(n("r2"), ["link", "set", "dev", "eth1", "mtu", "1500"]);
    await sh(n("r2"), ["link", "set", "dev", "lan0", "down"]);
    const tcDel = spawnSync("tc", ["-n", n("r1"), "qdisc", "del", "dev", "eth1", "root"]);
    expect(tcDel.status).toBe(0);
    const repair = await convergeOrThrow(full);
    expect(repair.plan.actions.sort()).toEqual(
      [
        "create veth 2",
        `update netns ${n("r2")} dev eth1: mtu 9000`,
        `update netns ${n("r2")} dev lan0: up`,
        `set qdisc on netns ${n("r1")} dev eth1`,
      ].sort(),
    );
    expect((await converge(full)).plan.operations).toEqual([]);
    expect((await readInterface({ netns: n("r3"), ifname: "eth1" })).adminUp).toBe(false);
    expect((await readQdiscs(n("r1"))).find((q) => q.dev === "eth1" && q.root)?.kind).toBe("tbf");

    // Smaller: drop r3 and the LAN.
    const smaller: DesiredState = { ...full, wires: [full.wires[0]!] };
    const prune = await convergeOrThrow(smaller);
    expect(prune.plan.actions.filter((a) => a.startsWith("delete netns")).sort()).toEqual([`delete netns kne.${t}._fabric`, `delete netns ${n("r3")}`].sort());
    const names = (await sh("", ["netns", "list"])).split("\n").filter((l) => l.startsWith(`kne.${t}.`)).map((l) => l.split(" ")[0]);
    expect(names.sort()).toEqual([n("r1"), n("r2")].sort());
    const again = await converge(smaller);
    expect(again.plan.operations, again.plan.actions.join("\n")).toEqual([]);
  });
});
