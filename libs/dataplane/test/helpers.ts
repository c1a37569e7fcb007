/**
 * Integration-test support: unique topology ids, fixture namespaces (test "hosts" and
 * "pods"), cleanup after each test and a process-exit safety net, and small wrappers for
 * addressing and ping. Every fixture name starts with `ktest-` so a stray one is easy to spot.
 */
import { execFile, spawnSync } from "node:child_process";
import { promisify } from "node:util";
import { afterAll, afterEach } from "vitest";
import { deleteTopology, execInNamespace, HOST_NETNS, listNetns } from "../src/index.ts";

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
if (reason) console.warn(`skipping dataplane integration tests: ${reason}`);
export const canRun = reason === undefined;

let counter = 0;
const topologies = new Set<string>();
const fixtureNetns = new Set<string>();
const hostDevices = new Set<string>();

/** A topology id no other test uses: `it-<tag>-<pid>-<n>`. */
export function uniqueTopology(tag: string): string {
  const id = `it-${tag}-${process.pid.toString(36)}-${(counter++).toString(36)}`;
  topologies.add(id);
  return id;
}

/** A fixture namespace (not one of ours: a test host or pod), removed after the test. */
export async function fixtureNamespace(name: string): Promise<string> {
  const full = `ktest-${name}`;
  fixtureNetns.add(full);
  await sh(HOST_NETNS, ["netns", "add", full]);
  await sh(full, ["link", "set", "dev", "lo", "up"]);
  return full;
}

/** Remember a device in the host namespace to remove even if the code under test does not. */
export function trackHostDevice(ifname: string): void {
  hostDevices.add(ifname);
}

/** `ip [-n NS] args...`, throwing with stderr on failure. */
export async function sh(netns: string, args: string[]): Promise<string> {
  const full = netns === HOST_NETNS ? args : ["-n", netns, ...args];
  try {
    const { stdout } = await execFileP("ip", full);
    return stdout;
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new Error(`ip ${full.join(" ")}: ${err.stderr ?? err.message}`);
  }
}

export async function addAddress(netns: string, ifname: string, cidr: string): Promise<void> {
  await sh(netns, ["addr", "add", cidr, "dev", ifname]);
}

export interface PingResult {
  transmitted: number;
  received: number;
  lossPercent: number;
  avgRttMs?: number;
  output: string;
}

export async function ping(netns: string, address: string, args: string[] = ["-c", "3", "-i", "0.2", "-W", "1"]): Promise<PingResult> {
  const r = await execInNamespace(netns, "ping", [...args, address], { timeoutMs: 60_000 });
  const m = /(\d+) packets transmitted, (\d+) received/.exec(r.stdout);
  const rtt = /= [\d.]+\/([\d.]+)\//.exec(r.stdout);
  const transmitted = Number(m?.[1] ?? 0);
  const received = Number(m?.[2] ?? 0);
  return {
    transmitted,
    received,
    lossPercent: transmitted ? (100 * (transmitted - received)) / transmitted : 100,
    avgRttMs: rtt ? Number(rtt[1]) : undefined,
    output: r.stdout + r.stderr,
  };
}

/** Removes everything the tests made; safe to call repeatedly. */
export async function cleanupAll(): Promise<void> {
  for (const t of topologies) await deleteTopology(t);
  topologies.clear();
  const existing = new Set(await listNetns());
  for (const n of fixtureNetns) if (existing.has(n)) await sh(HOST_NETNS, ["netns", "del", n]).catch(() => undefined);
  fixtureNetns.clear();
  for (const d of hostDevices) await sh(HOST_NETNS, ["link", "del", "dev", d]).catch(() => undefined);
  hostDevices.clear();
}

/** Last resort when the worker exits without running hooks: synchronous, best effort. */
function cleanupSync(): void {
  const names = spawnSync("ip", ["netns", "list"], { encoding: "utf8" }).stdout ?? "";
  const ours = names
    .split("\n")
    .map((l) => l.split(" ")[0]!)
    .filter((n) => n && ([...topologies].some((t) => n.startsWith(`kne.${t}.`)) || fixtureNetns.has(n)));
  if (ours.length > 0) spawnSync("ip", ["-force", "-batch", "-"], { input: ours.map((n) => `netns del ${n}\n`).join("") });
  for (const d of hostDevices) spawnSync("ip", ["link", "del", "dev", d]);
}

/** Registers cleanup after each test, after the file, and at process exit. */
export function useCleanup(): void {
  afterEach(cleanupAll);
  afterAll(cleanupAll);
}

process.once("exit", cleanupSync);
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    cleanupSync();
    process.exit(130);
  });
}
