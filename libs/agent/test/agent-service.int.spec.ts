// The agent served for real (Connect over HTTP/2 on 127.0.0.1) against the real kernel:
// every same-host wire kind carries ping; link down on one end is carrier down on the other,
// seen by GetInterfaces and WatchInterfaces; loss is measured; delay is refused where the
// kernel has no netem; the desired state (link state included) survives a restart.
import { once } from "node:events";
import { existsSync } from "node:fs";
import { create } from "@bufbuild/protobuf";
import { join } from "node:path";
import { type Client, Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { SINK_IFNAME, execInNamespace, nodeNetnsName, probeKernelFeatures, readInterfaces, spawnInNamespace } from "@kne/dataplane";
import { agentv1, topo } from "@kne/proto";
import { type RunningServer, serviceRegistration, startServer } from "@kne/rpc";
import { createLogger } from "@kne/telemetry";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AgentService, createAgentService } from "../src/index.ts";
import { canRun, cleanupAll, fixtureNamespace, fixtureTag, interfacesOf, ip, ping, tempStateDir, topologyNamespaces, uniqueTopology, waitFor } from "./helpers.ts";

const logger = createLogger({ name: "agent-test", level: process.env["KNE_TEST_LOG"] ?? "silent" });

interface Served {
  agent: AgentService;
  server: RunningServer;
  client: Client<typeof agentv1.AgentService>;
  close(): Promise<void>;
}

async function serve(stateDir: string, hostNetns: string): Promise<Served> {
  const agent = createAgentService({ stateDir, hostNetns, logger, resyncIntervalMs: 0 });
  await agent.start();
  const server = await startServer({ port: 0, host: "127.0.0.1", logger, services: [serviceRegistration(agentv1.AgentService, agent.impl)] });
  const client = createClient(agentv1.AgentService, createGrpcTransport({ baseUrl: server.url }));
  return {
    agent,
    server,
    client,
    async close() {
      await server.close();
      await agent.stop();
    },
  };
}

function ep(node: string, iface: string, addresses: string[] = []) {
  return { node, interface: iface, addresses };
}

/**
 * r1:eth1 — r2:eth1 (veth), r1/r2/r3 eth2 on segment lan1, r3:eth0 attached to the host's
 * up0 (macvlan) behind which an "external" network answers on 192.0.2.1.
 */
function topologyRequest(topology: string, generation: bigint): agentv1.ApplyWiresRequest {
  return create(agentv1.ApplyWiresRequestSchema, {
    topology,
    generation,
    namespaces: ["r1", "r2", "r3"].map((node) => ({ node, create: true })),
    wires: [
      { uid: 1n, a: ep("r1", "eth1", ["203.0.113.1/30"]), peer: { case: "z", value: ep("r2", "eth1", ["203.0.113.2/30"]) } },
      { uid: 2n, a: ep("r1", "eth2", ["198.51.100.1/24"]), peer: { case: "segment", value: "lan1" } },
      { uid: 3n, a: ep("r2", "eth2", ["198.51.100.2/24"]), peer: { case: "segment", value: "lan1" } },
      { uid: 4n, a: ep("r3", "eth2", ["198.51.100.3/24"]), peer: { case: "segment", value: "lan1" } },
      { uid: 5n, a: { ...ep("r3", "eth0", ["192.0.2.2/24"]), mac: "02:00:00:00:0a:03" }, peer: { case: "hostInterface", value: "up0" } },
    ],
  });
}

