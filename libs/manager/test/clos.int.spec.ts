// The eBGP CLOS of examples/frr-clos on real FRR: convergence, reachability, a link going
// down and up, config push and reset, growing the fabric with `apply`, and a clean delete.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { Code } from "@connectrpc/connect";
import { topo } from "@kne/proto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, bridgeExists, deleteQuietly, exampleRequest, examples, exec, kernelLeftovers, processesUsing, startHarness, vtyshJson, waitFor } from "./helpers.ts";

const NAME = "frr-clos";
const routers = ["spine1", "spine2", "leaf1", "leaf2", "leaf3", "leaf4"];
const hosts = [1, 2, 3, 4].map((n) => ({ name: `host${n}`, address: `198.18.${100 + n}.10` }));

interface Neighbor {
  bgpState: string;
  connectionsEstablished: number;
  connectionsDropped: number;
}

let h: Harness;
let createStarted = 0;
let readyMs = 0;

/** Every BGP neighbor of the routers: `node/peer` → state and connection counters. */
async function neighbors(nodes: readonly string[]): Promise<Map<string, Neighbor>> {
  const out = new Map<string, Neighbor>();
  await Promise.all(
    nodes.map(async (node) => {
      const r = await vtyshJson<Record<string, Neighbor>>(h, NAME, node, "show bgp neighbors json");
      for (const [peer, n] of Object.entries(r)) out.set(`${node}/${peer}`, { bgpState: n.bgpState, connectionsEstablished: n.connectionsEstablished ?? 0, connectionsDropped: n.connectionsDropped ?? 0 });
    }),
  );
  return out;
}

async function allEstablished(nodes: readonly string[], expected: number): Promise<Map<string, Neighbor> | undefined> {
  const n = await neighbors(nodes);
  return n.size === expected && [...n.values()].every((x) => x.bgpState === "Established") ? n : undefined;
}

async function ping(from: string, to: string): Promise<boolean> {
  const r = await exec(h, NAME, from, ["ping", "-c", "2", "-i", "0.2", "-W", "1", to]);
  return r.code === 0;
}

async function pingsEventually(from: string, to: string, timeoutMs = 15_000): Promise<void> {
  await waitFor(`${from} → ${to}`, async () => ((await ping(from, to)) ? true : undefined), timeoutMs, 200);
}

beforeAll(async () => {
  h = await startHarness();
  const request = await exampleRequest("frr-clos/topology.pb.txt");
  createStarted = Date.now();
  await h.topology.createTopology({ ...request, timeout: { seconds: 120n, nanos: 0 } });
  readyMs = Date.now() - createStarted;
});

afterAll(async () => {
  if (h) {
    await deleteQuietly(h, NAME);
    await h.close();
  }
});

