// The real executable, spawned as users run it (argument arrays, no shell).
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { workspaceRoot } from "./testing";

const execFileAsync = promisify(execFile);
const bin = join(workspaceRoot, "apps", "cli", "bin", "kne.mjs");

async function kne(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await execFileAsync(process.execPath, [bin, ...args], { cwd: workspaceRoot, timeout: 30_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    if (typeof failed.code !== "number") throw error;
    return { code: failed.code, stdout: failed.stdout ?? "", stderr: failed.stderr ?? "" };
  }
}

describe("bin/kne.mjs", () => {
  it("validates the examples and sets the exit status", async () => {
    const ok = await kne(["topology", "validate", "examples/frr-2node-ebgp/topology.pb.txt", "examples/host-3node/topology.pb.txt"]);
    expect(ok).toMatchObject({ code: 0, stderr: "" });
    expect(ok.stdout.trim().split("\n")).toHaveLength(2);
    const bad = await kne(["topology", "validate", "no-such-file.yaml"]);
    expect(bad).toMatchObject({ code: 1, stderr: expect.stringContaining("no-such-file.yaml: cannot read: no such file") });
    expect(await kne(["no-such-command"])).toMatchObject({ code: 2 });
  }, 60_000);
});
