/**
 * BIRD for real: two bird2 peers over eBGP; push adds a static route that the peer learns,
 * reset withdraws it, save returns the config in force.
 */
import { topo } from "@kne/proto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigRejectedError, requireLocalRuntime } from "../src/index";
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

const reason = missingCapability(["bird", "birdc"]);
if (reason) console.warn(`skipping BIRD integration tests: ${reason}`);

function birdConfig(routerId: string, localAs: number, local: string, peerAs: number, peer: string, statics = ""): string {
  return `log stderr all;
router id ${routerId};
protocol device { }
protocol direct { ipv4; interface "eth*"; }
protocol kernel { ipv4 { export all; }; }
protocol static { ipv4; ${statics} }
protocol bgp peer {
  local ${local} as ${localAs};
  neighbor ${peer} as ${peerAs};
  hold time 9; keepalive time 3; connect retry time 1;
  ipv4 { import all; export all; };
}
`;
}

describe.skipIf(reason !== undefined)("BIRD on the local runtime", () => {
  const prefix = uniquePrefix();
  const supervisors: TestSupervisor[] = [];
  const runtime = requireLocalRuntime({ name: "r1", vendor: topo.Vendor.BIRD, model: "" });
  let pair: NodePair;
  let r1: ReturnType<typeof nodeContext>;
  let r2: ReturnType<typeof nodeContext>;
  let s1: TestSupervisor;
  let s2: TestSupervisor;
  let boot1 = "";
  let startedAt = 0;

  beforeAll(async () => {
    pair = await createNodePair(prefix);
    s1 = new TestSupervisor(pair.a);
    s2 = new TestSupervisor(pair.b);
    supervisors.push(s1, s2);
    boot1 = birdConfig("10.2.0.1", 65001, pair.addressA, 65002, pair.addressB);
    r1 = nodeContext({
      topology: prefix,
      netns: pair.a,
      nodeDir: await nodeDirectory(prefix, "r1"),
      node: { name: "r1", vendor: topo.Vendor.BIRD },
      bootConfig: boot1,
      supervisor: s1,
    });
    r2 = nodeContext({
      topology: prefix,
      netns: pair.b,
      nodeDir: await nodeDirectory(prefix, "r2"),
      node: { name: "r2", vendor: topo.Vendor.BIRD },
      bootConfig: birdConfig("10.2.0.2", 65002, pair.addressB, 65001, pair.addressA),
      supervisor: s2,
    });
  });

  afterAll(async () => {
    await cleanupAll(supervisors);
  });

  const birdc = (ctx: typeof r1, ...args: string[]) => run(ctx, ["birdc", "-s", `${ctx.nodeDir}/bird/bird.ctl`, ...args]);
  const established = async (ctx: typeof r1) => /peer\s+BGP\s+\S+\s+up\s+\S+\s+Established/.test(await birdc(ctx, "show", "protocols", "peer"));
  // birdc exits non-zero with "Network not found" when there is no route.
  const hasRoute = async (ctx: typeof r1, route: string) =>
    (await ctx.exec(["birdc", "-s", `${ctx.nodeDir}/bird/bird.ctl`, "show", "route", "for", route, "protocol", "peer"])).stdout.includes(route);

  it("starts bird with the node's config and becomes ready", async () => {
    startedAt = Date.now();
    await startNode(runtime, r1, s1);
    await startNode(runtime, r2, s2);
    await waitReady(runtime, r1, s1);
    await waitReady(runtime, r2, s2);
    console.log(`BIRD: both nodes ready ${Date.now() - startedAt} ms after start`);
    expect(await birdc(r1, "show", "status")).toContain("Router ID is 10.2.0.1");
  });

  it("brings the two BGP peers to Established", async () => {
    await waitFor("bird r1-r2 Established", async () => (await established(r1)) && (await established(r2)), 30_000, () =>
      `${s1.describe()}\n${s2.describe()}`,
    );
    console.log(`BIRD: Established ${Date.now() - startedAt} ms after start`);
  });

  it("push adds a static route the peer learns; save returns the config in force", async () => {
    const t0 = Date.now();
    const withRoute = birdConfig("10.2.0.1", 65001, pair.addressA, 65002, pair.addressB, "route 10.88.0.0/24 blackhole;");
    await runtime.pushConfig!(r1, new TextEncoder().encode(withRoute));
    const ms = await waitFor("10.88.0.0/24 at r2", () => hasRoute(r2, "10.88.0.0/24"), 15_000);
    console.log(`BIRD: push took ${Date.now() - t0 - ms} ms; route at the peer ${ms} ms later`);
    expect(await established(r1)).toBe(true);
    expect(new TextDecoder().decode(await runtime.saveConfig!(r1))).toBe(withRoute);
  });

  it("reset withdraws it; a broken config is refused before bird sees it", async () => {
    await runtime.resetConfig!(r1);
    await waitFor("10.88.0.0/24 withdrawn at r2", async () => !(await hasRoute(r2, "10.88.0.0/24")), 15_000);
    expect(new TextDecoder().decode(await runtime.saveConfig!(r1))).toBe(boot1);
    await expect(runtime.pushConfig!(r1, new TextEncoder().encode("protocol bgp {\n"))).rejects.toThrow(ConfigRejectedError);
    expect(new TextDecoder().decode(await runtime.saveConfig!(r1))).toBe(boot1);
    expect(await established(r1)).toBe(true);
  });
});
