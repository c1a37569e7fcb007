// Upstream KNE's published Go client against the real topology-manager process: the program
// in tests/go/upstream-client is built with github.com/openconfig/kne at the version its
// go.mod pins (from the Go module proxy, cached outside the repository by tests/go/build.sh)
// and calls every RPC of controller.TopologyManager over h2c on loopback, with an FRR and a
// HOST node on the local backend. It prints the client's version and one line per call.
import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startServerProcess, type ServerProcess } from "@kne/rpc/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { kernelLeftovers, processesUsing, workspaceRoot } from "./helpers.ts";

const isRoot = process.getuid?.() === 0;
if (!isRoot) console.log("api-upstream-go.int.spec: skipped: needs root (the topology's namespaces and FRR)");

const managerBin = join(workspaceRoot, "apps/topology-manager/bin/topology-manager.mjs");
const buildScript = join(workspaceRoot, "tests/go/build.sh");
const TOPOLOGY = "upstream-go";

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(file: string, args: readonly string[], timeout: number): Promise<Run> {
  return new Promise((resolve, reject) => {
    execFile(file, [...args], { timeout, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      if (err && typeof err.code !== "number" && !err.killed) return reject(err);
      resolve({ code: typeof err?.code === "number" ? err.code : err ? -1 : 0, stdout, stderr });
    });
  });
}

let stateDir: string;
let server: ServerProcess | undefined;

beforeAll(async () => {
  if (!isRoot) return;
  stateDir = await mkdtemp(join(tmpdir(), "kne-upstream-go-"));
  server = await startServerProcess(managerBin, ["--state-dir", stateDir, "--log-level", "info"], 60_000);
});

afterAll(async () => {
  if (!server) return;
  // A run that stopped half way leaves its topology: delete it through the program's own server.
  if (kernelLeftovers(TOPOLOGY).namespaces.length > 0) {
    await run(process.execPath, [join(workspaceRoot, "apps/cli/bin/kne.mjs"), "delete", TOPOLOGY, "--server", server.url.replace(/^http:\/\//, "")], 120_000).catch(() => undefined);
  }
  await server.stop("SIGTERM");
  await rm(stateDir, { recursive: true, force: true });
});

describe.skipIf(!isRoot)("upstream's published Go client (controller.TopologyManager)", () => {
  it("creates, shows (with vendor defaults), pushes, resets and deletes; error cases answer upstream's codes", async () => {
    const built = await run("bash", [buildScript], 900_000);
    expect(built.code, built.stderr).toBe(0);
    const binary = built.stdout.trim();
    const address = server!.url.replace(/^http:\/\//, "");
    const missing = join(stateDir, "no-such-kubeconfig");
    const client = await run(binary, ["-addr", address, "-topology", TOPOLOGY, "-missing-kubecfg", missing], 300_000);
    // Shown in the test's output: the client's version and each call's result.
    console.log(client.stdout);
    expect(client.stderr).toBe("");
    const lines = client.stdout.trim().split("\n");
    expect(lines[0]).toBe("client github.com/openconfig/kne v0.3.1");
    expect(lines.filter((l) => l.includes("MISMATCH"))).toEqual([]);
    const rpcs = new Set(lines.filter((l) => l.startsWith("rpc ")).map((l) => l.split(/\s+/)[1]));
    expect([...rpcs].sort()).toEqual(
      ["ApplyCluster", "CreateCluster", "CreateTopology", "DeleteCluster", "DeleteTopology", "JoinCluster", "PushConfig", "ResetConfig", "ShowCluster", "ShowTopology"].sort(),
    );
    expect(lines).toContain(`check ok: the error names the kubecfg ${missing}`);
    expect(lines).toContain('check ok: h1 config.image "alpine:latest"');
    expect(lines.at(-1)).toBe("result: every call answered as upstream's server does");
    expect(client.code).toBe(0);
    expect(kernelLeftovers(TOPOLOGY)).toEqual({ namespaces: [], ports: [] });
    expect(processesUsing(stateDir).filter((p) => !p.includes("topology-manager"))).toEqual([]);
  }, 1_200_000);
});
