/**
 * The probes the chart gives every app — `grpc: {port, service: ""}` — run by the kubelet's
 * own prober (k8s.io/kubernetes/pkg/probe/grpc at the pinned release, built by
 * kubelet-probe.sh) against each app's process: success while it serves, failure for a
 * service name it does not have and once it has stopped. kwok nodes never run probes, so this
 * is where the probe itself is proven.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { startServerProcess } from "@kne/rpc/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { repoRoot } from "../src/index";

const run = promisify(execFile);
const skip = process.getuid?.() !== 0 ? "needs root (the topology agent sets up the kernel at start)" : undefined;
if (skip) console.log(`kubelet probe tests skipped: ${skip}`);

let prober: string;
let work: string;

async function probe(port: number, service: string): Promise<{ code: number; out: string }> {
  try {
    const { stdout } = await run(prober, ["127.0.0.1", String(port), service, "2s"], { timeout: 30_000 });
    return { code: 0, out: stdout };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: err.code ?? -1, out: `${err.stdout ?? ""}${err.stderr ?? ""}` };
  }
}

describe.skipIf(skip !== undefined)("the kubelet's gRPC probe against each app", () => {
  beforeAll(async () => {
    const { stdout } = await run("bash", [join(repoRoot, "tools", "helm-chart", "kubelet-probe.sh"), "build"], { timeout: 30 * 60_000, maxBuffer: 16 << 20 });
    prober = stdout.trim().split("\n").at(-1)!;
    work = mkdtempSync(join(tmpdir(), "kne-probes-"));
  }, 30 * 60_000);

  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  const apps: Array<[string, () => string[]]> = [
    ["topology-manager", () => ["--state-dir", join(work, "manager")]],
    ["topology-agent", () => ["--state-dir", join(work, "agent"), "--namespace-scope", "listed"]],
    ["config-bootstrapper", () => []],
    ["service-exposer", () => []],
  ];
  for (const [app, args] of apps) {
    it(`${app}: SERVING to the probe, failure for an unknown service and after SIGTERM`, async () => {
      const proc = await startServerProcess(join(repoRoot, "apps", app, "bin", `${app}.mjs`), args(), 60_000);
      const port = Number(new URL(proc.url).port);
      try {
        const ok = await probe(port, "");
        expect(ok, ok.out).toMatchObject({ code: 0 });
        expect(ok.out).toMatch(/^success\tservice healthy/);
        const unknown = await probe(port, "no.such.Service");
        expect(unknown.code).toBe(1);
        expect(unknown.out).toMatch(/NotFound/);
      } finally {
        expect(await proc.stop("SIGTERM")).toBe(0);
      }
      expect((await probe(port, "")).code).toBe(1);
    }, 120_000);
  }
});
