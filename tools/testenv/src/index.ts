/**
 * @kne/testenv from tests: a real control plane (etcd, kube-apiserver, controller-manager,
 * scheduler, kwok) for one test file. `acquireTestenv` reuses a running environment when
 * KNE_TESTENV_KUBECONFIG names its kubeconfig, otherwise brings up a private one (its own
 * run directory, free loopback ports) and `release` stops exactly what it started.
 *
 * KNE_SKIP_K8S=1 skips Kubernetes tests; `k8sSkipReason` says so, for the test to print.
 */
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import * as k8s from "@kubernetes/client-node";

const run = promisify(execFile);

/** The `testenv.sh` script of this package. */
export const testenvScript = join(dirname(fileURLToPath(import.meta.url)), "..", "testenv.sh");

/** Why Kubernetes tests are skipped, or undefined when they run. */
export const k8sSkipReason: string | undefined =
  process.env.KNE_SKIP_K8S === "1" ? "KNE_SKIP_K8S=1" : undefined;

/** A new machine builds the binaries first: about 20 minutes on 2 busy cores. */
export const TESTENV_UP_TIMEOUT_MS = 45 * 60_000;

export interface Testenv {
  kubeconfigPath: string;
  kubeConfig: k8s.KubeConfig;
  /** True when this process started the environment (and `release` stops it). */
  owned: boolean;
  /** Process ids of what `up` started (empty when reused). */
  pids: number[];
  /** The run directory (undefined when reused). */
  runDir: string | undefined;
  /** Stops what was started here and removes its run directory; a no-op when reused. */
  release(): Promise<void>;
}

/** Brings up (or reuses) a control plane. `label` names the run directory, for debugging. */
export async function acquireTestenv(label = "test"): Promise<Testenv> {
  const reuse = process.env.KNE_TESTENV_KUBECONFIG;
  if (reuse) {
    if (!existsSync(reuse)) throw new Error(`KNE_TESTENV_KUBECONFIG=${reuse}: no such file`);
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(reuse);
    return { kubeconfigPath: reuse, kubeConfig: kc, owned: false, pids: [], runDir: undefined, release: async () => {} };
  }
  const tmp = mkdtempSync(join(tmpdir(), `kne-testenv-${label.replace(/[^a-z0-9-]/gi, "-")}-`));
  const runDir = join(tmp, "run");
  const env = { ...process.env, KNE_TESTENV_DIR: runDir };
  const started = Date.now();
  let stdout: string;
  try {
    ({ stdout } = await run("bash", [testenvScript, "up"], { env, maxBuffer: 64 << 20, timeout: TESTENV_UP_TIMEOUT_MS }));
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    const err = e as { stderr?: string; message: string };
    throw new Error(`testenv up failed: ${err.message}\n${err.stderr ?? ""}`);
  }
  const kubeconfigPath = stdout.trim().split("\n").at(-1) ?? "";
  const pids = readFileSync(join(runDir, "state.env"), "utf8")
    .split("\n")
    .filter((l) => l.startsWith("PID_"))
    .map((l) => Number(l.split("=")[1]));
  console.log(`testenv (${label}): up in ${Date.now() - started} ms, kubeconfig ${kubeconfigPath}`);
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  let released = false;
  return {
    kubeconfigPath,
    kubeConfig: kc,
    owned: true,
    pids,
    runDir,
    async release() {
      if (released) return;
      released = true;
      try {
        await run("bash", [testenvScript, "down"], { env, timeout: 120_000 });
      } finally {
        rmSync(tmp, { recursive: true, force: true });
      }
    },
  };
}

/** Polls `probe` every 250 ms until it returns a value; throws with the last error at the deadline. */
export async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ""}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
