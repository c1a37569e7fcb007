/**
 * Mininet as the benchmarks' peer: the same N-node ring of hosts and links (no switches, no
 * controller), built and stopped by Mininet's own Python API through `wiring/mininet_ring.py`,
 * timed inside Python so interpreter start-up is not counted against it.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const mininetScript = join(dirname(fileURLToPath(import.meta.url)), "wiring", "mininet_ring.py");
// Debian's Python modules (mininet) load under the system interpreter, not the first python3 on PATH.
const debianPython = "/usr/bin/python3";

export interface MininetRun {
  createMs?: number;
  deleteMs?: number;
  /** Why there is no measurement. */
  skipped?: string;
}

let running: ChildProcess | undefined;

/** Builds and stops an N-host ring with Mininet; a run over `timeoutMs` is stopped and skipped. */
export function mininetRing(n: number, timeoutMs: number): Promise<MininetRun> {
  return new Promise((resolve) => {
    // Own process group: on a timeout the whole Mininet tree (its host shells) goes.
    const child = spawn(debianPython, [mininetScript, String(n)], { stdio: ["ignore", "pipe", "pipe"], detached: true });
    running = child;
    let out = "";
    let err = "";
    child.stdout!.setEncoding("utf8").on("data", (c: string) => (out += c));
    child.stderr!.setEncoding("utf8").on("data", (c: string) => (err += c));
    const timer = setTimeout(() => {
      stopMininet();
      resolve({ skipped: `Mininet did not finish N=${n} within ${(timeoutMs / 1000).toFixed(0)} s (stopped, cleaned with mn -c)` });
    }, timeoutMs);
    child.once("exit", (code) => {
      clearTimeout(timer);
      running = undefined;
      const line = out.trim().split("\n").pop() ?? "";
      try {
        const r = JSON.parse(line) as { create_s: number; delete_s: number; links: number };
        if (r.links !== n) throw new Error(`Mininet built ${r.links} links, not ${n}`);
        resolve({ createMs: r.create_s * 1000, deleteMs: r.delete_s * 1000 });
      } catch (e) {
        resolve({ skipped: `Mininet failed for N=${n} (exit ${code}): ${(e as Error).message}; ${err.trim().split("\n").slice(-3).join(" / ")}` });
      }
    });
  });
}

/** Why Mininet cannot run here, or undefined when it can. */
export function mininetUnavailable(): string | undefined {
  const r = spawnSync(debianPython, ["-c", "import mininet.net"], { encoding: "utf8" });
  return r.status === 0 ? undefined : `Mininet's Python module does not load under ${debianPython} (install the Debian package mininet)`;
}

/** Stops a Mininet run this process started, if one is still going, and cleans up after it. */
export function stopMininet(): void {
  const child = running;
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  process.kill(-child.pid!, "SIGKILL");
  running = undefined;
  // Mininet left half-built: its own cleanup removes its hosts and links.
  spawnSync("mn", ["-c"], { stdio: "ignore" });
}

/** One ring size measured both ways. */
export interface RingComparison {
  n: number;
  kne: { createMs: number; deleteMs: number };
  mininet: MininetRun;
}

/** Prints the side-by-side table (ratio = Mininet time / KNE time) and why any Mininet run is missing. */
export function printRingComparison(title: string, rows: readonly RingComparison[]): void {
  const s = (ms: number) => (ms / 1000).toFixed(2);
  const ratio = (peer: number | undefined, ours: number) => (peer === undefined ? "-" : `${(peer / ours).toFixed(1)}x`);
  const header = ["N", "kne create s", "mininet create s", "ratio", "kne delete s", "mininet delete s", "ratio"];
  const table = rows.map((r) => [
    String(r.n),
    s(r.kne.createMs),
    r.mininet.createMs === undefined ? "skipped" : s(r.mininet.createMs),
    ratio(r.mininet.createMs, r.kne.createMs),
    s(r.kne.deleteMs),
    r.mininet.deleteMs === undefined ? "skipped" : s(r.mininet.deleteMs),
    ratio(r.mininet.deleteMs, r.kne.deleteMs),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => row[i]!.length)));
  const fmt = (cells: string[]) => "| " + cells.map((c, i) => c.padStart(widths[i]!)).join(" | ") + " |";
  console.log(`\n${title} (ratio = Mininet time / KNE time):`);
  console.log(fmt(header));
  console.log("|" + widths.map((w) => "-".repeat(w + 2)).join("|") + "|");
  for (const row of table) console.log(fmt(row));
  for (const r of rows) if (r.mininet.skipped) console.log(`  N=${r.n}: ${r.mininet.skipped}`);
}
