/**
 * Integration-test support for the agent: unique topology ids, fixture namespaces (test
 * "hosts", underlay, external networks; every name starts with `ktest-ag`), agent processes
 * (killed by pid, only the ones started here), and cleanup after each file and at exit.
 */
import { type ChildProcess, execFile, spawn, spawnSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { deleteTopology, execInNamespace, listNetns } from "@kne/dataplane";

const execFileP = promisify(execFile);

/** Why the integration tests cannot run here, or undefined when they can. */
export function missingCapability(): string | undefined {
  if (process.platform !== "linux") return "integration tests need Linux";
  if (process.getuid?.() !== 0) return "integration tests need root (network namespaces, veth, tc, nft)";
  for (const tool of ["ip", "tc", "nft", "nsenter", "ping"]) {
    const r = spawnSync("sh", ["-c", 'command -v "$1"', "sh", tool]);
    if (r.status !== 0) return `integration tests need ${tool}`;
  }
  return undefined;
}

const reason = missingCapability();
if (reason) console.warn(`skipping agent integration tests: ${reason}`);
export const canRun = reason === undefined;

export const agentBin = fileURLToPath(new URL("../../../apps/topology-agent/bin/topology-agent.mjs", import.meta.url));

let counter = 0;
const tag36 = process.pid.toString(36);
const topologies = new Set<string>();
const fixtureNetns = new Set<string>();
const processes = new Map<number, ChildProcess>();
const tempDirs = new Set<string>();

/** A topology id no other test uses: `ag-<tag>-<pid>-<n>`. */
export function uniqueTopology(tag: string): string {
  const id = `ag-${tag}-${tag36}-${(counter++).toString(36)}`;
  topologies.add(id);
  return id;
}

/** A short unique suffix for fixture names (interface names have 15 bytes). */
export const fixtureTag = (process.pid % 100000).toString(36);

export async function tempStateDir(tag: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `kne-agent-${tag}-`));
  tempDirs.add(dir);
  return dir;
}

/** `ip [-n NS] args...`, throwing with stderr on failure. */
export async function ip(netns: string, args: string[]): Promise<string> {
  const full = netns === "" ? args : ["-n", netns, ...args];
  try {
    const { stdout } = await execFileP("ip", full);
    return stdout;
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new Error(`ip ${full.join(" ")}: ${err.stderr ?? err.message}`);
  }
}

/** A fixture namespace (a test host, underlay or external network), removed at cleanup. */
export async function fixtureNamespace(name: string): Promise<string> {
  const full = `ktest-ag-${name}`;
  fixtureNetns.add(full);
  await ip("", ["netns", "add", full]);
  await ip(full, ["link", "set", "dev", "lo", "up"]);
  return full;
}

export interface PingResult {
  transmitted: number;
  received: number;
  lossPercent: number;
  output: string;
}

export async function ping(netns: string, address: string, args: string[] = ["-c", "3", "-i", "0.2", "-W", "1"]): Promise<PingResult> {
  const r = await execInNamespace(netns, "ping", [...args, address], { timeoutMs: 60_000 });
  const m = /(\d+) packets transmitted, (\d+) received/.exec(r.stdout);
  const transmitted = Number(m?.[1] ?? 0);
  const received = Number(m?.[2] ?? 0);
  return { transmitted, received, lossPercent: transmitted ? (100 * (transmitted - received)) / transmitted : 100, output: r.stdout + r.stderr };
}

/** Interfaces of a namespace: name → alias (empty when none), from `ip -j -d link`. */
export async function interfacesOf(netns: string): Promise<Map<string, { alias: string; up: boolean; carrier: boolean; kind?: string }>> {
  const out = JSON.parse(await ip(netns, ["-json", "-details", "link", "show"])) as Array<{
    ifname: string;
    ifalias?: string;
    flags: string[];
    linkinfo?: { info_kind?: string };
  }>;
  return new Map(out.map((i) => [i.ifname, { alias: i.ifalias ?? "", up: i.flags.includes("UP"), carrier: i.flags.includes("LOWER_UP"), kind: i.linkinfo?.info_kind }]));
}

