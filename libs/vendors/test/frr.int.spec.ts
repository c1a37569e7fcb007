/**
 * FRR for real: two nodes in their own namespaces, eBGP over a veth, driven only through
 * the FRR runtime (prepare → processes → ready → push / reset / save), as the local backend does.
 */
import { topo } from "@kne/proto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigRejectedError, LocalPreconditionError, requireLocalRuntime } from "../src/index";
import {
  type NodePair,
  TestSupervisor,
  cleanupAll,
  createNodePair,
  missingCapability,
  nodeContext,
  nodeDirectory,
  run,
  startNode,
  uniquePrefix,
  waitFor,
  waitReady,
} from "./helpers";

const reason = missingCapability(["/usr/lib/frr/zebra", "/usr/lib/frr/bgpd", "vtysh", "/usr/bin/python3"]);
if (reason) console.warn(`skipping FRR integration tests: ${reason}`);

function bootConfig(name: string, as: number, peerAs: number, loopback: string, peer: string): string {
  return `frr defaults traditional
hostname ${name}
log stdout
service integrated-vtysh-config
!
interface lo
 ip address ${loopback}/32
exit
!
router bgp ${as}
 bgp router-id ${loopback}
 no bgp ebgp-requires-policy
 neighbor ${peer} remote-as ${peerAs}
 neighbor ${peer} timers 1 3
 neighbor ${peer} timers connect 1
 address-family ipv4 unicast
  network ${loopback}/32
 exit-address-family
exit
!
`;
}

const pushed = `ip route 10.77.0.0/24 Null0
!
router bgp 65001
 address-family ipv4 unicast
  redistribute static
 exit-address-family
exit
`;

