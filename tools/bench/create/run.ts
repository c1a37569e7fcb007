/**
 * Create benchmark: a ring of N HOST nodes (node i's eth1 to node i+1's eth2, as
 * `kne topology generate ring N` makes it) created until every node is ready and deleted
 * again, through the manager's API (the local backend embedded in this process, on a
 * temporary state dir, warmed up by one unmeasured 3-node ring), against the same ring in
 * Mininet in the same run
 * (tools/bench/wiring/mininet_ring.py: hosts and links, no switch, no controller; its
 * `build()` returns with every host's shell running, which is Mininet's "ready"). Then the
 * FRR CLOS of examples/frr-clos: time from CreateTopology to every BGP session Established,
 * polled with `vtysh -c "show bgp summary json"` through the manager's ExecCommand.
 *
 * Run as root:  npm run bench:create -w @kne/bench -- [--sizes 100,500] [--repeat 3]
 *               [--skip-clos] [--skip-mininet] [--settle 3]
 * Each size runs --repeat rounds of KNE then Mininet; the table and targets use the medians.
 *   (or: npx tsx tools/bench/create/run.ts ...)
 * Mininet runs with Debian's /usr/bin/python3 (its module is installed for that one).
 * Everything made is deleted in `finally`, the state dir removed. Exits 1 when a target is
 * missed: create and delete ≥ 5× faster than Mininet at N = 100 and 500; the CLOS's sessions
 * Established within 30 s.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { create } from "@bufbuild/protobuf";
import { createClient } from "@connectrpc/connect";
import { createEmbeddedManager } from "@kne/manager";
import { managerv1, topo } from "@kne/proto";
import { createLogger } from "@kne/telemetry";
import { mininetRing, mininetUnavailable, printRingComparison, stopMininet, type MininetRun } from "../mininet";
import { loadTopology } from "@kne/topology";

const here = dirname(fileURLToPath(import.meta.url));
const closFile = join(here, "..", "..", "..", "examples", "frr-clos", "topology.pb.txt");
const targetRatio = 5;
const targetSizes = [100, 500];
const closTargetMs = 30_000;

const { values: flags } = parseArgs({
  options: {
    sizes: { type: "string", default: "100,500" },
    "skip-clos": { type: "boolean", default: false },
    "skip-mininet": { type: "boolean", default: false },
    settle: { type: "string", default: "3" },
    repeat: { type: "string", default: "3" },
  },
});
const sizes = flags.sizes.split(",").map((x) => Number(x.trim()));
const settleMs = Number(flags.settle) * 1000;
const repeat = Number(flags.repeat);
if (sizes.some((n) => !Number.isInteger(n) || n < 3) || !(settleMs >= 0) || !Number.isInteger(repeat) || repeat < 1) {
  console.error("usage: run.ts [--sizes 100,500] [--repeat 3] [--skip-clos] [--skip-mininet] [--settle SECONDS]");
  process.exit(2);
}
if (process.getuid?.() !== 0) {
  console.error("the create benchmark needs root (network namespaces)");
  process.exit(2);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const s = (ms: number) => (ms / 1000).toFixed(2);

// ---- the manager, in this process, on its own state dir ----------------------------------------

// Never the default /var/lib/kne: the benchmark must not meet a user's topologies or lock.
const stateDir = mkdtempSync(join(tmpdir(), "kne-bench-create-"));
const manager = createEmbeddedManager({ stateDir, logger: createLogger({ name: "bench-create", level: process.env["KNE_LOG_LEVEL"] ?? "silent" }) });
const topologies = createClient(managerv1.TopologyService, manager.transport);
const nodes = createClient(managerv1.NodeService, manager.transport);
/** Topologies that may exist: deleted in `cleanup` whatever happened. */
const made = new Set<string>();
let cleaned: Promise<void> | undefined;

function cleanup(): Promise<void> {
  cleaned ??= (async () => {
    stopMininet();
    for (const name of made) {
      await topologies.deleteTopology({ name }, { timeoutMs: 300_000 }).catch((e: unknown) => console.error(`cleanup: deleting ${name} failed: ${String(e)}`));
    }
    await manager.close().catch(() => undefined);
    rmSync(stateDir, { recursive: true, force: true });
  })();
  return cleaned;
}
process.once("SIGINT", () => void cleanup().finally(() => process.exit(130)));
process.once("SIGTERM", () => void cleanup().finally(() => process.exit(143)));

/** Named namespaces of a topology (the local backend names them `kne.TOPO.NODE`). */
function namespacesOf(topology: string): number {
  return execFileSync("ip", ["netns", "list"], { encoding: "utf8" })
    .split("\n")
    .filter((l) => l.startsWith(`kne.${topology}.`)).length;
}

