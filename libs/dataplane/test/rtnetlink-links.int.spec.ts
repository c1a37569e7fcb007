// Interfaces read from an rtnetlink link dump in process, against the real kernel: for every
// device of fixture namespaces holding each kind we use (lo, veth across namespaces and
// within one, a bridge and its port, macvlan, vxlan, tun, a tbf root qdisc), the result is
// strictly equal, field by field, to what `ip -json -details -statistics link show` gives
// through readInterfaces with a command runner (which reads with ip); counters too, read with no traffic in between. A namespace that
// does not exist is NOT_FOUND.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import { KernelObjectNotFoundError, type ObservedInterface, RouteNetlink, processRunner, readInterfaces, readLinksNetlink, routeNetlinkUnavailable, setSysctls } from "../src/index.ts";
import { addAddress, canRun, fixtureNamespace, ping, sh, useCleanup } from "./helpers.ts";

const execFileP = promisify(execFile);

const unavailable = canRun ? routeNetlinkUnavailable() : "integration tests cannot run here";
if (canRun && unavailable) console.warn(`skipping rtnetlink link dump integration tests: ${unavailable}`);

const byIndex = (list: ObservedInterface[]) => [...list].sort((a, b) => a.ifindex - b.ifindex);
const withoutCounters = ({ counters: _counters, ...rest }: ObservedInterface) => rest;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.skipIf(!canRun || unavailable !== undefined)("interfaces from an rtnetlink link dump", () => {
  useCleanup();
  let nl: RouteNetlink | undefined;
  afterEach(async () => {
    await nl?.closeAll();
    nl = undefined;
  });

  /**
   * Two namespaces: A holds one of each device kind, B the other end of A's veth `va`.
   * IPv6 is off in both so that nothing sends on its own (router solicitations, MLD) and
   * the counters stand still once the ping is over.
   */
  async function fixture() {
    const tag = process.pid.toString(36);
    const a = await fixtureNamespace(`lka-${tag}`);
    const b = await fixtureNamespace(`lkb-${tag}`);
    for (const ns of [a, b]) await setSysctls(ns, { "net.ipv6.conf.all.disable_ipv6": 1, "net.ipv6.conf.default.disable_ipv6": 1 });
    // A veth across the namespaces; `va` with an alias of ours and a large MTU.
    await sh("", ["link", "add", "va", "netns", a, "type", "veth", "peer", "name", "vb", "netns", b]);
    await sh(a, ["link", "set", "dev", "va", "mtu", "9000", "alias", "kne:t:1", "up"]);
    await sh(b, ["link", "set", "dev", "vb", "up"]);
    await addAddress(a, "va", "198.18.0.1/24");
    await addAddress(b, "vb", "198.18.0.2/24");
    // A tbf root qdisc on va (ip shows "qdisc tbf").
    await execFileP("ip", ["netns", "exec", a, "tc", "qdisc", "add", "dev", "va", "root", "tbf", "rate", "10mbit", "burst", "32kb", "latency", "50ms"]);
    // A veth inside A: the peer (made first, lower ifindex) up, the named end down, so the
    // peer shows NO-CARRIER and M-DOWN for a link device later in the dump.
    await sh(a, ["link", "add", "vi1", "type", "veth", "peer", "name", "vi2"]);
    await sh(a, ["link", "set", "dev", "vi2", "up"]);
    // A bridge with a veth port.
    await sh(a, ["link", "add", "br0", "type", "bridge"]);
    await sh(a, ["link", "add", "p1", "type", "veth", "peer", "name", "p2"]);
    await sh(a, ["link", "set", "dev", "p1", "master", "br0"]);
    for (const dev of ["br0", "p1", "p2"]) await sh(a, ["link", "set", "dev", dev, "up"]);
    // A macvlan in bridge mode on the down veth end (M-DOWN for a link device earlier in the dump).
    await sh(a, ["link", "add", "mv0", "link", "vi1", "type", "macvlan", "mode", "bridge"]);
    // A vxlan between the two test addresses (nothing is sent through it).
    await sh(a, ["link", "add", "vx0", "type", "vxlan", "id", "4242", "local", "198.18.0.1", "remote", "198.18.0.2", "dstport", "4789"]);
    await sh(a, ["link", "set", "dev", "vx0", "up"]);
    // A tun device: no hardware address at all.
    await sh(a, ["tuntap", "add", "dev", "tn0", "mode", "tun"]);
    // Traffic, so counters are not zero; then vb down, so va is up without carrier.
    const p = await ping(a, "198.18.0.2", ["-c", "3", "-i", "0.2", "-W", "1"]);
    expect(p.received, p.output).toBe(3);
    await sh(b, ["link", "set", "dev", "vb", "down"]);
    return { a, b };
  }

  /**
   * Waits until two link dumps 1.1 s apart agree: the kernel applies operstate changes in
   * batches up to 1 s apart (linkwatch), after carrier and flags have changed.
   */
  async function settled(ns: string): Promise<void> {
    const deadline = performance.now() + 10_000;
    let last = await readLinksNetlink(nl!, ns);
    for (;;) {
      await sleep(1100);
      const now = await readLinksNetlink(nl!, ns);
      if (JSON.stringify(now) === JSON.stringify(last)) return;
      if (performance.now() > deadline) throw new Error(`links of ${ns} did not settle`);
      last = now;
    }
  }

  /** netlink, ip, netlink: the two dumps agreeing proves nothing changed while ip read. */
  async function readBoth(ns: string) {
    const before = byIndex(await readLinksNetlink(nl!, ns));
    const ip = byIndex(await readInterfaces(ns, { runner: processRunner }));
    const after = byIndex(await readLinksNetlink(nl!, ns));
    expect(after, `${ns} changed while it was read`).toStrictEqual(before);
    return { netlink: before, ip };
  }

  it("gives, for every device of every kind, exactly what ip -json -details -statistics link show gives, counters included", async () => {
    const { a, b } = await fixture();
    nl = new RouteNetlink();
    for (const ns of [a, b]) {
      await settled(ns);
      const { netlink, ip } = await readBoth(ns);
      expect(netlink.map((i) => i.ifname)).toEqual(ip.map((i) => i.ifname));
      for (let i = 0; i < ip.length; i++) {
        expect(withoutCounters(netlink[i]!), `${ns} ${ip[i]!.ifname}`).toStrictEqual(withoutCounters(ip[i]!));
        expect(netlink[i]!.counters, `${ns} ${ip[i]!.ifname} counters`).toStrictEqual(ip[i]!.counters);
      }
    }

    // The fixture exercised each field (so the equality above is not about empty values).
    const links = new Map((await readLinksNetlink(nl, a)).map((i) => [i.ifname, i]));
    expect([...links.keys()].sort()).toEqual(["br0", "lo", "mv0", "p1", "p2", "tn0", "va", "vi1", "vi2", "vx0"]);
    const va = links.get("va")!;
    expect(va).toMatchObject({ kind: "veth", alias: "kne:t:1", owner: { topology: "t", uid: "1" }, mtu: 9000, qdisc: "tbf", adminUp: true, carrier: false, operState: "DOWN" });
    expect(va.flags).toEqual(["NO-CARRIER", "BROADCAST", "MULTICAST", "UP"]);
    expect(va.linkIndex).toBeTypeOf("number");
    expect(va.linkNetnsId).toBeTypeOf("number");
    expect(va.mac).toMatch(/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/);
    expect(va.counters.txPackets).toBeGreaterThanOrEqual(3);
    expect(va.counters.rxPackets).toBeGreaterThanOrEqual(3);
    expect(va.counters.txBytes).toBeGreaterThan(0);
    expect(links.get("vi2")!.flags).toEqual(["NO-CARRIER", "BROADCAST", "MULTICAST", "UP", "M-DOWN"]);
    expect(links.get("vi2")!.linkIndex).toBeUndefined(); // a peer in the same namespace: ip names it instead
    expect(links.get("mv0")!.flags).toContain("M-DOWN");
    expect(links.get("mv0")!.macvlanMode).toBe("bridge");
    expect(links.get("p1")!.master).toBe("br0");
    expect(links.get("br0")!.kind).toBe("bridge");
    expect(links.get("vx0")!.vxlan).toStrictEqual({ vni: 4242, local: "198.18.0.1", remote: "198.18.0.2", port: 4789 });
    expect(links.get("tn0")!.mac).toBe("");
    expect(links.get("lo")!.mac).toBe("00:00:00:00:00:00");
    const vb = (await readLinksNetlink(nl, b)).find((i) => i.ifname === "vb")!;
    expect(vb).toMatchObject({ adminUp: false, linkIndex: va.ifindex });
    expect(vb.counters.rxPackets).toBeGreaterThanOrEqual(3);
  });

  it("throws KernelObjectNotFoundError for a namespace that does not exist", async () => {
    nl = new RouteNetlink();
    const gone = `ktest-lkgone-${process.pid.toString(36)}`;
    const err = await readLinksNetlink(nl, gone).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KernelObjectNotFoundError);
    expect((err as Error).message).toBe(`netns ${gone} does not exist`);
  });
});
