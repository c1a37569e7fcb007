/**
 * GoBGP for real: upstream's gobgp example (config_file "gobgp.conf" holding r1.yaml /
 * r2.yaml, addresses moved into 198.18.0.0/24) as two gobgpd peers, then push (reload and
 * restart paths), reset and save through the runtime.
 */
import { readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
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

// Read in place from the shared folder beside the workspace (libs/vendors/test → ../../../..).
const upstreamExample = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..", "..", "shared", "kne-compat", "upstream-examples", "examples", "gobgp");
const reason = missingCapability(["gobgpd", "gobgp"]);
if (reason) console.warn(`skipping GoBGP integration tests: ${reason}`);

/** Upstream's r1.yaml / r2.yaml, or the same content when the examples are not at hand. */
async function upstreamConfig(name: "r1" | "r2"): Promise<string> {
  const fallback =
    name === "r1"
      ? "global:\n    config:\n        as: 65001\n        router-id: 10.1.0.1\nneighbors:\n    - config:\n        neighbor-address: 10.0.0.2\n        peer-as: 65002"
      : "global:\n    config:\n        as: 65002\n        router-id: 10.1.0.2\nneighbors:\n    - config:\n        neighbor-address: 10.0.0.1\n        peer-as: 65001";
  const text = await readFile(`${upstreamExample}/${name}.yaml`, "utf8").catch(() => fallback);
  return text.replaceAll("10.0.0.1", "198.18.0.1").replaceAll("10.0.0.2", "198.18.0.2");
}

interface GobgpNeighbor {
  state?: { neighbor_address?: string; session_state?: number };
}

describe.skipIf(reason !== undefined)("GoBGP on the local runtime", () => {
  const prefix = uniquePrefix();
  const supervisors: TestSupervisor[] = [];
  const runtime = requireLocalRuntime({ name: "r1", vendor: topo.Vendor.GOBGP, model: "" });
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
    boot1 = await upstreamConfig("r1");
    const config = (file: string) => ({ configPath: "/", configFile: "gobgp.conf", configData: { case: "file" as const, value: file } });
    r1 = nodeContext({
      topology: prefix,
      netns: pair.a,
      nodeDir: await nodeDirectory(prefix, "r1"),
      node: { name: "r1", vendor: topo.Vendor.GOBGP, config: config("r1.yaml") },
      bootConfig: boot1,
      supervisor: s1,
    });
    r2 = nodeContext({
      topology: prefix,
      netns: pair.b,
      nodeDir: await nodeDirectory(prefix, "r2"),
      node: { name: "r2", vendor: topo.Vendor.GOBGP, config: config("r2.yaml") },
      bootConfig: await upstreamConfig("r2"),
      supervisor: s2,
    });
  });

  afterAll(async () => {
    await cleanupAll(supervisors);
  });

  async function neighbors(ctx: typeof r1): Promise<Map<string, number>> {
    const r = await ctx.exec(["gobgp", "neighbor", "-j"]);
    if (r.code !== 0) return new Map();
    const list = JSON.parse(r.stdout) as GobgpNeighbor[] | null;
    return new Map((list ?? []).map((n) => [n.state?.neighbor_address ?? "", n.state?.session_state ?? 0]));
  }
  const ESTABLISHED = 6; // apipb.PeerState_ESTABLISHED

  it("starts gobgpd with the node's YAML config and becomes ready", async () => {
    startedAt = Date.now();
    await startNode(runtime, r1, s1);
    await startNode(runtime, r2, s2);
    expect(runtime.processes(r1)[0]!.argv).toEqual([
      "gobgpd",
      "-f",
      `${r1.nodeDir}/gobgp/gobgpd.yaml`,
      "-t",
      "yaml",
      "--api-hosts",
      ":50051",
      "--pprof-disable",
      "--log-plain",
    ]);
    await waitReady(runtime, r1, s1);
    await waitReady(runtime, r2, s2);
    console.log(`GoBGP: both nodes ready ${Date.now() - startedAt} ms after start`);
    expect(await run(r1, ["gobgp", "global"])).toMatch(/AS:\s+65001/);
  });

  it("brings the two peers to Established (gobgp neighbor)", async () => {
    await waitFor(
      "gobgp r1-r2 Established",
      async () =>
        (await neighbors(r1)).get(pair.addressB) === ESTABLISHED && (await neighbors(r2)).get(pair.addressA) === ESTABLISHED,
      30_000,
      () => `${s1.describe()}\n${s2.describe()}`,
    );
    console.log(`GoBGP: Established ${Date.now() - startedAt} ms after start`);
    expect(await run(r1, ["gobgp", "neighbor"])).toMatch(/198\.18\.0\.2\s+65002\s+\S+\s+Establ/);
  });

  it("push of a new neighbor reloads without dropping the session; save returns it", async () => {
    const pid = s1.pid("gobgpd");
    const withNeighbor = `${boot1.trimEnd()}\n    - config:\n        neighbor-address: 198.18.0.99\n        peer-as: 65099\n`;
    await runtime.pushConfig!(r1, new TextEncoder().encode(withNeighbor));
    await waitFor("new neighbor listed", async () => (await neighbors(r1)).has("198.18.0.99"), 10_000);
    expect(s1.pid("gobgpd")).toBe(pid); // reloaded by SIGHUP, not restarted
    expect((await neighbors(r1)).get(pair.addressB)).toBe(ESTABLISHED);
    expect(new TextDecoder().decode(await runtime.saveConfig!(r1))).toContain("198.18.0.99");
  });

  it("push that changes the router id restarts gobgpd", async () => {
    const pid = s1.pid("gobgpd");
    const t0 = Date.now();
    await runtime.pushConfig!(r1, new TextEncoder().encode(boot1.replace("10.1.0.1", "10.1.0.11")));
    expect(s1.pid("gobgpd")).not.toBe(pid);
    expect(await run(r1, ["gobgp", "global"])).toContain("10.1.0.11");
    await waitFor("re-Established after restart", async () => (await neighbors(r1)).get(pair.addressB) === ESTABLISHED, 30_000);
    console.log(`GoBGP: restart for a router-id change re-Established in ${Date.now() - t0} ms`);
  });

  it("reset returns to the boot config; a broken config is refused", async () => {
    await runtime.resetConfig!(r1);
    expect(await run(r1, ["gobgp", "global"])).toContain("10.1.0.1\n");
    expect(new TextDecoder().decode(await runtime.saveConfig!(r1))).toBe(boot1);
    expect((await neighbors(r1)).has("198.18.0.99")).toBe(false);
    await expect(runtime.pushConfig!(r1, new TextEncoder().encode("global: [\n"))).rejects.toThrow(ConfigRejectedError);
    await waitFor("Established after reset", async () => (await neighbors(r1)).get(pair.addressB) === ESTABLISHED, 30_000);
  });
});
