// The real `kne` executable, spawned as users run it, on a temporary state dir: create,
// show, exec, link set, delete of examples/host-3node, each in its own process.
import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { workspaceRoot } from "../src/testing";

const bin = join(workspaceRoot, "apps", "cli", "bin", "kne.mjs");
let stateDir: string;

function kne(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], { cwd: workspaceRoot, timeout: 120_000, env: { ...process.env, KNE_STATE_DIR: stateDir, KNE_SERVER: "" } }, (error, stdout, stderr) => {
      const code = error ? (typeof (error as { code?: unknown }).code === "number" ? ((error as { code: number }).code) : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

beforeAll(async () => {
  stateDir = await mkdtemp(join(tmpdir(), "kne-cli-"));
});

afterAll(async () => {
  await kne(["delete", "host-3node"]);
  await rm(stateDir, { recursive: true, force: true });
});

describe("kne (the executable) on the local backend", () => {
  it("creates, shows, runs commands in, flips a link of, and deletes host-3node", async () => {
    const created = await kne(["create", "examples/host-3node/topology.pb.txt"]);
    expect(created.code, created.stderr).toBe(0);
    // Not a terminal: no line per node, a summary (and a line a second while it lasts).
    expect(created.stderr).toMatch(/^3\/3 ready after \d+\.\ds/m);
    expect(created.stderr).not.toMatch(/h1 +ready/);
    expect(created.stdout).toMatch(/topology host-3node: running/);

    const shown = await kne(["show", "host-3node", "-o", "json"]);
    expect(shown.code).toBe(0);
    const view = JSON.parse(shown.stdout) as { status: { phase: string; nodes: Array<{ name: string; phase: string; management_address: string }> } };
    expect(view.status.phase).toBe("TOPOLOGY_PHASE_RUNNING");
    expect(view.status.nodes.map((n) => [n.name, n.phase])).toEqual([
      ["h1", "NODE_PHASE_READY"],
      ["h2", "NODE_PHASE_READY"],
      ["h3", "NODE_PHASE_READY"],
    ]);
    expect(view.status.nodes[0]!.management_address).toMatch(/^198\.19\./);

    const ping = await kne(["exec", "host-3node", "h1", "--", "ping", "-c", "2", "-i", "0.2", "-W", "1", "198.18.2.3"]);
    expect(ping.code, ping.stderr).toBe(0);
    expect((await kne(["link", "set", "host-3node", "h1:eth1", "down"])).code).toBe(0);
    expect((await kne(["exec", "host-3node", "h1", "--", "ping", "-c", "1", "-W", "1", "198.18.2.3"])).code).not.toBe(0);
    expect((await kne(["link", "set", "host-3node", "h1:eth1", "up"])).code).toBe(0);

    const listed = await kne(["list"]);
    expect(listed.stdout).toMatch(/host-3node +running +3\/3/);

    expect((await kne(["create", "examples/host-3node/topology.pb.txt"])).code).toBe(1);
    const deleted = await kne(["delete", "examples/host-3node/topology.pb.txt"]);
    expect(deleted.code, deleted.stderr).toBe(0);
    expect(deleted.stderr).toMatch(/^3\/3 stopped after \d+\.\ds/m);
    const gone = await kne(["show", "host-3node"]);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain("NotFound");
  }, 180_000);
});