// ---- KNE: a HOST ring through the manager ---------------------------------------------------------

/** The ring `kne topology generate ring N` writes (apps/cli/src/ring.ts; a tool may not import an app). */
function hostRing(name: string, n: number): topo.Topology {
  return create(topo.TopologySchema, {
    name,
    nodes: Array.from({ length: n }, (_, i) => ({ name: `h${i + 1}`, vendor: topo.Vendor.HOST })),
    links: Array.from({ length: n }, (_, i) => ({ aNode: `h${i + 1}`, aInt: "eth1", zNode: `h${((i + 1) % n) + 1}`, zInt: "eth2" })),
  });
}

interface KneRun {
  createMs: number;
  deleteMs: number;
}

async function kneRing(n: number): Promise<KneRun> {
  const name = `bench-ring-${n}`;
  made.add(name);
  let started = performance.now();
  // CreateTopology returns once every node is ready (HOST: its shell runs in its namespace).
  const res = await topologies.createTopology({ topology: hostRing(name, n), timeout: { seconds: 600n, nanos: 0 } }, { timeoutMs: 660_000 });
  const createMs = performance.now() - started;
  const ready = res.status?.nodes.length ?? 0;
  if (ready !== n) throw new Error(`${name}: the status lists ${ready} nodes, not ${n}`);
  const namespaces = namespacesOf(name);
  if (namespaces !== n) throw new Error(`${name}: ${namespaces} namespaces exist, not ${n}`);
  started = performance.now();
  await topologies.deleteTopology({ name }, { timeoutMs: 300_000 });
  const deleteMs = performance.now() - started;
  made.delete(name);
  const left = namespacesOf(name);
  if (left !== 0) throw new Error(`${name}: ${left} namespaces left after delete`);
  return { createMs, deleteMs };
}



// ---- the FRR CLOS: create → every BGP session Established ------------------------------------------

interface ClosRun {
  readyMs: number;
  establishedMs: number;
  sessions: number;
  deleteMs: number;
}

interface BgpSummary {
  ipv4Unicast?: { peers?: Record<string, { state?: string }> };
}

/** BGP peers per router and how many are Established, from `show bgp summary json`. */
async function bgpSessions(topology: string, routers: readonly string[]): Promise<{ peers: number; established: number }> {
  let peers = 0;
  let established = 0;
  await Promise.all(
    routers.map(async (node) => {
      const r = await nodes.execCommand({ topology, node, command: ["vtysh", "-c", "show bgp summary json"], timeoutMs: 10_000 });
      if (r.exitCode !== 0) return;
      const summary = JSON.parse(new TextDecoder().decode(r.stdout) || "{}") as BgpSummary;
      for (const p of Object.values(summary.ipv4Unicast?.peers ?? {})) {
        peers++;
        if (p.state === "Established") established++;
      }
    }),
  );
  return { peers, established };
}

async function closRun(): Promise<ClosRun> {
  const loaded = await loadTopology(closFile);
  const t = loaded.topology;
  const routers = t.nodes.filter((x) => x.vendor === topo.Vendor.FRR).map((x) => x.name);
  const isRouter = new Set(routers);
  // One eBGP session per router-to-router link, seen from both ends.
  const expected = 2 * t.links.filter((l) => isRouter.has(l.aNode) && isRouter.has(l.zNode)).length;
  made.add(t.name);
  const started = performance.now();
  await topologies.createTopology({ topology: t, baseDir: loaded.baseDir ?? dirname(closFile), timeout: { seconds: 120n, nanos: 0 } }, { timeoutMs: 180_000 });
  const readyMs = performance.now() - started;
  const deadline = started + 120_000;
  let last = { peers: 0, established: 0 };
  for (;;) {
    last = await bgpSessions(t.name, routers).catch(() => last);
    if (last.peers === expected && last.established === expected) break;
    if (performance.now() > deadline) throw new Error(`frr-clos: ${last.established}/${expected} BGP sessions Established after 120 s (${last.peers} peers seen)`);
    await sleep(100);
  }
  const establishedMs = performance.now() - started;
  const deleteStarted = performance.now();
  await topologies.deleteTopology({ name: t.name }, { timeoutMs: 300_000 });
  const deleteMs = performance.now() - deleteStarted;
  made.delete(t.name);
  return { readyMs, establishedMs, sessions: expected, deleteMs };
}

// ---- the run ----------------------------------------------------------------------------------------

function median(values: readonly number[]): number {
  const v = [...values].sort((a, b) => a - b);
  const mid = Math.floor(v.length / 2);
  return v.length % 2 === 1 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2;
}

