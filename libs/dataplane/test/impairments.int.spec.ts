// Impairments measured for real: loss with 1,000 pings, rate with iperf3, and delay either
// measured (kernel with sch_netem) or refused with KernelFeatureMissingError naming it.
import { once } from "node:events";
import { describe, expect, it } from "vitest";
import {
  type DesiredState,
  type Impairments,
  KernelFeatureMissingError,
  SINK_IFNAME,
  clearImpairments,
  converge,
  convergeOrThrow,
  execInNamespace,
  nodeNetnsName,
  probeKernelFeatures,
  readInterfaces,
  readNftTable,
  readQdiscs,
  setImpairments,
  spawnInNamespace,
} from "../src/index.ts";
import { addAddress, canRun, ping, uniqueTopology, useCleanup } from "./helpers.ts";

async function pair(tag: string): Promise<{ t: string; r1: string; r2: string }> {
  const t = uniqueTopology(tag);
  const r1 = nodeNetnsName(t, "r1");
  const r2 = nodeNetnsName(t, "r2");
  await convergeOrThrow(withImpairments(t, r1, r2, undefined));
  await addAddress(r1, "eth1", "10.2.0.1/30");
  await addAddress(r2, "eth1", "10.2.0.2/30");
  expect((await ping(r1, "10.2.0.2", ["-c", "1", "-W", "2"])).received).toBe(1);
  return { t, r1, r2 };
}

/** r1:eth1 <-> r2:eth1, with impairments on r1's egress. */
function withImpairments(t: string, r1: string, r2: string, impairments: Impairments | undefined): DesiredState {
  return { topology: t, wires: [{ kind: "veth", uid: "1", a: { netns: r1, ifname: "eth1", impairments }, b: { netns: r2, ifname: "eth1" } }] };
}

