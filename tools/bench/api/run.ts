/**
 * API benchmark: the topology-manager process (started here on a temporary state dir, port
 * 0) with a real local topology (a ring of HOST nodes), called over real gRPC (HTTP/2 on
 * loopback):
 *
 * - unary GetTopology and SetLinkState: throughput and p50/p99 latency at concurrency 1, 16
 *   and 64 (each cell runs for --seconds; SetLinkState flips links down and up, each call
 *   a real kernel change, serialized by the backend), through @kne/rpc's lean gRPC client
 *   (`createFastGrpcTransport`; the watch streams go through connect-node);
 * - watch fan-out: --watchers WatchLinks streams on the topology; a link is flipped
 *   --flips times and, for every watcher, the time from sending SetLinkState to that
 *   watcher seeing the new state is recorded: p50/p99/max over all watchers and flips.
 *
 * Run as root:  npm run bench:api -w @kne/bench -- [--nodes 8] [--seconds 3]
 *               [--watchers 100] [--flips 50]
 *   (or: npx tsx tools/bench/api/run.ts ...)
 * The topology is deleted and the manager stopped in `finally`; the state dir is removed.
 */
import { setMaxListeners } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { createClient } from "@connectrpc/connect";
import { managerv1, topo } from "@kne/proto";
import { createFastGrpcTransport, type FastGrpcTransport } from "@kne/rpc";
import { startServerProcess, type ServerProcess } from "@kne/rpc/testing";

const here = dirname(fileURLToPath(import.meta.url));
const managerBin = join(here, "..", "..", "..", "apps", "topology-manager", "bin", "topology-manager.mjs");

const { values: flags } = parseArgs({
  options: {
    nodes: { type: "string", default: "8" },
    seconds: { type: "string", default: "3" },
    watchers: { type: "string", default: "100" },
    flips: { type: "string", default: "50" },
    concurrency: { type: "string", default: "1,16,64" },
  },
});
const ringSize = Number(flags.nodes);
const cellMs = Number(flags.seconds) * 1000;
const watcherCount = Number(flags.watchers);
const flipCount = Number(flags.flips);
const levels = flags.concurrency.split(",").map((x) => Number(x.trim()));
if (!(ringSize >= 3) || !(cellMs > 0) || !(watcherCount >= 1) || !(flipCount >= 1) || levels.some((c) => !Number.isInteger(c) || c < 1)) {
  console.error("usage: run.ts [--nodes N>=3] [--seconds S] [--watchers W] [--flips F] [--concurrency 1,16,64]");
  process.exit(2);
}
if (process.getuid?.() !== 0) {
  console.error("the API benchmark needs root (network namespaces)");
  process.exit(2);
}

const name = "benchapi";
const names = Array.from({ length: ringSize }, (_, i) => `h${i + 1}`);
const ring = {
  name,
  nodes: names.map((n) => ({ name: n, vendor: topo.Vendor.HOST })),
  links: names.map((a, i) => ({ aNode: a, aInt: "eth1", zNode: names[(i + 1) % ringSize]!, zInt: "eth2" })),
};
const linkRefs = names.map((n) => `${n}:eth1`);

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}
const ms = (x: number) => (x < 10 ? x.toFixed(2) : x.toFixed(1));

interface Cell {
  method: string;
  concurrency: number;
  calls: number;
  perSecond: number;
  p50: number;
  p99: number;
}

const stateDir = mkdtempSync(join(tmpdir(), "kne-bench-api-"));
let server: ServerProcess | undefined;
let transport: FastGrpcTransport | undefined;
let created = false;

