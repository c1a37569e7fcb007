/**
 * Whole-process benchmark: what a user waits for when typing a `kne` command or starting an
 * app, every process started as users start it (`node apps/cli/bin/kne.mjs ...`, the built
 * output), timed from spawn to exit (or, for the apps, to their "server started" log line).
 *
 * In one run, against peers measured in the same run:
 * - bare `node -e 0`; `kne --help` and `kne version` (target: within 2.5x bare node);
 *   `kne version` without the compile cache, and the built main run directly (no cache, no
 *   source maps): what those two cost at start;
 * - `kne show` and `kne list` with a 200-node topology running (target: within 4x bare node);
 * - `kne create` and `kne delete` of HOST rings of --sizes nodes, each a whole process, against
 *   Mininet's same ring (timed inside Python: its interpreter start is not counted against it)
 *   (target: Mininet time / kne time >= 5 for create and for delete at every size);
 * - the FRR CLOS (examples/frr-clos): whole-process `kne create` → all 16 BGP sessions
 *   Established (polled with `vtysh -c "show bgp summary json"` once create has exited);
 * - each app's start to listening.
 * Times are medians of --runs runs (default 5), commands interleaved round by round so that
 * the machine's load falls on all of them alike; the load average is printed before and after.
 *
 * Run as root, after `npm run build`:
 *   npm run bench:cli -w @kne/bench -- [--sizes 100,200,500,1000] [--runs 5] [--skip-clos]
 *                                      [--skip-mininet] [--skip-rings]
 * Everything made is deleted in `finally` and the state dir removed. Exits 1 when a target is
 * missed.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { createClient } from "@connectrpc/connect";
import { createEmbeddedManager } from "@kne/manager";
import { managerv1 } from "@kne/proto";
import { createLogger } from "@kne/telemetry";
import { mininetRing, mininetUnavailable, stopMininet, type MininetRun } from "../mininet";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
const kneBin = join(root, "apps", "cli", "bin", "kne.mjs");
const kneMain = join(root, "apps", "cli", "dist", "main.mjs");
const closFile = join(root, "examples", "frr-clos", "topology.pb.txt");
const apps = ["topology-manager", "topology-agent", "config-bootstrapper", "service-exposer"];

const { values: flags } = parseArgs({
  options: {
    sizes: { type: "string", default: "100,200,500,1000" },
    runs: { type: "string", default: "5" },
    "skip-clos": { type: "boolean", default: false },
    "skip-mininet": { type: "boolean", default: false },
    "skip-rings": { type: "boolean", default: false },
  },
});
const sizes = flags["skip-rings"] ? [] : flags.sizes.split(",").map((x) => Number(x.trim()));
const runs = Number(flags.runs);
if (sizes.some((n) => !Number.isInteger(n) || n < 3 || n > 10_000) || !Number.isInteger(runs) || runs < 1) {
  console.error("usage: run.ts [--sizes 100,200,500,1000] [--runs 5] [--skip-clos] [--skip-mininet] [--skip-rings]");
  process.exit(2);
}
if (process.getuid?.() !== 0) {
  console.error("the cli benchmark needs root (it creates topologies)");
  process.exit(2);
}
for (const app of ["cli", ...apps]) {
  if (!existsSync(join(root, "apps", app, "dist", "main.mjs"))) {
    console.error(`apps/${app} is not built: run 'npm run build' first`);
    process.exit(2);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const secs = (ms: number) => (ms / 1000).toFixed(3);
const load = () => loadavg().map((x) => x.toFixed(2)).join(" ");

// Never the default /var/lib/kne: the benchmark must not meet a user's topologies or lock.
const stateDir = mkdtempSync(join(tmpdir(), "kne-bench-cli-"));
const env = { ...process.env, KNE_STATE_DIR: stateDir, KNE_SERVER: "" };
/** Topologies that may exist: deleted in `cleanup` whatever happened. */
const made = new Set<string>();

interface Finished {
  ms: number;
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs one process to its end; the time is spawn to exit. */
function timed(argv: readonly string[], extraEnv: Record<string, string> = {}): Promise<Finished> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(argv[0]!, argv.slice(1), { cwd: stateDir, env: { ...env, ...extraEnv }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (c: string) => (stdout += c));
    child.stderr.setEncoding("utf8").on("data", (c: string) => (stderr += c));
    child.once("error", reject);
    child.once("close", (code) => resolve({ ms: performance.now() - started, code, stdout, stderr }));
  });
}

