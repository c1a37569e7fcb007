/**
 * Integration test support: an embedded manager on a temporary state dir, commands inside
 * nodes, polling, and the check that nothing of a topology is left behind.
 */
import { execFileSync } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { createClient } from "@connectrpc/connect";
import { managerv1 } from "@kne/proto";
import { createLogger } from "@kne/telemetry";
import { loadTopology } from "@kne/topology";
import { createEmbeddedManager, type EmbeddedManager } from "../src/index.ts";

export const workspaceRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
export const examples = join(workspaceRoot, "examples");

export interface Harness {
  stateDir: string;
  manager: EmbeddedManager;
  topology: ReturnType<typeof createClient<typeof managerv1.TopologyService>>;
  link: ReturnType<typeof createClient<typeof managerv1.LinkService>>;
  node: ReturnType<typeof createClient<typeof managerv1.NodeService>>;
  close(): Promise<void>;
}

export async function startHarness(): Promise<Harness> {
  const stateDir = await mkdtemp(join(tmpdir(), "kne-mgr-"));
  const manager = createEmbeddedManager({ stateDir, logger: createLogger({ name: "test", level: process.env["KNE_TEST_LOG"] ?? "silent" }) });
  return {
    stateDir,
    manager,
    topology: createClient(managerv1.TopologyService, manager.transport),
    link: createClient(managerv1.LinkService, manager.transport),
    node: createClient(managerv1.NodeService, manager.transport),
    async close() {
      await manager.close();
      await rm(stateDir, { recursive: true, force: true });
    },
  };
}

export async function exampleRequest(file: string): Promise<{ topology: Awaited<ReturnType<typeof loadTopology>>["topology"]; baseDir: string }> {
  const loaded = await loadTopology(join(examples, file));
  return { topology: loaded.topology, baseDir: loaded.baseDir! };
}

export async function exec(h: Harness, topology: string, node: string, command: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const r = await h.node.execCommand({ topology, node, command, timeoutMs: 30_000 });
  return { code: r.exitCode, stdout: new TextDecoder().decode(r.stdout), stderr: new TextDecoder().decode(r.stderr) };
}

export async function vtyshJson<T = Record<string, unknown>>(h: Harness, topology: string, node: string, command: string): Promise<T> {
  const r = await exec(h, topology, node, ["vtysh", "-c", command]);
  if (r.code !== 0) throw new Error(`vtysh -c '${command}' on ${node} exited ${r.code}: ${r.stderr}${r.stdout}`);
  return JSON.parse(r.stdout) as T;
}

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number, intervalMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ""}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** Named namespaces of a topology, management ports carrying its alias, and the bridge. */
export function kernelLeftovers(topology: string): { namespaces: string[]; ports: string[] } {
  const namespaces = execFileSync("ip", ["netns", "list"], { encoding: "utf8" })
    .split("\n")
    .map((l) => l.split(" ")[0]!)
    .filter((n) => n.startsWith(`kne.${topology}.`));
  const links = JSON.parse(execFileSync("ip", ["-j", "link", "show"], { encoding: "utf8" }) || "[]") as Array<{ ifname: string; ifalias?: string }>;
  const ports = links.filter((l) => l.ifalias?.startsWith(`kne-mgmt:${topology}:`) || l.ifalias?.startsWith(`kne:${topology}:`)).map((l) => l.ifname);
  return { namespaces, ports };
}

/** Processes whose command line mentions the state dir (daemons and the supervisor run from it). */
export function processesUsing(stateDir: string): string[] {
  const out: string[] = [];
  for (const pid of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0/g, " ");
      const env = readFileSync(`/proc/${pid}/environ`, "utf8");
      if (cmd.includes(stateDir) || env.includes(`KNE_STATE_DIR=${stateDir}\0`)) out.push(`${pid} ${cmd.trim()}`);
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

export function bridgeExists(name = "kne-mgmt"): boolean {
  try {
    execFileSync("ip", ["link", "show", "dev", name], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/** Best-effort removal for afterAll: delete through the manager, whatever state it is in. */
export async function deleteQuietly(h: Harness, name: string): Promise<void> {
  await h.topology.deleteTopology({ name }, { timeoutMs: 120_000 }).catch(() => undefined);
}
