// Every app's bin/ runs from its built output alone, as a container image runs it: the bin
// and dist/ copied into an empty temporary directory, with node_modules holding only what
// dist/runtime-deps.json lists (no tsx, no workspace, no sources). Needs `npm run build`
// first (the test suite builds before it tests).
import { execFile } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { workspaceRoot } from "./testing";

const execFileAsync = promisify(execFile);
const apps = ["cli", "topology-manager", "topology-agent", "config-bootstrapper", "service-exposer"];
const binOf = (app: string) => (app === "cli" ? "kne" : app);
const scratch = mkdtempSync(join(tmpdir(), "kne-built-apps-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

async function node(args: string[], options: { cwd: string; executable?: string; env?: Record<string, string> }): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const env = { ...process.env, ...options.env };
    const { stdout, stderr } = await execFileAsync(options.executable ?? process.execPath, args, { cwd: options.cwd, timeout: 30_000, env });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    if (typeof failed.code !== "number") throw error;
    return { code: failed.code, stdout: failed.stdout ?? "", stderr: failed.stderr ?? "" };
  }
}

/** bin/ and dist/ of an app in a directory of their own, with only its runtime dependencies installed. */
function isolate(app: string): string {
  const from = join(workspaceRoot, "apps", app);
  const to = join(scratch, app);
  cpSync(join(from, "bin"), join(to, "bin"), { recursive: true });
  cpSync(join(from, "dist"), join(to, "dist"), { recursive: true });
  const deps = (JSON.parse(readFileSync(join(from, "dist", "runtime-deps.json"), "utf8")) as { dependencies: Record<string, string> }).dependencies;
  mkdirSync(join(to, "node_modules"), { recursive: true });
  for (const [name, version] of Object.entries(deps)) {
    const installed = JSON.parse(readFileSync(join(workspaceRoot, "node_modules", name, "package.json"), "utf8")) as { version: string };
    expect(installed.version, `runtime-deps.json pins ${name} ${version}`).toBe(version);
    cpSync(join(workspaceRoot, "node_modules", name), join(to, "node_modules", name), { recursive: true, dereference: true });
  }
  return to;
}

describe.each(apps)("apps/%s built", (app) => {
  it("runs --help from its dist alone, where tsx cannot be found", async () => {
    expect(existsSync(join(workspaceRoot, "apps", app, "dist", "main.mjs")), `apps/${app}/dist/main.mjs (npm run build)`).toBe(true);
    const dir = isolate(app);
    expect(() => createRequire(join(dir, "bin", "x.js")).resolve("tsx")).toThrow(/Cannot find module/);
    const help = await node([join(dir, "bin", `${binOf(app)}.mjs`), "--help"], { cwd: dir });
    expect(help).toMatchObject({ code: 0, stderr: "" });
    expect(help.stdout).toMatch(/Usage:/);
  });
});

describe("bin/kne.mjs from its dist alone", () => {
  it("prints the version and runtime, and validates a topology (the chunks a command loads are there)", async () => {
    const dir = existsSync(join(scratch, "cli")) ? join(scratch, "cli") : isolate("cli");
    const kne = join(dir, "bin", "kne.mjs");
    const version = await node([kne, "version", "-o", "json"], { cwd: dir });
    expect(JSON.parse(version.stdout)).toEqual({ version: expect.stringMatching(/^\d+\.\d+\.\d+/), node: process.version, platform: `${process.platform}/${process.arch}` });
    const yaml = await node([kne, "version", "-o", "yaml"], { cwd: dir });
    expect(yaml.stdout).toContain(`node: ${process.version}`);
    const valid = await node([kne, "topology", "validate", join(workspaceRoot, "examples", "frr-clos", "topology.pb.txt")], { cwd: dir });
    expect(valid).toMatchObject({ code: 0, stderr: "" });
  });

  it("says how to build when dist is missing", async () => {
    const dir = join(scratch, "unbuilt");
    cpSync(join(workspaceRoot, "apps", "cli", "bin"), join(dir, "bin"), { recursive: true });
    const r = await node([join(dir, "bin", "kne.mjs"), "--help"], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split("\n")).toEqual([expect.stringMatching(/^kne: not built \(no .*dist\/main\.mjs\): run 'npm run build'/)]);
  });

  it("names TypeScript files and lines in the stack it prints with KNE_DEBUG", async () => {
    const dir = existsSync(join(scratch, "cli")) ? join(scratch, "cli") : isolate("cli");
    const r = await node([join(dir, "bin", "kne.mjs"), "topology", "generate", "ring", "3", "-O", join(dir, "no-such-dir", "ring.pb.txt")], { cwd: dir, env: { KNE_DEBUG: "1" } });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/at async Object\.run \(.*src\/commands\/topology-generate-ring\.ts:\d+:\d+\)/);
    const plain = await node([join(dir, "bin", "kne.mjs"), "topology", "generate", "ring", "3", "-O", join(dir, "no-such-dir", "ring.pb.txt")], { cwd: dir });
    expect(plain.stderr.trim().split("\n")).toHaveLength(1);
  });
});

// Debian's node (v20 here) is the old runtime a user may still have first on PATH.
const oldNode = "/usr/bin/node";
const oldMajor = existsSync(oldNode) ? await node(["-p", "process.versions.node.split('.')[0]"], { cwd: workspaceRoot, executable: oldNode }).then((r) => Number(r.stdout.trim())) : NaN;
if (!(oldMajor < 24)) console.log(`bins on an old Node: not tested (${existsSync(oldNode) ? `${oldNode} is v${oldMajor}` : `no ${oldNode}`})`);

describe.runIf(oldMajor < 24)("every bin on an old Node", () => {
  it.each(apps)("%s refuses with one line naming both versions", async (app) => {
    const r = await node([join(workspaceRoot, "apps", app, "bin", `${binOf(app)}.mjs`), "--help"], { cwd: workspaceRoot, executable: oldNode });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(new RegExp(`^${binOf(app)}: needs Node\\.js 24 or newer, found ${oldMajor}\\.\\d+\\.\\d+ \\(${oldNode}\\)\\n$`));
  });
});