/** A `kne` command that must succeed. */
async function kne(args: readonly string[], extraEnv: Record<string, string> = {}): Promise<number> {
  const r = await timed([process.execPath, kneBin, ...args], extraEnv);
  if (r.code !== 0) throw new Error(`kne ${args.join(" ")} exited ${r.code}: ${r.stderr.trim().split("\n").slice(-3).join(" / ")}`);
  return r.ms;
}

/** Spawn to the app's "server started" log line; the app is then stopped (SIGTERM) and awaited. */
function appStart(app: string): Promise<number> {
  const bin = join(root, "apps", app, "bin", `${app}.mjs`);
  const args = ["--port", "0", "--host", "127.0.0.1", "--log-level", "info"];
  if (app === "topology-manager" || app === "topology-agent") args.push("--state-dir", join(stateDir, `app-${app}`));
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, [bin, ...args], { cwd: stateDir, env, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    let listeningMs: number | undefined;
    child.stdout.setEncoding("utf8").on("data", (c: string) => {
      out += c;
      if (listeningMs === undefined && out.includes('"msg":"server started"')) {
        listeningMs = performance.now() - started;
        child.kill("SIGTERM");
      }
    });
    child.stderr.setEncoding("utf8").on("data", (c: string) => (err += c));
    const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    child.once("error", reject);
    child.once("close", (code) => {
      clearTimeout(timer);
      if (listeningMs !== undefined) resolve(listeningMs);
      else reject(new Error(`${app} did not start listening (exit ${code}): ${(err || out).trim().split("\n").slice(-3).join(" / ")}`));
    });
  });
}

function median(values: readonly number[]): number {
  const v = [...values].sort((a, b) => a - b);
  const mid = Math.floor(v.length / 2);
  return v.length % 2 === 1 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2;
}

/** Runs each named measurement once per round, interleaved, `runs` rounds; medians by name. */
async function interleaved(measurements: Record<string, () => Promise<number>>): Promise<Record<string, number>> {
  const samples: Record<string, number[]> = Object.fromEntries(Object.keys(measurements).map((k) => [k, []]));
  for (let round = 0; round < runs; round++) {
    for (const [name, measure] of Object.entries(measurements)) samples[name]!.push(await measure());
  }
  return Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, median(v)]));
}

// ---- the topologies ------------------------------------------------------------------------------

async function generateRing(n: number): Promise<string> {
  const file = join(stateDir, `ring-${n}.pb.txt`);
  await kne(["topology", "generate", "ring", String(n), "--name", `bench-ring-${n}`, "-O", file]);
  return file;
}

/** Named namespaces of a topology (the local backend names them `kne.TOPO.NODE`). */
async function namespacesOf(topology: string): Promise<number> {
  const r = await timed(["ip", "netns", "list"]);
  return r.stdout.split("\n").filter((l) => l.startsWith(`kne.${topology}.`)).length;
}

interface RingRun {
  createMs: number;
  deleteMs: number;
}

async function ringRun(n: number, file: string): Promise<RingRun> {
  const name = `bench-ring-${n}`;
  made.add(name);
  // create waits until every node is ready; -o json: the result only, as a script would run it.
  const createMs = await kne(["create", file, "-o", "json"]);
  const namespaces = await namespacesOf(name);
  if (namespaces !== n) throw new Error(`${name}: ${namespaces} namespaces exist after create, not ${n}`);
  const deleteMs = await kne(["delete", name, "-o", "json"]);
  made.delete(name);
  const left = await namespacesOf(name);
  if (left !== 0) throw new Error(`${name}: ${left} namespaces left after delete`);
  return { createMs, deleteMs };
}

interface BgpSummary {
  ipv4Unicast?: { peers?: Record<string, { state?: string }> };
}

