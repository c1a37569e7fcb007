// rtnetlink from the agent's own process: link admin state set on a socket per namespace,
// against the real kernel. Proves the state lands (and the peer loses carrier), errors name
// the namespace and device, a namespace made again under the same name is followed, and a
// closed socket lets its namespace go.
import { spawnSync } from "node:child_process";
import { afterEach, describe, expect, it } from "vitest";
import { type DesiredState, KernelObjectNotFoundError, RouteNetlink, convergeOrThrow, nodeNetnsName, readInterface, routeNetlinkUnavailable, waitForLinkState } from "../src/index.ts";
import { canRun, fixtureNamespace, sh, uniqueTopology, useCleanup } from "./helpers.ts";

const unavailable = canRun ? routeNetlinkUnavailable() : "integration tests cannot run here";
if (canRun && unavailable) console.warn(`skipping rtnetlink integration tests: ${unavailable}`);

describe.skipIf(!canRun || unavailable !== undefined)("rtnetlink in process", () => {
  useCleanup();
  let nl: RouteNetlink | undefined;
  afterEach(async () => {
    await nl?.closeAll();
    nl = undefined;
  });

  async function wire(tag: string) {
    const t = uniqueTopology(tag);
    const a = { netns: nodeNetnsName(t, "r1"), ifname: "eth1" };
    const b = { netns: nodeNetnsName(t, "r2"), ifname: "eth1" };
    const desired: DesiredState = { topology: t, wires: [{ kind: "veth", uid: "1", a, b }] };
    await convergeOrThrow(desired);
    return { t, a, b };
  }

  it("sets admin state; the peer sees carrier go and come back", async () => {
    const { a, b } = await wire("nl");
    nl = new RouteNetlink();
    await nl.setLinkAdmin(a.netns, a.ifname, false);
    expect((await readInterface(a)).adminUp).toBe(false);
    expect((await waitForLinkState(b, (i) => !i.carrier, { timeoutMs: 1000, intervalMs: 2 })).state.carrier).toBe(false);
    await nl.setLinkAdmin(a.netns, a.ifname, true);
    expect((await readInterface(a)).adminUp).toBe(true);
    expect((await waitForLinkState(b, (i) => i.carrier, { timeoutMs: 2000, intervalMs: 2 })).state.carrier).toBe(true);
    expect(nl.openNamespaces()).toEqual([a.netns]);

    // Many requests in flight on one socket: each gets its own answer, the last one wins.
    const states = Array.from({ length: 51 }, (_, i) => i % 2 === 0);
    await Promise.all(states.map((up) => nl!.setLinkAdmin(a.netns, a.ifname, up)));
    expect((await readInterface(a)).adminUp).toBe(true);
  });

  it("names the namespace and device it could not find", async () => {
    const { a, t } = await wire("nlerr");
    nl = new RouteNetlink();
    const err = await nl.setLinkAdmin(a.netns, "eth9", false).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KernelObjectNotFoundError);
    expect((err as Error).message).toContain(`netns ${a.netns} dev eth9`);
    expect((err as Error).message).toMatch(/no such device/i);
    const gone = nodeNetnsName(t, "nope");
    const err2 = await nl.setLinkAdmin(gone, "eth1", true).catch((e: unknown) => e);
    expect(err2).toBeInstanceOf(KernelObjectNotFoundError);
    expect((err2 as Error).message).toBe(`netns ${gone} does not exist`);
    // The socket that failed a request still serves the next one.
    await nl.setLinkAdmin(a.netns, a.ifname, false);
    expect((await readInterface(a)).adminUp).toBe(false);
  });

  it("follows a namespace deleted and made again under the same name", async () => {
    const ns = await fixtureNamespace(`nl-${process.pid.toString(36)}`);
    await sh(ns, ["link", "add", "d1", "type", "veth", "peer", "name", "d2"]);
    nl = new RouteNetlink();
    await nl.setLinkAdmin(ns, "d1", true);
    await nl.closeNamespaces([ns]);
    await sh("", ["netns", "del", ns]);
    await sh("", ["netns", "add", ns]);
    await sh(ns, ["link", "add", "d1", "type", "veth", "peer", "name", "d2"]);
    await nl.setLinkAdmin(ns, "d1", true);
    expect((await readInterface({ netns: ns, ifname: "d1" })).adminUp).toBe(true);
    // Made again while our socket was still open: the socket is renewed, not reused.
    await sh("", ["netns", "del", ns]);
    await sh("", ["netns", "add", ns]);
    await sh(ns, ["link", "add", "d1", "type", "veth", "peer", "name", "d2"]);
    await nl.setLinkAdmin(ns, "d1", true);
    expect((await readInterface({ netns: ns, ifname: "d1" })).adminUp).toBe(true);
  });

  it("keeps a namespace alive while its socket is open and lets it go once closed; children inherit no socket", async () => {
    const { a, b } = await wire("nlhold");
    nl = new RouteNetlink();
    await nl.setLinkAdmin(a.netns, a.ifname, true);

    // No socket leaks into a child process (close-on-exec).
    const fds = spawnSync("ls", ["-l", "/proc/self/fd"], { encoding: "utf8" }).stdout;
    const inherited = fds.split("\n").filter((l) => / (\d+) -> socket:/.test(l) && Number(/ (\d+) -> /.exec(l)![1]) > 2);
    expect(inherited, fds).toEqual([]);

    const peerGone = async (ms: number) => {
      const deadline = performance.now() + ms;
      while (performance.now() < deadline) {
        const out = spawnSync("ip", ["-n", b.netns, "-o", "link", "show"], { encoding: "utf8" }).stdout;
        if (!out.includes(" eth1@")) return true;
        await new Promise((r) => setTimeout(r, 20));
      }
      return false;
    };
    await sh("", ["netns", "del", a.netns]);
    // The socket holds the deleted namespace (and so the veth) alive...
    expect(await peerGone(500)).toBe(false);
    // ...until it is closed.
    await nl.closeNamespaces([a.netns]);
    expect(nl.openNamespaces()).toEqual([]);
    expect(await peerGone(5000)).toBe(true);
  });

  it("dumps every link of a namespace, answer by answer, up to the end of the dump", async () => {
    const ns = await fixtureNamespace(`nldump-${process.pid.toString(36)}`);
    // Enough links that the answer spans several datagrams.
    const pairs = 60;
    for (let i = 0; i < pairs; i++) await sh(ns, ["link", "add", `p${i}`, "type", "veth", "peer", "name", `q${i}`]);
    nl = new RouteNetlink();
    const getLinkDump = (seq: number) => {
      const b = Buffer.alloc(32);
      b.writeUInt32LE(32, 0);
      b.writeUInt16LE(18, 4); // RTM_GETLINK
      b.writeUInt16LE(0x1 | 0x300, 6); // REQUEST | DUMP
      b.writeUInt32LE(seq, 8);
      return b;
    };
    const messages = await nl.dump(ns, getLinkDump, "link show");
    const names = messages.map((m) => {
      expect(m.readUInt16LE(4)).toBe(16); // RTM_NEWLINK
      let a = 32;
      while (a + 4 <= m.length) {
        const len = m.readUInt16LE(a);
        if (len < 4) break;
        if ((m.readUInt16LE(a + 2) & 0x3fff) === 3) return m.toString("utf8", a + 4, a + len - 1);
        a += (len + 3) & ~3;
      }
      return undefined;
    });
    expect(names.length).toBe(1 + 2 * pairs);
    expect(new Set(names)).toEqual(new Set(["lo", ...Array.from({ length: pairs }, (_, i) => [`p${i}`, `q${i}`]).flat()]));
    // The socket serves single requests after a dump.
    await nl.setLinkAdmin(ns, "p0", true);
    expect((await readInterface({ netns: ns, ifname: "p0" })).adminUp).toBe(true);
  });

  it("with keepSockets false holds no namespace between requests", async () => {
    const { a, b } = await wire("nlonce");
    nl = new RouteNetlink({ keepSockets: false });
    await Promise.all([nl.setLinkAdmin(a.netns, a.ifname, false), nl.setLinkAdmin(a.netns, a.ifname, true)]);
    await new Promise((r) => setImmediate(r));
    expect(nl.openNamespaces()).toEqual([]);
    expect((await readInterface(a)).adminUp).toBe(true);
    await sh("", ["netns", "del", a.netns]);
    // Nothing keeps the deleted namespace: its veth end goes, and with it the peer.
    const deadline = performance.now() + 5000;
    let peer = "";
    while (performance.now() < deadline) {
      peer = spawnSync("ip", ["-n", b.netns, "-o", "link", "show"], { encoding: "utf8" }).stdout;
      if (!peer.includes(" eth1@")) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(peer).not.toContain(" eth1@");
  });
});

