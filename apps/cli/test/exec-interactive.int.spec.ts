// `kne exec -i` as users run it: the real executable, its standard input a pipe that is
// written line by line, each answer read before the next line is sent (so input and
// output stream while the command runs, not at its end), inside the node's namespace —
// with the in-process manager, and through a topology-manager server (ExecStream).
import { execFile, spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServerProcess } from "@kne/rpc/testing";
import { workspaceRoot } from "../src/testing";

const bin = join(workspaceRoot, "apps", "cli", "bin", "kne.mjs");
const managerBin = join(workspaceRoot, "apps", "topology-manager", "bin", "topology-manager.mjs");
const isRoot = process.getuid?.() === 0;
if (!isRoot) console.log("exec-interactive.int.spec: skipped: needs root (network namespaces)");
let dir: string;

function env(): NodeJS.ProcessEnv {
  return { ...process.env, KNE_STATE_DIR: join(dir, "state"), KNE_SERVER: "" };
}

function kne(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], { cwd: dir, timeout: 120_000, env: env() }, (error, stdout, stderr) => {
      const code = error ? (typeof (error as { code?: unknown }).code === "number" ? (error as { code: number }).code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

describe.runIf(isRoot)("kne exec -i (the executable)", () => {
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "kne-exec-it-"));
    await writeFile(join(dir, "lab.pb.txt"), 'name: "execit"\nnodes: { name: "h1" vendor: HOST }\n');
    const created = await kne(["create", "lab.pb.txt"]);
    expect(created.code, created.stderr).toBe(0);
  }, 120_000);

  afterAll(async () => {
    if (!dir) return;
    await kne(["delete", "execit"]);
    await rm(dir, { recursive: true, force: true });
  });

  /** Runs `kne exec execit h1 -i ...` and talks to it line by line: each answer is read before the next line is sent. */
  async function talk(extra: string[]): Promise<{ code: number | null; out: string; latencies: number[] }> {
    const script = 'while read -r line; do echo "got $line in $KNE_NODE"; done; ip -o -4 addr show dev eth0; exit 3';
    const child = spawn(process.execPath, [bin, "exec", "execit", "h1", "-i", ...extra, "--", "sh", "-c", script], { cwd: dir, env: env(), stdio: ["pipe", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stderr.on("data", (b: Buffer) => (err += b.toString("utf8")));
    let waiter: (() => void) | undefined;
    child.stdout.on("data", (b: Buffer) => {
      out += b.toString("utf8");
      waiter?.();
    });
    const waitOutput = (text: string): Promise<void> =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no "${text}" after 60 s; stdout: ${out}; stderr: ${err}`)), 60_000);
        waiter = () => {
          if (!out.includes(text)) return;
          clearTimeout(timer);
          waiter = undefined;
          resolve();
        };
        waiter();
      });
    const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
    const latencies: number[] = [];
    for (const word of ["alpha", "beta", "gamma"]) {
      const t0 = performance.now();
      child.stdin.write(`${word}\n`);
      // The answer comes while stdin is still open: streamed, not collected at the end.
      await waitOutput(`got ${word} in h1\n`);
      latencies.push(performance.now() - t0);
    }
    child.stdin.end();
    return { code: await exited, out, latencies };
  }

  it("streams piped input to the command and its output back while it runs (in-process manager)", async () => {
    const r = await talk([]);
    expect(r.code).toBe(3);
    expect(r.out).toMatch(/eth0\s+inet 198\.19\.\d+\.\d+\/\d+/);
    console.log(`kne exec -i: line echoed back in ${r.latencies.map((ms) => ms.toFixed(1)).join(", ")} ms (first includes kne's start)`);
  }, 120_000);

  it("streams the same through a topology-manager server (ExecStream)", async () => {
    const server = await startServerProcess(managerBin, ["--state-dir", join(dir, "state"), "--log-level", "info"], 90_000);
    try {
      const r = await talk(["--server", server.url]);
      expect(r.code).toBe(3);
      expect(r.out).toMatch(/eth0\s+inet 198\.19\.\d+\.\d+\/\d+/);
      console.log(`kne exec -i --server: line echoed back in ${r.latencies.map((ms) => ms.toFixed(1)).join(", ")} ms (first includes kne's start)`);
    } finally {
      expect(await server.stop("SIGTERM")).toBe(0);
    }
  }, 180_000);
});
