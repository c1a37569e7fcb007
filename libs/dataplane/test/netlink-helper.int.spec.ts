// The netlink helper against the kernel: the lines it runs inside namespaces take the same
// effect as `ip` would (alias, mtu, MAC, master, up/down, addresses), and failures come back
// per operation with ip's error codes. Addresses are TEST-NET ranges inside our own namespaces.
import { describe, expect, it } from "vitest";
import { type KernelOperation, applyOperations, readInterface, readInterfaces } from "../src/index.ts";
import { canRun, fixtureNamespace, sh, useCleanup } from "./helpers.ts";

function op(netns: string, args: string, ignore?: KernelOperation["ignore"]): KernelOperation {
  return { phase: "setup", tool: "ip", netns, args: args.split(" "), object: `netns ${netns}`, ...(ignore ? { ignore } : {}) };
}

describe.skipIf(!canRun)("netlink helper", () => {
  useCleanup();

  it("sets links and addresses in many namespaces from one process, and reports failures per line", async () => {
    const names: string[] = [];
    for (let i = 0; i < 7; i++) {
      const ns = await fixtureNamespace(`nlh-${process.pid.toString(36)}-${i}`);
      await sh(ns, ["link", "set", "dev", "lo", "down"]);
      await sh(ns, ["link", "add", "e1", "type", "veth", "peer", "name", "e2"]);
      await sh(ns, ["link", "add", "br0", "type", "bridge"]);
      names.push(ns);
    }
    const ops: KernelOperation[] = [];
    names.forEach((ns, i) => {
      ops.push(
        op(ns, "link set dev lo up"),
        op(ns, `link set dev e1 alias kne:nlh:${i} mtu 1400 address 02:00:00:00:0${i}:01 up`),
        op(ns, "link set dev e2 master br0 up"),
        op(ns, `addr replace 192.0.2.${i + 1}/24 dev e1`),
        op(ns, `addr replace 2001:db8::${i + 1}/64 dev e1`),
        op(ns, "link set dev missing up"),
        op(ns, "link set dev gone down", ["NOT_FOUND"]),
      );
    });
    const report = await applyOperations(ops, { netlinkHelper: true });
    // One helper process ran every namespace's lines.
    expect(report.processes).toBe(1);
    expect(report.failures).toHaveLength(names.length);
    for (const f of report.failures) {
      expect(f.operation.args.join(" ")).toBe("link set dev missing up");
      expect(f.error.code).toBe("NOT_FOUND");
      expect(f.error.message).toMatch(/Cannot find device "missing"/);
    }
    for (const [i, ns] of names.entries()) {
      const e1 = await readInterface({ netns: ns, ifname: "e1" });
      expect(e1).toMatchObject({ alias: `kne:nlh:${i}`, mtu: 1400, mac: `02:00:00:00:0${i}:01`, adminUp: true });
      const all = await readInterfaces(ns);
      expect(all.find((x) => x.ifname === "lo")?.adminUp).toBe(true);
      expect(all.find((x) => x.ifname === "e2")).toMatchObject({ master: "br0", adminUp: true });
      const addrs = await sh(ns, ["-br", "addr", "show", "dev", "e1"]);
      expect(addrs).toContain(`192.0.2.${i + 1}/24`);
      expect(addrs).toContain(`2001:db8::${i + 1}/64`);
    }
    // Replacing is idempotent, and down works.
    const again = await applyOperations(
      names.map((ns, i) => op(ns, `addr replace 192.0.2.${i + 1}/24 dev e1`)).concat(names.map((ns) => op(ns, "link set dev e1 down"))),
      { netlinkHelper: true },
    );
    expect(again.failures).toEqual([]);
    expect((await readInterface({ netns: names[0]!, ifname: "e1" })).adminUp).toBe(false);
  });

  it("reports a missing namespace for each of its lines", async () => {
    const ns = await fixtureNamespace(`nlh-${process.pid.toString(36)}-ok`);
    const missing = Array.from({ length: 6 }, (_, i) => `ktest-nlh-absent-${process.pid.toString(36)}-${i}`);
    const report = await applyOperations([op(ns, "link set dev lo up"), ...missing.map((m) => op(m, "link set dev lo up"))], { netlinkHelper: true });
    expect(report.failures.map((f) => f.operation.netns)).toEqual(missing);
    expect(report.failures.every((f) => f.error.code === "NOT_FOUND")).toBe(true);
    expect((await readInterface({ netns: ns, ifname: "lo" })).adminUp).toBe(true);
  });
});