describe.skipIf(reason !== undefined)("FRR on the local runtime", () => {
  const prefix = uniquePrefix();
  const supervisors: TestSupervisor[] = [];
  const runtime = requireLocalRuntime({ name: "r1", vendor: topo.Vendor.FRR, model: "" });
  let pair: NodePair;
  let r1: ReturnType<typeof nodeContext>;
  let r2: ReturnType<typeof nodeContext>;
  let s1: TestSupervisor;
  let s2: TestSupervisor;
  let startedAt = 0;

  beforeAll(async () => {
    pair = await createNodePair(prefix);
    s1 = new TestSupervisor(pair.a);
    s2 = new TestSupervisor(pair.b);
    supervisors.push(s1, s2);
    r1 = nodeContext({
      topology: prefix,
      netns: pair.a,
      nodeDir: await nodeDirectory(prefix, "r1"),
      node: { name: "r1", vendor: topo.Vendor.FRR },
      bootConfig: bootConfig("r1", 65001, 65002, "10.255.0.1", pair.addressB),
      supervisor: s1,
    });
    r2 = nodeContext({
      topology: prefix,
      netns: pair.b,
      nodeDir: await nodeDirectory(prefix, "r2"),
      node: { name: "r2", vendor: topo.Vendor.FRR },
      bootConfig: bootConfig("r2", 65002, 65001, "10.255.0.2", pair.addressA),
      supervisor: s2,
    });
  });

  afterAll(async () => {
    await cleanupAll(supervisors);
  });

  async function sessionState(ctx: typeof r1, peer: string): Promise<string> {
    const r = await ctx.exec(["vtysh", "--vty_socket", `${ctx.nodeDir}/frr/run`, "-c", "show bgp summary json"]);
    if (r.code !== 0) return `vtysh: ${r.stderr}`;
    const summary = JSON.parse(r.stdout) as { ipv4Unicast?: { peers?: Record<string, { state?: string }> } };
    return summary.ipv4Unicast?.peers?.[peer]?.state ?? "absent";
  }

  async function routeIn(ctx: typeof r1, prefix: string): Promise<boolean> {
    const r = await ctx.exec(["vtysh", "--vty_socket", `${ctx.nodeDir}/frr/run`, "-c", `show ip route ${prefix} json`]);
    if (r.code !== 0) return false;
    const routes = JSON.parse(r.stdout) as Record<string, Array<{ protocol: string }>>;
    return (routes[prefix] ?? []).some((route) => route.protocol === "bgp");
  }

  it("starts the daemons the config needs and becomes ready", async () => {
    startedAt = Date.now();
    await startNode(runtime, r1, s1);
    await startNode(runtime, r2, s2);
    expect(runtime.processes(r1).map((p) => p.name)).toEqual(["zebra", "staticd", "bgpd"]);
    const readyMs = Math.max(await waitReady(runtime, r1, s1), await waitReady(runtime, r2, s2));
    console.log(`FRR: both nodes ready ${Date.now() - startedAt} ms after start (last ready poll took ${readyMs} ms)`);
    expect(await run(r1, ["sysctl", "-n", "net.ipv4.ip_forward"])).toBe("1\n");
    // vtysh works inside the node, against the node's own daemons
    expect(await run(r1, ["vtysh", "--vty_socket", `${r1.nodeDir}/frr/run`, "-c", "show running-config"])).toContain("router bgp 65001");
  });

  it("brings the eBGP session to Established within 30 s", async () => {
    const ms = await waitFor(
      "r1-r2 BGP Established",
      async () => (await sessionState(r1, pair.addressB)) === "Established" && (await sessionState(r2, pair.addressA)) === "Established",
      30_000,
      () => `${s1.describe()}\n${s2.describe()}`,
    );
    console.log(`FRR: eBGP Established ${Date.now() - startedAt} ms after the daemons started (${ms} ms after ready)`);
    const routeMs = await waitFor("r1's loopback in r2's RIB", () => routeIn(r2, "10.255.0.1/32"), 30_000);
    console.log(`FRR: r1's loopback in r2's RIB ${Date.now() - startedAt} ms after start (${routeMs} ms after Established)`);
  });

  it("push adds a static route that reaches the peer's RIB; save shows it", async () => {
    const t0 = Date.now();
    await runtime.pushConfig!(r1, new TextEncoder().encode(pushed));
    const pushMs = Date.now() - t0;
    const seenMs = await waitFor("10.77.0.0/24 in r2's RIB", () => routeIn(r2, "10.77.0.0/24"), 15_000);
    console.log(`FRR: push took ${pushMs} ms; route in the peer's RIB ${seenMs} ms later`);
    const saved = new TextDecoder().decode(await runtime.saveConfig!(r1));
    expect(saved).toContain("ip route 10.77.0.0/24 Null0");
    expect(saved).toContain("redistribute static");
    expect(saved).toContain("neighbor 198.18.0.2 remote-as 65002"); // merged, not replaced
    expect(saved).not.toContain("Building configuration");
  });

  it("a restarted daemon comes back with the config in force (ready re-applies it)", async () => {
    const before = s1.pid("bgpd");
    await s1.restart("bgpd");
    expect(s1.pid("bgpd")).not.toBe(before);
    await waitReady(runtime, r1, s1);
    const ms = await waitFor("session back after bgpd restart", async () => (await sessionState(r1, pair.addressB)) === "Established", 30_000);
    console.log(`FRR: bgpd restarted and re-Established in ${ms} ms`);
    // the pushed config survived the restart
    await waitFor("pushed route back at r2 after bgpd restart", () => routeIn(r2, "10.77.0.0/24"), 30_000);
  });

  it("reset returns to the boot config and the route leaves the peer", async () => {
    const t0 = Date.now();
    await runtime.resetConfig!(r1);
    const goneMs = await waitFor("10.77.0.0/24 withdrawn from r2", async () => !(await routeIn(r2, "10.77.0.0/24")), 15_000);
    console.log(`FRR: reset took ${Date.now() - t0 - goneMs} ms; withdrawn at the peer ${goneMs} ms later`);
    const saved = new TextDecoder().decode(await runtime.saveConfig!(r1));
    expect(saved).not.toContain("10.77.0.0");
    expect(saved).not.toContain("redistribute static");
    expect(saved).toContain("router bgp 65001");
    expect(await sessionState(r1, pair.addressB)).toBe("Established");
  });

  it("rejects a broken config, and one that needs a daemon not running, before applying anything", async () => {
    await expect(runtime.pushConfig!(r1, new TextEncoder().encode("router bgp 65001\n bogus words here\n"))).rejects.toThrow(
      ConfigRejectedError,
    );
    await expect(runtime.pushConfig!(r1, new TextEncoder().encode("router ospf\n network 10.0.0.0/8 area 0\n"))).rejects.toThrow(
      LocalPreconditionError,
    );
    await expect(runtime.pushConfig!(r1, new TextEncoder().encode("router ospf\n"))).rejects.toThrow(/needs ospfd, which does not run here/);
    expect(await sessionState(r1, pair.addressB)).toBe("Established");
  });
});
