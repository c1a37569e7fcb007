/**
 * Runtime benchmark: the same commands on several Node.js runtimes in one run, side by side.
 * For every runtime (`--node PATH`, repeatable) and every checkout (`--checkout DIR`,
 * repeatable, default this one: a checkout is a tree with its own node_modules, so the
 * runtime a release needed can be run with the dependencies it had):
 *   - `kne --help`, the whole process, median of --repeat runs;
 *   - `kne topology validate FILE`, whole process, median of --repeat runs, for the largest
 *     topology under examples/ and every `--file` given;
 *   - the create benchmark's ring (tools/bench/create, `--ring N` nodes, `--rounds` rounds,
 *     no Mininet, no CLOS; 0 skips it; root only): its median create and delete.
 * A runtime that cannot run a checkout's code shows its first error line instead of a time.
 *
 *   npm run bench:runtime -w @kne/bench -- --node /usr/bin/node --node "$(command -v node)"
 *       [--checkout DIR]... [--file TOPOLOGY]... [--repeat 5] [--ring 100] [--rounds 3]
 */
import { execFile } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { loadavg } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs, promisify } from "node:util";

const execFileAsync = promisify(execFile);
const here = dirname(fileURLToPath(import.meta.url));
const thisCheckout = resolve(here, "..", "..", "..");
// `npm run -w` starts scripts in the workspace's folder: paths on the command line are
// meant from where npm was called.
const callerDir = process.env["INIT_CWD"] ?? process.cwd();

const { values: flags } = parseArgs({
  options: {
    node: { type: "string", multiple: true, default: [process.execPath] },
    checkout: { type: "string", multiple: true, default: [thisCheckout] },
    file: { type: "string", multiple: true, default: [] },
    repeat: { type: "string", default: "5" },
    ring: { type: "string", default: "100" },
    rounds: { type: "string", default: "3" },
  },
});
const repeat = Number(flags.repeat);
const ring = Number(flags.ring);
const rounds = Number(flags.rounds);
if (!Number.isInteger(repeat) || repeat < 1 || !Number.isInteger(ring) || (ring !== 0 && ring < 3) || !Number.isInteger(rounds) || rounds < 1) {
  console.error("usage: run.ts [--node PATH]... [--checkout DIR]... [--file TOPOLOGY]... [--repeat 5] [--ring 100 | 0] [--rounds 3]");
  process.exit(2);
}
const runRing = ring > 0 && process.getuid?.() === 0;

interface Runtime {
  path: string;
  version: string;
}

interface Pair {
  runtime: Runtime;
  checkout: string;
}

/** The largest topology file under examples/ of this checkout: the one that costs the most to validate. */
function largestExample(): string {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.(pb\.txt|textproto|ya?ml|json)$/.test(e.name)) files.push(p);
    }
  };
  walk(join(thisCheckout, "examples"));
  return files.sort((a, b) => statSync(b).size - statSync(a).size)[0]!;
}

function median(values: readonly number[]): number {
  const v = [...values].sort((a, b) => a - b);
  const mid = Math.floor(v.length / 2);
  return v.length % 2 === 1 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2;
}

/** The first line of what a failed child said, so a table cell can show why. */
function firstErrorLine(e: unknown): string {
  const err = e as { stderr?: string; stdout?: string; message?: string };
  const text = `${err.stderr ?? ""}\n${err.stdout ?? ""}`;
  const lines = text.split("\n").map((l) => l.trim()).filter((l) => l !== "");
  const line = lines.find((l) => /Error|error:|failed:/.test(l)) ?? lines.at(-1) ?? err.message ?? String(e);
  return line.trim().slice(0, 100);
}

/** Runs `node args` `times` times; the median wall time in ms, or why it failed. */
async function timeProcess(pair: Pair, args: string[], times: number): Promise<number | string> {
  const ms: number[] = [];
  for (let i = 0; i < times; i++) {
    const start = performance.now();
    try {
      await execFileAsync(pair.runtime.path, args, { cwd: pair.checkout, timeout: 60_000, maxBuffer: 16 << 20 });
    } catch (e) {
      return firstErrorLine(e);
    }
    ms.push(performance.now() - start);
  }
  return median(ms);
}

