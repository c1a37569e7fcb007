/**
 * @kne/testenv from tests: a real control plane (etcd, kube-apiserver, controller-manager,
 * scheduler, kwok) for one test file. `acquireTestenv` reuses a running environment when
 * KNE_TESTENV_KUBECONFIG names its kubeconfig, otherwise brings up a private one (its own
 * run directory, free loopback ports) and `release` stops exactly what it started.
 *
 * `{ realNode: true }` adds the real worker node (`up --real-node`: containerd, kubelet,
 * kube-proxy, CoreDNS); a reused environment is taken only if it has that node.
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
  /** The kubectl of the same build. */
  kubectl: string;
  /** The state file's entries (pids, ports, image references; empty when reused). */
  state: Record<string, string>;
  /** Stops what was started here and removes its run directory; a no-op when reused. */
  release(): Promise<void>;
}

export interface TestenvOptions {
  /** Start the real node too (`testenv.sh up --real-node`). */
  realNode?: boolean;
  /** kwok nodes to create (KNE_TESTENV_NODES; default 3). */
  kwokNodes?: number;
}

/** The real node's name (tools/testenv/real-node.sh). */
export const REAL_NODE_NAME = "kne-real-0";

async function hasRealNode(kc: k8s.KubeConfig): Promise<boolean> {
  try {
    const node = await kc.makeApiClient(k8s.CoreV1Api).readNode({ name: REAL_NODE_NAME });
    return node.status?.conditions?.find((c) => c.type === "Ready")?.status === "True";
  } catch {
    return false;
  }
}

/** Brings up (or reuses) a control plane. `label` names the run directory, for debugging. */
export async function acquireTestenv(label = "test", options: TestenvOptions = {}): Promise<Testenv> {
  const kubectl = join((await run("bash", [testenvScript, "bin"])).stdout.trim(), "kubectl");
  const reuse = process.env.KNE_TESTENV_KUBECONFIG;
  if (reuse) {
    if (!existsSync(reuse)) throw new Error(`KNE_TESTENV_KUBECONFIG=${reuse}: no such file`);
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(reuse);
    if (!options.realNode || (await hasRealNode(kc))) {
      return { kubeconfigPath: reuse, kubeConfig: kc, owned: false, pids: [], runDir: undefined, kubectl, state: {}, release: async () => {} };
    }
    console.log(`testenv (${label}): ${reuse} has no Ready ${REAL_NODE_NAME}; bringing up a private environment with one`);
  }
  const tmp = mkdtempSync(join(tmpdir(), `kne-testenv-${label.replace(/[^a-z0-9-]/gi, "-")}-`));
  const runDir = join(tmp, "run");
  const env = {
    ...process.env,
    KNE_TESTENV_DIR: runDir,
    ...(options.kwokNodes !== undefined ? { KNE_TESTENV_NODES: String(options.kwokNodes) } : {}),
  };
  const started = Date.now();
  let stdout: string;
  try {
    const args = [testenvScript, "up", ...(options.realNode ? ["--real-node"] : [])];
    ({ stdout } = await run("bash", args, { env, maxBuffer: 64 << 20, timeout: TESTENV_UP_TIMEOUT_MS }));
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    const err = e as { stderr?: string; message: string };
    throw new Error(`testenv up failed: ${err.message}\n${err.stderr ?? ""}`);
  }
  const kubeconfigPath = stdout.trim().split("\n").at(-1) ?? "";
  const state: Record<string, string> = {};
  for (const line of readFileSync(join(runDir, "state.env"), "utf8").split("\n")) {
    const eq = line.indexOf("=");
    if (eq > 0) state[line.slice(0, eq)] = line.slice(eq + 1);
  }
  const pids = Object.entries(state)
    .filter(([k]) => k.startsWith("PID_"))
    .map(([, v]) => Number(v));
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
    kubectl,
    state,
    async release() {
      if (released) return;
      released = true;
      try {
        await run("bash", [testenvScript, "down"], { env, timeout: 300_000 });
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