/** Whole-process create of the FRR CLOS, then polls until its 16 sessions are Established. */
async function closRun(): Promise<{ establishedMs: number; deleteMs: number; sessions: number }> {
  const routers = ["spine1", "spine2", "leaf1", "leaf2", "leaf3", "leaf4"];
  const expected = 16;
  made.add("frr-clos");
  const started = performance.now();
  await kne(["create", closFile, "-o", "json"]);
  // Polled through an in-process manager on the same state dir (create has exited), so that
  // the poll costs milliseconds rather than a process start per router.
  const manager = createEmbeddedManager({ stateDir, logger: createLogger({ name: "bench-cli", level: "silent" }) });
  const nodes = createClient(managerv1.NodeService, manager.transport);
  let established = 0;
  try {
    for (;;) {
      established = 0;
      let peers = 0;
      await Promise.all(
        routers.map(async (node) => {
          const r = await nodes.execCommand({ topology: "frr-clos", node, command: ["vtysh", "-c", "show bgp summary json"], timeoutMs: 10_000 });
          if (r.exitCode !== 0) return;
          const summary = JSON.parse(new TextDecoder().decode(r.stdout) || "{}") as BgpSummary;
          for (const p of Object.values(summary.ipv4Unicast?.peers ?? {})) {
            peers++;
            if (p.state === "Established") established++;
          }
        }),
      );
      if (peers === expected && established === expected) break;
      if (performance.now() - started > 120_000) throw new Error(`frr-clos: ${established}/${expected} BGP sessions Established after 120 s`);
      await sleep(50);
    }
  } finally {
    await manager.close();
  }
  const establishedMs = performance.now() - started;
  const deleteMs = await kne(["delete", "frr-clos", "-o", "json"]);
  made.delete("frr-clos");
  return { establishedMs, deleteMs, sessions: established };
}

// ---- the run -------------------------------------------------------------------------------------

let cleaned: Promise<void> | undefined;
function cleanup(): Promise<void> {
  cleaned ??= (async () => {
    stopMininet();
    for (const name of made) {
      const r = await timed([process.execPath, kneBin, "delete", name]).catch((e: unknown) => ({ code: -1, stderr: String(e) }));
      if (r.code !== 0) console.error(`cleanup: deleting ${name} failed: ${r.stderr.trim()}`);
    }
    rmSync(stateDir, { recursive: true, force: true });
  })();
  return cleaned;
}
process.once("SIGINT", () => void cleanup().finally(() => process.exit(130)));
process.once("SIGTERM", () => void cleanup().finally(() => process.exit(143)));

type Line = [what: string, value: string, peer: string, ratio: string, target: string, met: boolean | undefined];
const lines: Line[] = [];
function compare(what: string, oursMs: number, peerName: string, peerMs: number, target: string, met: boolean): void {
  lines.push([what, `${secs(oursMs)} s`, `${peerName} ${secs(peerMs)} s`, `${(oursMs / peerMs).toFixed(2)}x`, target, met]);
}