describe("frr-clos", () => {
  it("brings every BGP session to Established within 30 s of create", async () => {
    await waitFor("all 16 BGP neighbors Established", () => allEstablished(routers, 16), 30_000 - (Date.now() - createStarted));
    const establishedMs = Date.now() - createStarted;
    console.log(`frr-clos: create → ready ${readyMs} ms, → all BGP Established ${establishedMs} ms`);
    expect(establishedMs).toBeLessThan(30_000);
  });

  it("lets every host ping every other host, over both spines (ECMP)", async () => {
    for (const a of hosts) for (const b of hosts) if (a !== b) await pingsEventually(a.name, b.address);
    const route = await vtyshJson<Record<string, Array<{ nexthops: unknown[] }>>>(h, NAME, "leaf1", "show ip route 198.18.104.0/24 json");
    expect(route["198.18.104.0/24"]?.[0]?.nexthops).toHaveLength(2);
  });

  it("reroutes through the other spine when a leaf–spine link goes down, dropping only that link's sessions", async () => {
    const before = await neighbors(routers);
    const link = "spine1:eth1--leaf1:eth1";
    const down = await h.link.setLinkState({ topology: NAME, link, state: topo.LinkState.DOWN });
    expect(down.link?.a?.adminState).toBe(topo.LinkState.DOWN);
    const affected = new Set(["spine1/198.18.1.1", "leaf1/198.18.1.0"]);
    await waitFor(
      "the sessions on the link to drop",
      async () => {
        const n = await neighbors(["spine1", "leaf1"]);
        return [...affected].every((k) => n.get(k)?.bgpState !== "Established") ? true : undefined;
      },
      15_000,
    );
    for (const other of hosts.slice(1)) await pingsEventually("host1", other.address);
    const during = await neighbors(routers);
    for (const [key, n] of during) {
      if (affected.has(key)) continue;
      expect(n.bgpState, key).toBe("Established");
      expect(n.connectionsDropped, key).toBe(before.get(key)!.connectionsDropped);
    }
    // leaf1 now reaches the fabric through spine2 only.
    const route = await vtyshJson<Record<string, Array<{ nexthops: Array<{ interfaceName?: string }> }>>>(h, NAME, "leaf1", "show ip route 198.18.104.0/24 json");
    expect(route["198.18.104.0/24"]?.[0]?.nexthops.map((x) => x.interfaceName)).toEqual(["eth2"]);

    await h.link.setLinkState({ topology: NAME, link, state: topo.LinkState.UP });
    await waitFor("all sessions back", () => allEstablished(routers, 16), 30_000);
    await waitFor(
      "ECMP back on leaf1",
      async () => {
        const r = await vtyshJson<Record<string, Array<{ nexthops: unknown[] }>>>(h, NAME, "leaf1", "show ip route 198.18.104.0/24 json");
        return r["198.18.104.0/24"]?.[0]?.nexthops.length === 2 ? true : undefined;
      },
      15_000,
    );
    for (const other of hosts.slice(1)) await pingsEventually("host1", other.address);
  });

  it("pushes a config that adds a route seen in the peer's RIB, and reset removes it", async () => {
    const before = await neighbors(routers);
    const config = [
      "interface lo",
      " ip address 198.18.254.1/32",
      "exit",
      "router bgp 65001",
      " address-family ipv4 unicast",
      "  network 198.18.254.1/32",
      " exit-address-family",
      "exit",
      "",
    ].join("\n");
    await h.node.pushConfig({ topology: NAME, node: "leaf1", config: new TextEncoder().encode(config) });
    const rib = async () => (await vtyshJson<{ routes?: Record<string, unknown> }>(h, NAME, "spine1", "show bgp ipv4 unicast json")).routes ?? {};
    await waitFor("198.18.254.1/32 in spine1's RIB", async () => ("198.18.254.1/32" in (await rib()) ? true : undefined), 15_000);
    await pingsEventually("host4", "198.18.254.1");

    await h.node.resetConfig({ topology: NAME, node: "leaf1" });
    await waitFor("198.18.254.1/32 gone from spine1's RIB", async () => (!("198.18.254.1/32" in (await rib())) ? true : undefined), 15_000);
    const after = await neighbors(routers);
    for (const [key, n] of after) expect(n.connectionsEstablished, key).toBe(before.get(key)!.connectionsEstablished);

    // HOST nodes have no config to push.
    await expect(h.node.pushConfig({ topology: NAME, node: "host1", config: new Uint8Array([1]) })).rejects.toMatchObject({ code: Code.Unimplemented });
  });

  it("grows by a leaf with apply; sessions on untouched links never flap", async () => {
    const before = await neighbors(routers);
    const request = await exampleRequest("frr-clos/topology-5leaves.pb.txt");
    const r = await h.topology.updateTopology({ ...request, timeout: { seconds: 60n, nanos: 0 } });
    expect(r.changes.map((c) => `${c.kind} ${c.name}`).sort()).toEqual(
      ["link leaf5:eth3--host5:eth1", "link spine1:eth5--leaf5:eth1", "link spine2:eth5--leaf5:eth2", "node host5", "node leaf5"].sort(),
    );
    for (const spine of ["spine1", "spine2"]) {
      const config = await readFile(join(examples, "frr-clos", `${spine}-leaf5.conf`));
      await h.node.pushConfig({ topology: NAME, node: spine, config: new Uint8Array(config) });
    }
    await waitFor("all 20 BGP neighbors Established", () => allEstablished([...routers, "leaf5"], 20), 30_000);
    await pingsEventually("host5", "198.18.101.10");
    await pingsEventually("host1", "198.18.105.10");
    const after = await neighbors(routers);
    for (const [key, n] of before) {
      expect(after.get(key)?.bgpState, key).toBe("Established");
      expect(after.get(key)?.connectionsEstablished, key).toBe(n.connectionsEstablished);
      expect(after.get(key)?.connectionsDropped, key).toBe(n.connectionsDropped);
    }
  });

  it("after delete leaves no namespaces, bridge, veths, processes or state", async () => {
    await h.topology.deleteTopology({ name: NAME });
    expect(kernelLeftovers(NAME)).toEqual({ namespaces: [], ports: [] });
    expect(processesUsing(h.stateDir)).toEqual([]);
    // The management segment (kne-mgmt on its parent kne-mgmt0) goes with the last topology.
    expect(bridgeExists()).toBe(false);
    expect(bridgeExists("kne-mgmt0")).toBe(false);
    await expect(h.topology.getTopology({ name: NAME })).rejects.toMatchObject({ code: Code.NotFound });
    expect(await readFile(join(h.stateDir, "topologies", NAME, "state.json")).catch(() => undefined)).toBeUndefined();
  });
});