describe.skipIf(!canRun)("impairments", () => {
  useCleanup();

  it("loss 20%: 1,000 pings lose 15-25%, silently for the sender; clearing removes rule and sink", async () => {
    const { t, r1, r2 } = await pair("loss");
    const state = withImpairments(t, r1, r2, { lossPercent: 20 });
    await convergeOrThrow(state);
    expect((await converge(state)).plan.operations).toEqual([]);
    const table = await readNftTable(r1, `kne_${t}`);
    expect(table?.chains).toEqual([expect.objectContaining({ ifname: "eth1", lossPercent: 20 })]);

    const p = await ping(r1, "10.2.0.2", ["-c", "1000", "-i", "0.002", "-q", "-W", "1"]);
    console.info(`loss 20%: ${p.transmitted} sent, ${p.received} received, ${p.lossPercent.toFixed(1)}% lost`);
    expect(p.transmitted).toBe(1000);
    expect(p.lossPercent).toBeGreaterThanOrEqual(15);
    expect(p.lossPercent).toBeLessThanOrEqual(25);
    const sink = (await readInterfaces(r1)).find((i) => i.ifname === SINK_IFNAME)!;
    expect(sink.counters.txDropped).toBeGreaterThan(100);

    await convergeOrThrow(withImpairments(t, r1, r2, undefined));
    expect(await readNftTable(r1, `kne_${t}`)).toBeNull();
    expect((await readInterfaces(r1)).some((i) => i.ifname === SINK_IFNAME)).toBe(false);
    expect((await ping(r1, "10.2.0.2", ["-c", "200", "-i", "0.002", "-q", "-W", "1"])).received).toBe(200);
  });

  it("rate 50 Mbit/s: iperf3 TCP throughput within 15%", async () => {
    const { t, r1, r2 } = await pair("rate");
    await convergeOrThrow(withImpairments(t, r1, r2, { rateBitsPerSecond: 50_000_000 }));
    const q = (await readQdiscs(r1)).find((x) => x.dev === "eth1" && x.root)!;
    expect(q).toMatchObject({ kind: "tbf", rateBitsPerSecond: 50_000_000 });

    const server = spawnInNamespace(r2, "iperf3", ["-s", "-1", "-B", "10.2.0.2"], { stdio: "pipe" });
    try {
      await new Promise((r) => setTimeout(r, 300));
      const r = await execInNamespace(r1, "iperf3", ["-c", "10.2.0.2", "-t", "3", "-J"], { timeoutMs: 30_000 });
      const result = JSON.parse(r.stdout) as { end: { sum_received: { bits_per_second: number }; sum_sent: { bits_per_second: number } } };
      const received = result.end.sum_received.bits_per_second;
      console.info(`rate 50 Mbit/s: iperf3 received ${(received / 1e6).toFixed(2)} Mbit/s, sent ${(result.end.sum_sent.bits_per_second / 1e6).toFixed(2)} Mbit/s`);
      expect(received).toBeGreaterThan(50e6 * 0.85);
      expect(received).toBeLessThan(50e6 * 1.15);
    } finally {
      if (server.exitCode === null) {
        server.kill("SIGTERM");
        await once(server, "exit");
      }
    }
    await convergeOrThrow(withImpairments(t, r1, r2, undefined));
    expect((await readQdiscs(r1)).find((x) => x.dev === "eth1" && x.root)?.kind).toBe("noqueue");
  });

  it("delay: refused with KernelFeatureMissingError naming sch_netem, or measured where netem exists", async () => {
    const { t, r1, r2 } = await pair("delay");
    const features = await probeKernelFeatures();
    if (!features.available.has("sch_netem")) {
      const err = await setImpairments(t, { netns: r1, ifname: "eth1" }, { delayMs: 20 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(KernelFeatureMissingError);
      expect((err as KernelFeatureMissingError).feature).toBe("sch_netem");
      expect((err as KernelFeatureMissingError).code).toBe("FAILED_PRECONDITION");
      expect((err as Error).message).toMatch(/sch_netem.*delay/);
      // The reconciler reports the same and changes nothing else.
      const pass = await converge(withImpairments(t, r1, r2, { delayMs: 20, lossPercent: 10 }));
      expect(pass.errors).toHaveLength(1);
      expect(pass.errors[0]).toBeInstanceOf(KernelFeatureMissingError);
      expect((pass.errors[0] as KernelFeatureMissingError).feature).toBe("sch_netem");
      expect(pass.plan.operations).toEqual([]);
      expect(await readNftTable(r1, `kne_${t}`)).toBeNull();
    } else {
      await setImpairments(t, { netns: r1, ifname: "eth1" }, { delayMs: 20 });
      const p = await ping(r1, "10.2.0.2", ["-c", "5", "-i", "0.2"]);
      expect(p.avgRttMs).toBeGreaterThan(19);
      await clearImpairments(t, { netns: r1, ifname: "eth1" });
    }
  });

  it("setImpairments / clearImpairments act directly and clean up after themselves", async () => {
    const { t, r1 } = await pair("direct");
    const ep = { netns: r1, ifname: "eth1" };
    await setImpairments(t, ep, { lossPercent: 30, rateBitsPerSecond: 10e6 });
    expect((await readQdiscs(r1)).find((q) => q.dev === "eth1" && q.root)).toMatchObject({ kind: "tbf", rateBitsPerSecond: 10e6 });
    expect((await readNftTable(r1, `kne_${t}`))?.chains[0]).toMatchObject({ ifname: "eth1", lossPercent: 30 });
    await setImpairments(t, ep, { lossPercent: 5 });
    expect((await readQdiscs(r1)).find((q) => q.dev === "eth1" && q.root)?.kind).toBe("noqueue");
    expect((await readNftTable(r1, `kne_${t}`))?.chains[0]).toMatchObject({ lossPercent: 5 });
    await clearImpairments(t, ep);
    expect(await readNftTable(r1, `kne_${t}`)).toBeNull();
    expect((await readInterfaces(r1)).map((i) => i.ifname)).not.toContain(SINK_IFNAME);
    await expect(setImpairments(t, { netns: r1, ifname: "nope0" }, { lossPercent: 1 })).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(setImpairments(t, { netns: r1, ifname: "lo" }, { lossPercent: 1 })).rejects.toMatchObject({ code: "FAILED_PRECONDITION" });
  });
});