describe.skipIf(!canRun)("agent service (in process, over gRPC)", () => {
  let stateDir: string;
  let host: string;
  let ext: string;
  let served: Served;
  const t = uniqueTopology("svc");
  const [r1, r2, r3] = ["r1", "r2", "r3"].map((n) => nodeNetnsName(t, n)) as [string, string, string];

  beforeAll(async () => {
    stateDir = await tempStateDir("svc");
    // The "host" namespace of this agent has an uplink (a veth, never a real NIC) into an
    // "external" network.
    host = await fixtureNamespace(`${fixtureTag}-host`);
    ext = await fixtureNamespace(`${fixtureTag}-ext`);
    await ip(host, ["link", "add", "name", "up0", "type", "veth", "peer", "name", "up0p", "netns", ext]);
    await ip(host, ["link", "set", "dev", "up0", "up"]);
    await ip(ext, ["link", "set", "dev", "up0p", "up"]);
    await ip(ext, ["addr", "add", "192.0.2.1/24", "dev", "up0p"]);
    served = await serve(stateDir, host);
  });

  afterAll(async () => {
    await served?.close();
    await cleanupAll();
  });

  it("applies wires of every same-host kind, idempotently, refusing stale generations", async () => {
    const res = await served.client.applyWires(topologyRequest(t, 1n));
    expect(res).toMatchObject({ observedGeneration: 1n, created: 5, deleted: 0 });
    expect(existsSync(join(stateDir, "topologies", `${t}.json`))).toBe(true);
    expect(await topologyNamespaces(t)).toEqual([`kne.${t}._fabric`, r1, r2, r3].sort());

    expect((await ping(r1, "203.0.113.2")).received, "veth").toBe(3);
    expect((await ping(r1, "198.51.100.3")).received, "lan").toBe(3);
    expect((await ping(r2, "198.51.100.1")).received, "lan").toBe(3);
    expect((await ping(r3, "192.0.2.1")).received, "macvlan").toBe(3);

    const again = await served.client.applyWires(topologyRequest(t, 1n));
    expect(again).toMatchObject({ observedGeneration: 1n, created: 0, deleted: 0, unchanged: 5 });
    await expect(served.client.applyWires(topologyRequest(t, 0n))).rejects.toMatchObject({ code: Code.FailedPrecondition, rawMessage: expect.stringContaining("older") });
    const changed = topologyRequest(t, 1n);
    changed.wires[0]!.a!.mtu = 9000;
    await expect(served.client.applyWires(changed)).rejects.toMatchObject({ code: Code.Aborted });
  });

  it("link down on one end: the peer's carrier goes down (GetInterfaces, WatchInterfaces); up restores it", async () => {
    const abort = new AbortController();
    const seen: agentv1.InterfaceState[] = [];
    const arrived: number[] = [];
    const stream = served.client.watchInterfaces({ topology: t, countersIntervalMs: 200 }, { signal: abort.signal });
    const consumed = (async () => {
      try {
        for await (const m of stream) {
          seen.push(m.state!);
          arrived.push(performance.now());
        }
      } catch (err) {
        if (!(err instanceof ConnectError && err.code === Code.Canceled)) throw err;
      }
    })();
    try {
      const snapshot = await waitFor("the initial snapshot", async () => (seen.length >= 6 ? seen.slice() : undefined));
      expect(new Set(snapshot.map((s) => `${s.node}/${s.interface}`))).toEqual(new Set(["r1/eth1", "r2/eth1", "r1/eth2", "r2/eth2", "r3/eth2", "r3/eth0"]));
      expect(snapshot.every((s) => s.adminUp && s.carrier)).toBe(true);

      const started = performance.now();
      await served.client.setLinkState({ topology: t, node: "r1", interface: "eth1", state: topo.LinkState.DOWN });
      const rpcMs = performance.now() - started;
      const peerDown = await waitFor("r2/eth1 carrier down in the watch", async () => seen.find((s) => s.node === "r2" && s.interface === "eth1" && !s.carrier), 2000, 1);
      const watchMs = performance.now() - started;
      // Link down (r1/eth1 admin down, as the kernel announced it) → carrier down at the far end.
      const downAt = arrived[seen.findIndex((s) => s.node === "r1" && s.interface === "eth1" && !s.adminUp)]!;
      const carrierAt = arrived[seen.indexOf(peerDown)]!;
      console.info(
        `SetLinkState down: RPC ${rpcMs.toFixed(1)} ms (the first call in a namespace starts its ip session); ` +
          `in WatchInterfaces: r1/eth1 down after ${(downAt - started).toFixed(1)} ms, r2/eth1 carrier down ${(carrierAt - downAt).toFixed(1)} ms later`,
      );
      expect(peerDown.adminUp).toBe(true);
      expect(carrierAt - downAt).toBeLessThan(100);
      expect(watchMs).toBeLessThan(1000);
      const r2eth1 = (await served.client.getInterfaces({ topology: t, node: "r2" })).interfaces.find((i) => i.interface === "eth1")!;
      expect(r2eth1).toMatchObject({ adminUp: true, carrier: false });
      const r1eth1 = (await served.client.getInterfaces({ topology: t, node: "r1" })).interfaces.find((i) => i.interface === "eth1")!;
      expect(r1eth1).toMatchObject({ adminUp: false, carrier: false, operState: "DOWN" });
      expect((await ping(r1, "203.0.113.2", ["-c", "1", "-W", "1"])).received).toBe(0);

      const count = seen.length;
      await served.client.setLinkState({ topology: t, node: "r1", interface: "eth1", state: topo.LinkState.UP });
      await waitFor("r2/eth1 carrier up again", async () => seen.slice(count).find((s) => s.node === "r2" && s.interface === "eth1" && s.carrier), 1000, 1);
      expect((await ping(r1, "203.0.113.2", ["-c", "2", "-i", "0.2", "-W", "2"])).received).toBeGreaterThanOrEqual(1);

      // Counters arrive at the interval: the pings above moved r2/eth1's.
      await waitFor("counters of r2/eth1", async () => seen.find((s) => s.node === "r2" && s.interface === "eth1" && s.rxPackets > 0n), 3000);
    } finally {
      abort.abort();
      await consumed;
    }
    await expect(served.client.setLinkState({ topology: t, node: "r9", interface: "eth1", state: topo.LinkState.DOWN })).rejects.toMatchObject({ code: Code.NotFound });
    await expect(served.client.setLinkState({ topology: t, node: "r1", interface: "eth1", state: topo.LinkState.UNSPECIFIED })).rejects.toMatchObject({ code: Code.InvalidArgument });
  });

  it("loss 20%: 1,000 pings lose 15-25%; rate 50 Mbit/s within 15%; delay is FAILED_PRECONDITION naming sch_netem", async () => {
    await served.client.setImpairments({ topology: t, node: "r1", interface: "eth1", impairments: { lossPercent: 20 } });
    const p = await ping(r1, "203.0.113.2", ["-c", "1000", "-i", "0.002", "-q", "-W", "1"]);
    console.info(`loss 20% through the agent: ${p.transmitted} sent, ${p.received} received, ${p.lossPercent.toFixed(1)}% lost`);
    expect(p.transmitted).toBe(1000);
    expect(p.lossPercent).toBeGreaterThanOrEqual(15);
    expect(p.lossPercent).toBeLessThanOrEqual(25);

    await served.client.setImpairments({ topology: t, node: "r1", interface: "eth1", impairments: {} });
    expect((await readInterfaces(r1)).some((i) => i.ifname === SINK_IFNAME)).toBe(false);
    expect((await ping(r1, "203.0.113.2", ["-c", "200", "-i", "0.002", "-q", "-W", "1"])).received).toBe(200);

    // Rate 50 Mbit/s: iperf3 TCP throughput within 15%.
    await served.client.setImpairments({ topology: t, node: "r1", interface: "eth1", impairments: { rateKbps: 50_000n } });
    const iperf = spawnInNamespace(r2, "iperf3", ["-s", "-1", "-B", "203.0.113.2"], { stdio: "ignore" });
    try {
      await new Promise((r) => setTimeout(r, 300));
      const run = await execInNamespace(r1, "iperf3", ["-c", "203.0.113.2", "-t", "3", "-J"], { timeoutMs: 30_000 });
      const received = (JSON.parse(run.stdout) as { end: { sum_received: { bits_per_second: number } } }).end.sum_received.bits_per_second;
      console.info(`rate 50 Mbit/s through the agent: iperf3 received ${(received / 1e6).toFixed(2)} Mbit/s`);
      expect(received).toBeGreaterThan(50e6 * 0.85);
      expect(received).toBeLessThan(50e6 * 1.15);
    } finally {
      if (iperf.exitCode === null && iperf.signalCode === null) {
        iperf.kill("SIGTERM");
        await once(iperf, "exit");
      }
    }
    await served.client.setImpairments({ topology: t, node: "r1", interface: "eth1", impairments: {} });

    const features = await probeKernelFeatures();
    if (!features.available.has("sch_netem")) {
      const err = await served.client.setImpairments({ topology: t, node: "r1", interface: "eth1", impairments: { delayUs: 20_000 } }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConnectError);
      expect((err as ConnectError).code).toBe(Code.FailedPrecondition);
      expect((err as ConnectError).rawMessage).toMatch(/sch_netem.*delay/);
      // Refused before anything was recorded or touched: the endpoint is as it was.
      expect((await ping(r1, "203.0.113.2", ["-c", "5", "-i", "0.01", "-W", "1"])).received).toBe(5);
      // And ApplyWires with a delay is refused whole, before it is persisted.
      const withDelay = topologyRequest(t, 2n);
      withDelay.wires[0]!.aEgress = create(topo.ImpairmentsSchema, { delayUs: 1000 });
      await expect(served.client.applyWires(withDelay)).rejects.toMatchObject({ code: Code.FailedPrecondition, rawMessage: expect.stringContaining("sch_netem") });
      await expect(served.client.applyWires(topologyRequest(t, 1n))).resolves.toMatchObject({ observedGeneration: 1n });
    }
    const caps = await served.client.getCapabilities({});
    expect(caps.features).toEqual(expect.arrayContaining(["veth", "vxlan", "nft_netdev_egress"]));
    expect(caps.kernel).not.toBe("");
  });

  it("keeps link state across a restart and repairs drift level-triggered", async () => {
    await served.client.setLinkState({ topology: t, node: "r2", interface: "eth2", state: topo.LinkState.DOWN });
    await served.close();
    // Drift while no agent runs: someone brings it up, someone deletes a wire end.
    await ip(r2, ["link", "set", "dev", "eth2", "up"]);
    await ip(r1, ["link", "del", "dev", "eth1"]);
    served = await serve(stateDir, host);
    await served.agent.converged();
    const r2ifs = await interfacesOf(r2);
    expect(r2ifs.get("eth2")).toMatchObject({ up: false });
    expect(r2ifs.get("eth1")).toMatchObject({ up: true, carrier: true, alias: `kne:${t}:1` });
    expect((await ping(r1, "203.0.113.2")).received, "recreated veth with its address").toBe(3);
    // No duplicates anywhere: each node has exactly its wires (and lo).
    expect([...(await interfacesOf(r1)).keys()].sort()).toEqual(["eth1", "eth2", "lo"]);
    expect([...r2ifs.keys()].sort()).toEqual(["eth1", "eth2", "lo"]);
    expect([...(await interfacesOf(r3)).keys()].sort()).toEqual(["eth0", "eth2", "lo"]);
  });

  it("deletes the topology: nothing with its marker remains", async () => {
    const res = await served.client.deleteTopology({ topology: t });
    expect(res.deleted).toBeGreaterThanOrEqual(4);
    expect(await topologyNamespaces(t)).toEqual([]);
    expect([...(await interfacesOf(host)).values()].some((i) => i.alias.startsWith(`kne:${t}:`))).toBe(false);
    expect([...(await interfacesOf("")).values()].some((i) => i.alias.startsWith(`kne:${t}:`))).toBe(false);
    expect(existsSync(join(stateDir, "topologies", `${t}.json`))).toBe(false);
    await expect(served.client.getInterfaces({ topology: t })).rejects.toMatchObject({ code: Code.NotFound });
  });
});
