/**
 * HOST for real: upstream's 3node-host example (vm-1, vm-2, vm-3 with no config, a
 * triangle of links) runs as three namespaces with nothing started in them; a HOST with
 * `config.command` runs that command inside its namespace, with its boot config in place.
 */
import { readlink, stat } from "node:fs/promises";
import { topo } from "@kne/proto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NETNS_RUN_DIR, nsenterExec, requireLocalRuntime } from "../src/index";
import {
  TestSupervisor,
  cleanupAll,
  createNamespace,
  missingCapability,
  nodeContext,
  nodeDirectory,
  startNode,
  uniquePrefix,
  waitFor,
  waitReady,
  wire,
} from "./helpers";

const reason = missingCapability(["ping", "sleep"]);
if (reason) console.warn(`skipping HOST integration tests: ${reason}`);

// upstream examples/host/3node-host.pb.txt: nodes vm-1..3, links vm-1:eth1-vm-2:eth1,
// vm-1:eth2-vm-3:eth1, vm-2:eth2-vm-3:eth2 (addresses are ours: a /30 per link).
const links = [
  ["vm-1", "eth1", "vm-2", "eth1"],
  ["vm-1", "eth2", "vm-3", "eth1"],
  ["vm-2", "eth2", "vm-3", "eth2"],
] as const;

describe.skipIf(reason !== undefined)("HOST on the local runtime", () => {
  const prefix = uniquePrefix();
  const supervisors: TestSupervisor[] = [];
  const runtime = requireLocalRuntime({ name: "vm-1", vendor: topo.Vendor.HOST, model: "" });
  const netns = (node: string) => `${prefix}-${node}`;

  beforeAll(async () => {
    for (const node of ["vm-1", "vm-2", "vm-3", "app"]) await createNamespace(netns(node));
    for (const [i, [a, ifA, b, ifB]] of links.entries()) {
      await wire(netns(a), ifA, `198.18.0.${4 * i + 1}/30`, netns(b), ifB, `198.18.0.${4 * i + 2}/30`);
    }
  });

  afterAll(async () => {
    await cleanupAll(supervisors);
  });

  it("runs upstream's 3node-host: three namespaces, nothing to start, ready, and linked", async () => {
    const t0 = Date.now();
    for (const name of ["vm-1", "vm-2", "vm-3"]) {
      const supervisor = new TestSupervisor(netns(name));
      supervisors.push(supervisor);
      const ctx = nodeContext({
        topology: prefix,
        netns: netns(name),
        nodeDir: await nodeDirectory(prefix, name),
        node: { name, vendor: topo.Vendor.HOST },
        supervisor,
      });
      expect(runtime.processes(ctx)).toEqual([]);
      await startNode(runtime, ctx, supervisor);
      await waitReady(runtime, ctx, supervisor);
    }
    console.log(`HOST: three nodes prepared and ready in ${Date.now() - t0} ms`);
    for (const [i, [a]] of links.entries()) {
      const r = await nsenterExec(netns(a))(["ping", "-c", "1", "-W", "2", `198.18.0.${4 * i + 2}`]);
      expect(r.stdout).toMatch(/1 received/);
    }
  });

  it("runs config.command inside the node's namespace with the boot config in place", async () => {
    const supervisor = new TestSupervisor(netns("app"));
    supervisors.push(supervisor);
    const ctx = nodeContext({
      topology: prefix,
      netns: netns("app"),
      nodeDir: await nodeDirectory(prefix, "app"),
      node: {
        name: "app",
        vendor: topo.Vendor.HOST,
        config: { command: ["sh"], args: ["-c", 'cat "$KNE_BOOT_CONFIG"; exec sleep 1000'], configFile: "app.conf", env: { GREETING: "hi" } },
      },
      bootConfig: "boot config of app\n",
      supervisor,
    });
    await startNode(runtime, ctx, supervisor);
    await waitReady(runtime, ctx, supervisor);
    await waitFor("command printed its boot config", async () => supervisor.describe().includes("boot config of app"), 5_000);
    const pid = supervisor.pid("sh")!;
    // the command lives in the node's namespace, not the host's
    const inNode = await readlink(`/proc/${pid}/ns/net`);
    const nsInode = (await stat(`${NETNS_RUN_DIR}/${netns("app")}`)).ino;
    expect(inNode).toBe(`net:[${nsInode}]`);
  });
});