/** Named namespaces of a topology (`kne.<topology>.*`). */
export async function topologyNamespaces(topology: string): Promise<string[]> {
  return (await listNetns()).filter((n) => n.startsWith(`kne.${topology}.`)).sort();
}

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000, intervalMs = 50): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ""}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export interface AgentProcess {
  pid: number;
  /** Every log line so far (JSON objects). */
  lines: Record<string, unknown>[];
  /** The URL from the "server started" line. */
  url: string;
  exited: Promise<number | null>;
  /** Resolves with the first log line matching, waiting for it. */
  waitForLine(match: (line: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  kill(signal: NodeJS.Signals): Promise<number | null>;
}

/**
 * Starts `topology-agent` (optionally inside a namespace with `nsenter --net`, which keeps
 * the mount namespace: namespaces it adds under /run/netns are visible to everyone, as on a
 * real host; `ip netns exec` would make them private to the agent and lose them with it).
 */
export function startAgentProcess(args: string[], options: { netns?: string; timeoutMs?: number } = {}): Promise<AgentProcess> {
  const argv = [...(options.netns ? ["nsenter", `--net=/run/netns/${options.netns}`, "--"] : []), process.execPath, agentBin, ...args];
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ["ignore", "pipe", "pipe"] });
  processes.set(child.pid!, child);
  const lines: Record<string, unknown>[] = [];
  const waiters: Array<{ match: (l: Record<string, unknown>) => boolean; resolve: (l: Record<string, unknown>) => void }> = [];
  let stderr = "";
  child.stderr!.setEncoding("utf8").on("data", (c: string) => (stderr += c));
  const exited = new Promise<number | null>((resolve) =>
    child.once("exit", (code, signal) => {
      processes.delete(child.pid!);
      resolve(code ?? (signal ? -1 : null));
    }),
  );
  createInterface({ input: child.stdout! }).on("line", (text) => {
    let line: Record<string, unknown>;
    try {
      line = JSON.parse(text) as Record<string, unknown>;
    } catch {
      line = { msg: text };
    }
    lines.push(line);
    for (const w of [...waiters]) {
      if (w.match(line)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(line);
      }
    }
  });
  const waitForLine = (match: (l: Record<string, unknown>) => boolean, timeoutMs = 60_000): Promise<Record<string, unknown>> => {
    const found = lines.find(match);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`agent ${child.pid} did not log the expected line within ${timeoutMs} ms; stderr: ${stderr}`)), timeoutMs);
      waiters.push({
        match,
        resolve: (l) => {
          clearTimeout(timer);
          resolve(l);
        },
      });
    });
  };
  const kill = async (signal: NodeJS.Signals): Promise<number | null> => {
    if (child.exitCode === null && child.signalCode === null) process.kill(child.pid!, signal);
    return exited;
  };
  return Promise.race([
    waitForLine((l) => l["msg"] === "server started", options.timeoutMs ?? 30_000).then((l) => ({
      pid: child.pid!,
      lines,
      url: String(l["url"]),
      exited,
      waitForLine,
      kill,
    })),
    exited.then((code) => {
      throw new Error(`agent exited with ${code} before it started; stderr: ${stderr}`);
    }),
  ]);
}

/** Removes everything the tests made; safe to call repeatedly. */
export async function cleanupAll(): Promise<void> {
  for (const [pid, child] of processes) {
    if (child.exitCode === null && child.signalCode === null) {
      process.kill(pid, "SIGKILL");
      await new Promise((r) => child.once("exit", r));
    }
  }
  processes.clear();
  for (const t of topologies) await deleteTopology(t).catch(() => undefined);
  topologies.clear();
  const existing = new Set(await listNetns());
  for (const n of fixtureNetns) if (existing.has(n)) await ip("", ["netns", "del", n]).catch(() => undefined);
  fixtureNetns.clear();
  for (const d of tempDirs) await rm(d, { recursive: true, force: true });
  tempDirs.clear();
}

/** Last resort when the worker exits without running hooks: synchronous, best effort. */
function cleanupSync(): void {
  for (const pid of processes.keys()) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  const names = spawnSync("ip", ["netns", "list"], { encoding: "utf8" }).stdout ?? "";
  const ours = names
    .split("\n")
    .map((l) => l.split(" ")[0]!)
    .filter((n) => n && ([...topologies].some((t) => n.startsWith(`kne.${t}.`)) || fixtureNetns.has(n)));
  if (ours.length > 0) spawnSync("ip", ["-force", "-batch", "-"], { input: ours.map((n) => `netns del ${n}\n`).join("") });
}

process.once("exit", cleanupSync);
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    cleanupSync();
    process.exit(130);
  });
}