/** Each time's median over the rounds (of KNE and of Mininet apart). */
function medianRow(rounds: readonly Row[]): Row {
  const first = rounds[0]!;
  const kne = { createMs: median(rounds.map((r) => r.kne.createMs)), deleteMs: median(rounds.map((r) => r.kne.deleteMs)) };
  const measured = rounds.filter((r) => r.mininet.createMs !== undefined && r.mininet.deleteMs !== undefined);
  if (measured.length === 0) return { n: first.n, kne, mininet: first.mininet };
  const mininet = { createMs: median(measured.map((r) => r.mininet.createMs!)), deleteMs: median(measured.map((r) => r.mininet.deleteMs!)) };
  return { n: first.n, kne, mininet };
}

interface Row {
  n: number;
  kne: KneRun;
  mininet: MininetRun;
}

const rows: Row[] = [];
let clos: ClosRun | undefined;
const noMininet = flags["skip-mininet"] ? "--skip-mininet" : mininetUnavailable();
let failed = false;
try {
  console.log(`create benchmark: HOST rings of ${sizes.join(", ")}${flags["skip-clos"] ? "" : ", FRR CLOS"}; state dir ${stateDir}; load average ${loadavg().map((x) => x.toFixed(2)).join(" ")}; ${process.platform} ${process.arch}`);
  // One small ring first, not measured: the manager runs as a server, warm, when it serves
  // a create (Mininet's times likewise exclude its interpreter start and imports).
  await kneRing(3);
  for (const n of sizes) {
    // Rounds of KNE then Mininet; the table takes each one's median (this 2-core machine's
    // times vary by ±15% from run to run).
    const rounds: Row[] = [];
    for (let round = 1; round <= repeat; round++) {
      const kne = await kneRing(n);
      await sleep(settleMs); // the kernel finishes tearing namespaces down after `netns del` returns
      let mininet: MininetRun;
      if (noMininet) mininet = { skipped: noMininet };
      else {
        mininet = await mininetRing(n, 900_000);
        await sleep(settleMs);
      }
      rounds.push({ n, kne, mininet });
      console.log(`  N=${n} round ${round}: kne create ${s(kne.createMs)} s, delete ${s(kne.deleteMs)} s; mininet ${mininet.skipped ? `skipped (${mininet.skipped})` : `create ${s(mininet.createMs!)} s, delete ${s(mininet.deleteMs!)} s`}`);
    }
    rows.push(medianRow(rounds));
  }
  if (!flags["skip-clos"]) {
    clos = await closRun();
    console.log(`  frr-clos: ready ${s(clos.readyMs)} s, ${clos.sessions} sessions Established ${s(clos.establishedMs)} s, delete ${s(clos.deleteMs)} s`);
  }

  printRingComparison(`Ring of N HOST nodes, create → all nodes ready, and delete; median of ${repeat} round${repeat > 1 ? "s" : ""}`, rows);
  if (clos) {
    console.log(`\nFRR CLOS (examples/frr-clos, 6 routers, 4 hosts): create → all nodes ready ${s(clos.readyMs)} s;` +
      ` → all ${clos.sessions} BGP sessions Established ${s(clos.establishedMs)} s; delete ${s(clos.deleteMs)} s`);
  }

  console.log("\nTargets:");
  for (const n of targetSizes) {
    const r = rows.find((x) => x.n === n);
    if (!r || r.mininet.createMs === undefined) {
      console.log(`  N=${n} vs Mininet: not measured in this run`);
      continue;
    }
    const c = r.mininet.createMs / r.kne.createMs;
    const d = r.mininet.deleteMs! / r.kne.deleteMs;
    console.log(`  N=${n} create ${c.toFixed(1)}x Mininet (target ≥ ${targetRatio}x): ${c >= targetRatio ? "met" : "MISSED"}`);
    console.log(`  N=${n} delete ${d.toFixed(1)}x Mininet (target ≥ ${targetRatio}x): ${d >= targetRatio ? "met" : "MISSED"}`);
    if (c < targetRatio || d < targetRatio) failed = true;
  }
  if (clos) {
    const met = clos.establishedMs < closTargetMs;
    console.log(`  frr-clos all BGP Established ${s(clos.establishedMs)} s (target < ${closTargetMs / 1000} s): ${met ? "met" : "MISSED"}`);
    if (!met) failed = true;
  }
} catch (e) {
  console.error(`create benchmark failed: ${e instanceof Error ? e.message : String(e)}`);
  failed = true;
} finally {
  await cleanup();
}
process.exit(failed ? 1 : 0);
