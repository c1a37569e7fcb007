// A ring big enough that every phase and the observation go through the xargs multiplexer,
// on the real kernel; and per-line failure attribution through it.
import { describe, expect, it } from "vitest";
import {
  KernelObjectNotFoundError,
  applyOperations,
  converge,
  convergeOrThrow,
  createNamespaces,
  deleteTopology,
  listOwnedNamespaces,
  nodeNetnsName,
  readInterfaces,
  ringState,
  type KernelOperation,
} from "../src/index.ts";
import { addAddress, canRun, ping, sh, uniqueTopology, useCleanup } from "./helpers.ts";

describe.skipIf(!canRun)("at scale", () => {
  useCleanup();

  it("a 24-node ring converges, stays converged, repairs drift and goes away", async () => {
    const t = uniqueTopology("ring");
    const desired = ringState(t, 24, { ipForwarding: true });
    const first = await convergeOrThrow(desired);
    console.info(`24-node ring: ${first.plan.operations.length} operations, ${first.report.processes} processes, ${first.report.elapsedMs.toFixed(0)} ms`);
    expect(first.report.processes).toBeLessThanOrEqual(4);
    const n5 = await readInterfaces(nodeNetnsName(t, "n5"));
    expect(n5.filter((i) => i.kind === "veth").map((i) => [i.ifname, i.adminUp, i.carrier]).sort()).toEqual([
      ["eth1", true, true],
      ["eth2", true, true],
    ]);
    await addAddress(nodeNetnsName(t, "n5"), "eth1", "10.5.0.1/30");
    await addAddress(nodeNetnsName(t, "n6"), "eth2", "10.5.0.2/30");
    expect((await ping(nodeNetnsName(t, "n5"), "10.5.0.2", ["-c", "1", "-W", "2"])).received).toBe(1);

    const second = await converge(desired);
    expect(second.plan.operations).toEqual([]);
    expect(second.observed.namespaces.size).toBe(24);
    expect([...second.observed.namespaces.values()].every((ns) => ns.forwarding?.ipv4 === true)).toBe(true);

    await sh(nodeNetnsName(t, "n10"), ["link", "del", "dev", "eth1"]);
    await sh(nodeNetnsName(t, "n20"), ["link", "set", "dev", "lo", "down"]);
    const repair = await convergeOrThrow(desired);
    expect(repair.plan.actions.sort()).toEqual(["create veth l10", `set lo up in ${nodeNetnsName(t, "n20")}`]);
    expect((await converge(desired)).plan.operations).toEqual([]);

    const gone = await deleteTopology(t);
    expect(gone.deletedNamespaces).toHaveLength(24);
    expect(await listOwnedNamespaces(t)).toEqual([]);
  });

  it("attributes a failing line to its namespace when batches go through xargs", async () => {
    const t = uniqueTopology("mux");
    const names = Array.from({ length: 8 }, (_, i) => nodeNetnsName(t, `n${i}`));
    await createNamespaces(names, { loopbackUp: false });
    const ops: KernelOperation[] = names.map((netns, i) => ({
      phase: "setup",
      tool: "ip",
      netns,
      args: ["link", "set", "dev", i === 3 ? "nope0" : "lo", "up"],
      object: `netns ${netns} dev ${i === 3 ? "nope0" : "lo"}`,
    }));
    const report = await applyOperations(ops, { multiplexFrom: 2, netlinkHelper: false });
    expect(report.processes).toBe(1);
    expect(report.failures).toHaveLength(1);
    expect(report.failures[0]!.error).toBeInstanceOf(KernelObjectNotFoundError);
    expect(report.failures[0]!.error.message).toContain(`netns ${names[3]} dev nope0`);
    expect((await readInterfaces(names[7]!)).find((i) => i.ifname === "lo")?.adminUp).toBe(true);
  });
});