async function main(): Promise<void> {
  server = await startServerProcess(managerBin, ["--state-dir", stateDir, "--log-level", "info"], 60_000);
  transport = createFastGrpcTransport({ baseUrl: server.url });
  const topologies = createClient(managerv1.TopologyService, transport);
  const links = createClient(managerv1.LinkService, transport);
  const t0 = performance.now();
  await topologies.createTopology({ topology: ring }, { timeoutMs: 300_000 });
  created = true;
  console.log(`manager ${server.url}; ring of ${ringSize} HOST nodes created in ${((performance.now() - t0) / 1000).toFixed(2)} s; load ${loadavg()[0]!.toFixed(1)}`);

  // ---- unary -------------------------------------------------------------------------------
  const cells: Cell[] = [];
  const unary: Array<[string, (worker: number, i: number) => Promise<unknown>]> = [
    ["GetTopology", () => topologies.getTopology({ name })],
    [
      "SetLinkState",
      (worker, i) => links.setLinkState({ topology: name, link: linkRefs[worker % linkRefs.length]!, state: i % 2 === 0 ? topo.LinkState.DOWN : topo.LinkState.UP }),
    ],
  ];
  for (const [method, call] of unary) {
    for (let i = 0; i < 20; i++) await call(0, i); // warm-up: connection, JIT
    for (const concurrency of levels) {
      const latencies: number[] = [];
      const started = performance.now();
      const until = started + cellMs;
      await Promise.all(
        Array.from({ length: concurrency }, async (_, worker) => {
          for (let i = 0; performance.now() < until; i++) {
            const t = performance.now();
            await call(worker, i);
            latencies.push(performance.now() - t);
          }
        }),
      );
      const elapsed = performance.now() - started;
      latencies.sort((a, b) => a - b);
      cells.push({ method, concurrency, calls: latencies.length, perSecond: (latencies.length / elapsed) * 1000, p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99) });
    }
  }
  // Every link back up before the watch part.
  for (const link of linkRefs) await links.setLinkState({ topology: name, link, state: topo.LinkState.UP });

  // ---- watch fan-out -------------------------------------------------------------------------
  const abort = new AbortController();
  // Every watch call listens on this one signal.
  setMaxListeners(watcherCount + 16, abort.signal);
  const target = linkRefs[0]!;
  const targetId = `${names[0]}:eth1--${names[1]}:eth2`;
  /** Per watcher: the latest admin state of the target link seen, and when. */
  const seen = Array.from({ length: watcherCount }, () => ({ state: topo.LinkState.UNSPECIFIED as topo.LinkState, at: 0, ready: false }));
  let wake: (() => void) | undefined;
  const readers = seen.map(async (slot) => {
    try {
      for await (const e of links.watchLinks({ topology: name }, { signal: abort.signal })) {
        if (e.link?.id !== targetId) continue;
        slot.state = e.link.a?.adminState ?? topo.LinkState.UNSPECIFIED;
        slot.at = performance.now();
        slot.ready = true;
        wake?.();
      }
    } catch (err) {
      if (!abort.signal.aborted) throw err;
    }
  });
  const waitAll = async (pred: (slot: (typeof seen)[number]) => boolean, what: string): Promise<void> => {
    const deadline = performance.now() + 30_000;
    while (!seen.every(pred)) {
      if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}: ${seen.filter((s) => !pred(s)).length} watchers behind`);
      await new Promise<void>((r) => {
        wake = r;
        setTimeout(r, 50);
      });
    }
  };
  await waitAll((s) => s.ready, "every watcher's snapshot");
  const fanout: number[] = [];
  const rpc: number[] = [];
  for (let i = 0; i < flipCount; i++) {
    const state = i % 2 === 0 ? topo.LinkState.DOWN : topo.LinkState.UP;
    const sent = performance.now();
    await links.setLinkState({ topology: name, link: target, state });
    rpc.push(performance.now() - sent);
    await waitAll((s) => s.state === state && s.at >= sent, `flip ${i}`);
    for (const s of seen) fanout.push(s.at - sent);
    await new Promise((r) => setTimeout(r, 20));
  }
  abort.abort();
  await Promise.all(readers);
  fanout.sort((a, b) => a - b);
  rpc.sort((a, b) => a - b);

  // ---- table -------------------------------------------------------------------------------
  console.log("\nUnary calls over gRPC (HTTP/2, loopback), against the topology-manager process");
  console.log("| method | concurrency | calls | calls/s | p50 ms | p99 ms |");
  console.log("|---|---|---|---|---|---|");
  for (const c of cells) console.log(`| ${c.method} | ${c.concurrency} | ${c.calls} | ${c.perSecond.toFixed(0)} | ${ms(c.p50)} | ${ms(c.p99)} |`);
  console.log(`\nWatch fan-out: ${watcherCount} WatchLinks watchers, ${flipCount} flips of ${targetId}: time from sending SetLinkState to each watcher seeing the new state`);
  console.log("| samples | p50 ms | p99 ms | max ms | SetLinkState p50 ms (its own reply) |");
  console.log("|---|---|---|---|---|");
  console.log(`| ${fanout.length} | ${ms(quantile(fanout, 0.5))} | ${ms(quantile(fanout, 0.99))} | ${ms(fanout.at(-1)!)} | ${ms(quantile(rpc, 0.5))} |`);
  console.log(`load average at the end: ${loadavg().map((x) => x.toFixed(1)).join(" ")}`);
}

async function cleanup(): Promise<void> {
  if (server) {
    if (created) {
      transport ??= createFastGrpcTransport({ baseUrl: server.url });
      const topologies = createClient(managerv1.TopologyService, transport);
      await topologies.deleteTopology({ name }, { timeoutMs: 300_000 }).catch((e: unknown) => console.error(`cleanup: deleting ${name} failed: ${String(e)}`));
    }
    await transport?.close();
    await server.stop("SIGTERM");
  }
  rmSync(stateDir, { recursive: true, force: true });
}

let failed = false;
try {
  await main();
} catch (err) {
  failed = true;
  console.error(err);
} finally {
  await cleanup();
}
process.exit(failed ? 1 : 0);
