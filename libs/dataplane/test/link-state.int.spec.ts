// Link state: setting one end of a veth down must be seen as carrier loss on the other end
// at once (measured here, asserted under 100 ms), and setting it up again restores both.
import { describe, expect, it } from "vitest";
import { type DesiredState, type LinkEvent, converge, convergeOrThrow, nodeNetnsName, readInterface, setLinkState, waitForLinkState, watchLinks } from "../src/index.ts";
import { addAddress, canRun, ping, uniqueTopology, useCleanup } from "./helpers.ts";

describe.skipIf(!canRun)("link state", () => {
  useCleanup();

  it("down on one end is carrier down on the other within 100 ms; up restores it", async () => {
    const t = uniqueTopology("ls");
    const r1 = nodeNetnsName(t, "r1");
    const r2 = nodeNetnsName(t, "r2");
    const a = { netns: r1, ifname: "eth1" };
    const b = { netns: r2, ifname: "eth1" };
    const desired: DesiredState = { topology: t, wires: [{ kind: "veth", uid: "1", a, b }] };
    await convergeOrThrow(desired);
    await addAddress(r1, "eth1", "10.1.0.1/30");
    await addAddress(r2, "eth1", "10.1.0.2/30");
    expect((await readInterface(b)).carrier).toBe(true);

    const events: LinkEvent[] = [];
    const watch = watchLinks(r2, (e) => events.push(e));
    await watch.ready;
    try {
      const started = performance.now();
      await setLinkState(a, false);
      const commanded = performance.now();
      const seen = await waitForLinkState(b, (i) => !i.carrier, { timeoutMs: 1000, intervalMs: 2 });
      const polledMs = performance.now() - started;
      const peer = seen.state;
      expect(peer.adminUp).toBe(true);
      expect(peer.carrier).toBe(false);
      expect(polledMs).toBeLessThan(100);

      // The event stream sees it too (the kernel notifies synchronously with the change).
      const deadline = performance.now() + 1000;
      while (!events.some((e) => e.ifname === "eth1" && !e.carrier) && performance.now() < deadline) await new Promise((r) => setTimeout(r, 2));
      const event = events.find((e) => e.ifname === "eth1" && !e.carrier);
      expect(event, JSON.stringify(events)).toBeDefined();
      const eventMs = event!.at - started;
      console.info(`link down: ip command ${(commanded - started).toFixed(1)} ms, peer carrier off seen by polling after ${polledMs.toFixed(1)} ms, by monitor after ${eventMs.toFixed(1)} ms`);
      expect(eventMs).toBeLessThan(100);
      expect((await readInterface(a)).adminUp).toBe(false);
      expect((await ping(r1, "10.1.0.2", ["-c", "1", "-W", "1"])).received).toBe(0);

      // Level-triggered: the desired state still says up, so a pass restores it.
      const restoreStarted = performance.now();
      const pass = await converge(desired);
      expect(pass.plan.actions).toEqual([`update netns ${r1} dev eth1: up`]);
      const up = await waitForLinkState(b, (i) => i.carrier, { timeoutMs: 2000, intervalMs: 2 });
      console.info(`link up via converge: peer carrier back after ${(performance.now() - restoreStarted).toFixed(1)} ms`);
      expect(up.state.carrier).toBe(true);
      expect((await ping(r1, "10.1.0.2", ["-c", "2", "-i", "0.2", "-W", "2"])).received).toBeGreaterThanOrEqual(1);

      // Desired down is kept down; setLinkState up brings it back directly.
      const down: DesiredState = { topology: t, wires: [{ kind: "veth", uid: "1", a: { ...a, adminUp: false }, b }] };
      await convergeOrThrow(down);
      expect((await readInterface(b)).carrier).toBe(false);
      expect((await converge(down)).plan.operations).toEqual([]);
      await setLinkState(a, true);
      expect((await waitForLinkState(b, (i) => i.carrier, { timeoutMs: 2000 })).state.carrier).toBe(true);
    } finally {
      await watch.close();
    }
  });
});