let failed = false;
try {
  const loadBefore = load();
  console.log(`cli benchmark: ${process.version}, ${cpus().length} CPUs, ${runs} runs each, load average ${loadBefore}; state dir ${stateDir}`);
  // Unmeasured: fills the compile cache, as any earlier use of kne has.
  await kne(["--help"]);
  await kne(["version"]);

  const bare = () => timed([process.execPath, "-e", "0"]).then((r) => r.ms);
  const start = await interleaved({
    bare,
    help: () => kne(["--help"]),
    version: () => kne(["version"]),
    versionNoCache: () => kne(["version"], { NODE_DISABLE_COMPILE_CACHE: "1" }),
    mainDirect: () => timed([process.execPath, kneMain, "version"]).then((r) => r.ms),
  });
  console.log(`  start: bare node ${secs(start.bare!)} s, --help ${secs(start.help!)} s, version ${secs(start.version!)} s`);
  compare("kne --help", start.help!, "node -e 0", start.bare!, "<= 2.5x", start.help! <= 2.5 * start.bare!);
  compare("kne version", start.version!, "node -e 0", start.bare!, "<= 2.5x", start.version! <= 2.5 * start.bare!);
  lines.push(["kne version, compile cache off", `${secs(start.versionNoCache!)} s`, `with it ${secs(start.version!)} s`, `${(start.versionNoCache! / start.version!).toFixed(2)}x`, "", undefined]);
  lines.push(["dist/main.mjs version (no cache, no source maps)", `${secs(start.mainDirect!)} s`, `bin ${secs(start.version!)} s`, `${(start.mainDirect! / start.version!).toFixed(2)}x`, "", undefined]);

  // show and list with a 200-node topology running.
  const file200 = await generateRing(200);
  made.add("bench-ring-200");
  await kne(["create", file200, "-o", "json"]);
  const views = await interleaved({ bare, show: () => kne(["show", "bench-ring-200"]), list: () => kne(["list"]) });
  await kne(["delete", "bench-ring-200", "-o", "json"]);
  made.delete("bench-ring-200");
  console.log(`  views: bare node ${secs(views.bare!)} s, show ${secs(views.show!)} s, list ${secs(views.list!)} s`);
  compare("kne show (200 nodes)", views.show!, "node -e 0", views.bare!, "<= 4x", views.show! <= 4 * views.bare!);
  compare("kne list (200 nodes)", views.list!, "node -e 0", views.bare!, "<= 4x", views.list! <= 4 * views.bare!);

  const appTimes = await interleaved(Object.fromEntries(apps.map((app) => [app, () => appStart(app)])));
  for (const app of apps) lines.push([`${app}: start → listening`, `${secs(appTimes[app]!)} s`, "", "", "", undefined]);

  const noMininet = flags["skip-mininet"] ? "--skip-mininet" : mininetUnavailable();
  for (const n of sizes) {
    const file = await generateRing(n);
    const kneRuns: RingRun[] = [];
    const peerRuns: MininetRun[] = [];
    for (let round = 1; round <= runs; round++) {
      const ours = await ringRun(n, file);
      kneRuns.push(ours);
      await sleep(2000); // the kernel finishes tearing namespaces down after `netns del` returns
      const peer: MininetRun = noMininet ? { skipped: noMininet } : await mininetRing(n, 900_000);
      if (!noMininet) await sleep(2000);
      peerRuns.push(peer);
      const mn = peer.skipped ? `skipped (${peer.skipped})` : `create ${secs(peer.createMs!)} s, delete ${secs(peer.deleteMs!)} s`;
      console.log(`  ring ${n} round ${round}: kne create ${secs(ours.createMs)} s, delete ${secs(ours.deleteMs)} s; mininet ${mn}`);
    }
    const createMs = median(kneRuns.map((r) => r.createMs));
    const deleteMs = median(kneRuns.map((r) => r.deleteMs));
    const measured = peerRuns.filter((r) => r.createMs !== undefined && r.deleteMs !== undefined);
    if (measured.length === 0) {
      lines.push([`kne create, ${n}-node ring`, `${secs(createMs)} s`, "mininet not run", "", ">= 5x", undefined]);
      lines.push([`kne delete, ${n}-node ring`, `${secs(deleteMs)} s`, "mininet not run", "", ">= 5x", undefined]);
      continue;
    }
    const peerCreate = median(measured.map((r) => r.createMs!));
    const peerDelete = median(measured.map((r) => r.deleteMs!));
    // For rings the ratio is Mininet / kne (how many times faster kne is).
    lines.push([`kne create, ${n}-node ring`, `${secs(createMs)} s`, `mininet ${secs(peerCreate)} s`, `${(peerCreate / createMs).toFixed(1)}x faster`, ">= 5x", peerCreate / createMs >= 5]);
    lines.push([`kne delete, ${n}-node ring`, `${secs(deleteMs)} s`, `mininet ${secs(peerDelete)} s`, `${(peerDelete / deleteMs).toFixed(1)}x faster`, ">= 5x", peerDelete / deleteMs >= 5]);
  }

  if (!flags["skip-clos"]) {
    const closRuns = [];
    for (let round = 1; round <= runs; round++) {
      const r = await closRun();
      closRuns.push(r);
      console.log(`  frr-clos round ${round}: create → ${r.sessions} sessions Established ${secs(r.establishedMs)} s, delete ${secs(r.deleteMs)} s`);
      await sleep(1000);
    }
    lines.push(["frr-clos: kne create → 16 BGP sessions Established", `${secs(median(closRuns.map((r) => r.establishedMs)))} s`, "", "", "", undefined]);
    lines.push(["frr-clos: kne delete", `${secs(median(closRuns.map((r) => r.deleteMs)))} s`, "", "", "", undefined]);
  }

  const header: Line = ["whole process (median)", "time", "peer (same run)", "ratio", "target", undefined];
  const cells = [header, ...lines].map((l) => [l[0], l[1], l[2], l[3], l[4], l[5] === undefined ? "" : l[5] ? "met" : "MISSED"]);
  const widths = cells[0]!.map((_, i) => Math.max(...cells.map((row) => row[i]!.length)));
  const fmt = (row: string[]) => "| " + row.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(" | ") + " |";
  console.log(`\nWhole-process times, median of ${runs}; load average before ${loadBefore}, after ${load()} (${cpus().length} CPUs):`);
  console.log(fmt(cells[0]!));
  console.log("|" + widths.map((w) => "-".repeat(w + 2)).join("|") + "|");
  for (const row of cells.slice(1)) console.log(fmt(row));
  failed = lines.some((l) => l[5] === false);
  if (failed) console.log("\nSome targets were missed (MISSED above).");
} catch (err) {
  console.error(`cli benchmark failed: ${err instanceof Error ? err.message : String(err)}`);
  failed = true;
} finally {
  await cleanup();
}
process.exit(failed ? 1 : 0);