/** The create benchmark's ring on `pair`: median create and delete seconds as it prints them. */
async function ringTimes(pair: Pair): Promise<{ create: string; delete: string } | string> {
  const tsx = join(pair.checkout, "node_modules", "tsx", "dist", "cli.mjs");
  const args = [tsx, "create/run.ts", "--sizes", String(ring), "--repeat", String(rounds), "--skip-mininet", "--skip-clos"];
  let stdout: string;
  try {
    ({ stdout } = await execFileAsync(pair.runtime.path, args, { cwd: join(pair.checkout, "tools", "bench"), timeout: 900_000, maxBuffer: 16 << 20 }));
  } catch (e) {
    const err = e as { stdout?: string };
    // The create benchmark exits 1 when a Mininet target is unmeasured; its table still stands.
    if (err.stdout === undefined || !err.stdout.includes(`| ${ring} |`)) return firstErrorLine(e);
    stdout = err.stdout;
  }
  const row = stdout.split("\n").find((l) => new RegExp(`^\\|\\s*${ring} \\|`).test(l));
  if (!row) return "no ring row in the create benchmark's output";
  const cells = row.split("|").map((c) => c.trim()).filter((c) => c !== "");
  return { create: cells[1]!, delete: cells[4]! };
}

const runtimes: Runtime[] = [];
for (const path of flags.node) {
  const { stdout } = await execFileAsync(path, ["--version"]);
  runtimes.push({ path, version: stdout.trim() });
}
const pairs: Pair[] = flags.checkout.flatMap((c) => runtimes.map((runtime) => ({ runtime, checkout: resolve(callerDir, c) })));
const files = [largestExample(), ...flags.file.map((f) => resolve(callerDir, f))];
const label = (p: Pair) => `node ${p.runtime.version}${flags.checkout.length > 1 ? `, ${p.checkout === thisCheckout ? "this checkout" : p.checkout}` : ""}`;
const fmt = (v: number | string) => (typeof v === "number" ? (v / 1000).toFixed(3) : v);

console.log(`runtime benchmark: ${pairs.map(label).join("; ")}; load average ${loadavg().map((x) => x.toFixed(2)).join(" ")}`);
const rows: string[][] = [];
const cli = (p: Pair) => join(p.checkout, "apps", "cli", "bin", "kne.mjs");
// Rounds alternate between runtimes, so that a load change on this shared machine falls on
// all of them rather than on whichever ran last.
const help = new Map<Pair, number[] | string>();
const validate = new Map<string, Map<Pair, number[] | string>>(files.map((f) => [f, new Map()]));
for (let i = 0; i < repeat; i++) {
  for (const p of pairs) {
    const h = help.get(p);
    if (typeof h !== "string") {
      const t = await timeProcess(p, [cli(p), "--help"], 1);
      help.set(p, typeof t === "string" ? t : [...(h ?? []), t]);
    }
    for (const f of files) {
      const m = validate.get(f)!;
      const v = m.get(p);
      if (typeof v === "string") continue;
      const t = await timeProcess(p, [cli(p), "topology", "validate", f], 1);
      m.set(p, typeof t === "string" ? t : [...(v ?? []), t]);
    }
  }
}
const med = (v: number[] | string | undefined) => (v === undefined ? "-" : typeof v === "string" ? v : fmt(median(v)));
rows.push(["`kne --help`, whole process, s", ...pairs.map((p) => med(help.get(p)))]);
for (const f of files) {
  const name = f.startsWith(thisCheckout) ? relative(thisCheckout, f) : f.split("/").slice(-2).join("/");
  rows.push([`\`kne topology validate\` ${name}, s`, ...pairs.map((p) => med(validate.get(f)!.get(p)))]);
}
if (runRing) {
  const create: string[] = [];
  const del: string[] = [];
  for (const p of pairs) {
    const r = await ringTimes(p);
    create.push(typeof r === "string" ? r : r.create);
    del.push(typeof r === "string" ? "-" : r.delete);
    console.log(`  ${label(p)}: ring ${ring} ${typeof r === "string" ? `failed: ${r}` : `create ${r.create} s, delete ${r.delete} s`}`);
  }
  rows.push([`create ring of ${ring}, s (median of ${rounds})`, ...create], [`delete ring of ${ring}, s`, ...del]);
}

const header = ["", ...pairs.map(label)];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
const line = (cells: string[]) => "| " + cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(" | ") + " |";
console.log(`\nmedians of ${repeat} runs each (whole processes, wall time):`);
console.log(line(header));
console.log("|" + widths.map((w) => "-".repeat(w + 2)).join("|") + "|");
for (const r of rows) console.log(line(r));
if (ring > 0 && !runRing) console.log(`ring of ${ring} skipped: the create benchmark needs root (network namespaces)`);
