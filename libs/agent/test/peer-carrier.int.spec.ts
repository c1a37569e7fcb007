// A link set down through the agent must be seen by a watcher of the far end at once. The
// kernel sends the far end's carrier change when its link watch runs, which it postpones up
// to a second when both ends have the same ifindex (common: each namespace numbers its own
// devices). The agent asks for the far end by name after each change, which makes the kernel
// send it now; without that this test sees ~0.5-1 s.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import { type LinkEvent, nodeNetnsName, readInterface, watchLinks } from "@kne/dataplane";
import { agentv1, topo } from "@kne/proto";
import { createLogger } from "@kne/telemetry";
import { afterEach, describe, expect, it } from "vitest";
import { createAgentService } from "../src/index.ts";
import { canRun, cleanupAll, uniqueTopology } from "./helpers.ts";

describe.skipIf(!canRun)("far end of a link set down", () => {
  afterEach(cleanupAll);

  it("a watcher of the far end sees carrier go and come back within 100 ms, though both ends are ifindex 2", async () => {
    const stateDir = await mkdtemp(join(tmpdir(), "kne-peer-carrier-"));
    const agent = createAgentService({ stateDir, logger: createLogger({ name: "agent", level: "warn" }), resyncIntervalMs: 0 });
    await agent.start();
    const t = uniqueTopology("pc");
    const ctx = {} as never;
    const watch: { close(): Promise<void> }[] = [];
    try {
      await agent.impl.applyWires(
        create(agentv1.ApplyWiresRequestSchema, {
          topology: t,
          generation: 1n,
          wires: [{ uid: 1n, a: { node: "r1", interface: "eth1" }, peer: { case: "z", value: { node: "r2", interface: "eth1" } } }],
        }),
        ctx,
      );
      const far = { netns: nodeNetnsName(t, "r2"), ifname: "eth1" };
      const near = { netns: nodeNetnsName(t, "r1"), ifname: "eth1" };
      // The case the kernel postpones: the same ifindex on both ends.
      expect((await readInterface(far)).ifindex).toBe((await readInterface(near)).ifindex);
      const events: LinkEvent[] = [];
      const w = watchLinks(far.netns, (e) => events.push(e));
      watch.push(w);
      await w.ready;
      await new Promise((r) => setTimeout(r, 1100)); // past any link-watch run of the creation

      for (const up of [false, true]) {
        events.length = 0;
        const started = performance.now();
        await agent.impl.setLinkState(create(agentv1.SetLinkStateRequestSchema, { topology: t, node: "r1", interface: "eth1", state: up ? topo.LinkState.UP : topo.LinkState.DOWN }), ctx);
        const deadline = started + 2000;
        while (!events.some((e) => e.ifname === "eth1" && e.carrier === up) && performance.now() < deadline) await new Promise((r) => setTimeout(r, 2));
        const seen = events.find((e) => e.ifname === "eth1" && e.carrier === up);
        expect(seen, JSON.stringify(events)).toBeDefined();
        const ms = seen!.at - started;
        console.info(`far end carrier ${up ? "on" : "off"} seen by its watcher after ${ms.toFixed(1)} ms`);
        expect(ms).toBeLessThan(100);
      }
    } finally {
      for (const w of watch) await w.close();
      await Promise.resolve(agent.impl.deleteTopology(create(agentv1.DeleteTopologyRequestSchema, { topology: t }), ctx)).catch(() => undefined);
      await agent.stop();
      await rm(stateDir, { recursive: true, force: true });
    }
  });
});
