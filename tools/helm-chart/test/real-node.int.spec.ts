/**
 * The chart with the images built here, on the test environment's real kubelet node (pods
 * that really run), from nothing: it builds the images (tools/images/build.sh; cached by
 * input hash, seconds when warm), brings up a control plane with the real node alone (no kwok
 * nodes, so the node is untainted and every pod lands there), imports the images into the
 * node's containerd (`ctr images import`, as the node's own images are), and then:
 *
 *  - `helm install` with the values `image-values.sh` writes from the image list: every pod
 *    of the release Ready on the real node, the agent DaemonSet's included (time printed),
 *    and that agent makes a veth between two namespaces through its API, which the host sees
 *    and pings over (its privileges and host paths suffice);
 *  - `kne --server` through `kubectl port-forward` to the manager's Service, with
 *    `--auth-token-file`: lists, creates (time to every node Ready printed) and deletes a HOST
 *    topology whose pods run on the real node from the host image, which the manager runs in
 *    place of the vendor's default `alpine:latest` (and the init image in place of
 *    `networkop/init-wait:latest`) through the chart's `topologyManager.imageOverrides`;
 *  - upstream's controller.TopologyManager answers through the same port; a wrong and a
 *    missing token are refused; metrics are scraped through the metrics Service;
 *  - `helm upgrade` with a changed value rolls the manager while a client polls
 *    ListTopologies every 100 ms through the Service's cluster address (kube-proxy's rules
 *    apply to this host's own traffic, so every call goes wherever the Service sends it, not
 *    to one pod as a port-forward would): calls and failures counted, none may fail;
 *  - `helm uninstall` removes every object the release made and keeps the CRDs.
 *
 * Needs root, Go (the control plane and the node are built from the Go module proxy when not
 * cached) and Debian's containerd, runc and CNI plugins (tools/setup/install-deps.sh); without
 * one of them it fails saying which. KNE_SKIP_K8S=1 skips it, saying so. With
 * KNE_TESTENV_KUBECONFIG it uses that environment if its real node is Ready and untainted.
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { nodeNetnsName } from "@kne/dataplane";
import { agentv1, controller, managerv1 } from "@kne/proto";
import { acquireTestenv, k8sSkipReason, REAL_NODE_NAME, TESTENV_UP_TIMEOUT_MS, until, type Testenv } from "@kne/testenv";
import { stringify } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chartDir, ensureHelm, helm, repoRoot } from "../src/index";
import { chartImageKeys, chartImageValues, INIT_IMAGE_NAME, readImageList, type ImageListEntry } from "../src/image-values";

const run = promisify(execFile);
const RELEASE = "kne";
const NAMESPACE = "kne-system";
const TOPOLOGY = "chart-real";
/** The wires the test asks of the agent's pod directly (not a manager topology). */
const WIRES = `chartwires${process.pid % 100_000}`;
const wireNamespaces = ["a", "b"].map((n) => nodeNetnsName(WIRES, n));
const kneBin = join(repoRoot, "apps", "cli", "bin", "kne.mjs");
const imageBuild = join(repoRoot, "tools", "images", "build.sh");
/** The images this test runs: the four apps, the HOST node and the init container. */
const wantedImages = [...Object.keys(chartImageKeys), "host", INIT_IMAGE_NAME];
/** What the release makes, by kind (cluster-scoped ones included), for the uninstall check. */
const releaseKinds = "deployments,daemonsets,services,secrets,serviceaccounts,poddisruptionbudgets,configmaps,replicasets,pods,clusterroles,clusterrolebindings";

const skip = k8sSkipReason ?? (process.getuid?.() !== 0 ? "needs root (the real node: containerd, kubelet, the pod network)" : undefined);
if (skip) console.log(`real-node chart test skipped: ${skip}`);

let env: Testenv | undefined;
let helmBin: string;
let work: string;
let images: Map<string, ImageListEntry>;
const children: ChildProcess[] = [];
const timings: Array<[string, string]> = [];

function note(what: string, value: string): void {
  timings.push([what, value]);
  console.log(`real-node chart: ${what}: ${value}`);
}

async function kubectl(args: readonly string[]): Promise<string> {
  const { stdout } = await run(env!.kubectl, ["--kubeconfig", env!.kubeconfigPath, ...args], { maxBuffer: 64 << 20 });
  return stdout;
}

const helmEnv = (): Record<string, string> => ({ KUBECONFIG: env!.kubeconfigPath });

/** `kubectl port-forward` to a local port it picks; resolves with that port. */
function portForward(target: string, remotePort: number): Promise<number> {
  const child = spawn(env!.kubectl, ["--kubeconfig", env!.kubeconfigPath, "-n", NAMESPACE, "port-forward", "--address", "127.0.0.1", target, `:${remotePort}`], { stdio: ["ignore", "pipe", "pipe"] });
  children.push(child);
  return new Promise((resolve, reject) => {
    let out = "";
    const take = (c: Buffer) => {
      out += c.toString();
      const m = /Forwarding from 127\.0\.0\.1:(\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    };
    child.stdout!.on("data", take);
    child.stderr!.on("data", take);
    child.once("exit", (code) => reject(new Error(`kubectl port-forward ${target} exited ${code}: ${out}`)));
  });
}

/** The state file of the environment's run directory (beside its kubeconfig). */
function testenvState(): Record<string, string> {
  if (Object.keys(env!.state).length > 0) return env!.state;
  const state: Record<string, string> = {};
  for (const line of readFileSync(join(dirname(env!.kubeconfigPath), "state.env"), "utf8").split("\n")) {
    const eq = line.indexOf("=");
    if (eq > 0) state[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return state;
}

/** Builds (or finds cached) the images this test runs; returns them from the list the build wrote. */
async function buildImages(): Promise<Map<string, ImageListEntry>> {
  const started = Date.now();
  const { stdout } = await run("bash", [imageBuild, ...wantedImages], { maxBuffer: 64 << 20, timeout: 60 * 60_000 });
  const built = new Map<string, string>();
  for (const line of stdout.split("\n")) {
    const [name, ref] = line.split("\t");
    if (name && ref && wantedImages.includes(name)) built.set(name, ref);
  }
  note("image build (tools/images/build.sh, 6 images)", `${((Date.now() - started) / 1000).toFixed(1)} s (${/\((\d+) built/.exec(stdout)?.[1] ?? "?"} built, the rest from the cache)`);
  const listPath = (await run("bash", [imageBuild, "list"])).stdout.trim();
  const listed = new Map(readImageList(listPath).map((e) => [e.name, e]));
  for (const name of wantedImages) {
    const ref = built.get(name);
    if (!ref) throw new Error(`tools/images/build.sh printed no ${name} image:\n${stdout}`);
    // The list is shared by every checkout on the machine: it must still name what was built here.
    if (listed.get(name)?.ref !== ref) throw new Error(`${listPath}: ${name} is ${listed.get(name)?.ref ?? "absent"}, the build printed ${ref} (another build wrote the list meanwhile: run again)`);
  }
  return listed;
}

/** Imports each image's OCI archive into the real node's containerd, where the kubelet finds it. */
async function importImages(): Promise<void> {
  const state = testenvState();
  const socket = state["NODE_CONTAINERD_SOCK"];
  if (!socket || !existsSync(socket)) throw new Error(`the test environment records no running containerd of its real node (NODE_CONTAINERD_SOCK=${socket ?? ""})`);
  const started = Date.now();
  for (const name of wantedImages) {
    const file = (images.get(name) as ImageListEntry & { file?: string }).file;
    if (!file || !existsSync(file)) throw new Error(`image ${name}: its archive ${file ?? "(none in the list)"} is missing`);
    await run("ctr", ["--address", socket, "-n", "k8s.io", "images", "import", file], { maxBuffer: 16 << 20, timeout: 600_000 });
  }
  note("ctr images import (6 archives)", `${((Date.now() - started) / 1000).toFixed(1)} s`);
}

interface PodJson {
  metadata: { name: string; labels?: Record<string, string> };
  spec: { nodeName?: string };
  status: { phase?: string; hostIP?: string; conditions?: Array<{ type: string; status: string }> };
}

/** The entries of a reused environment's state file (beside its kubeconfig). */
function stateFile(kubeconfigPath: string): Record<string, string> {
  const state: Record<string, string> = {};
  for (const line of readFileSync(join(dirname(kubeconfigPath), "state.env"), "utf8").split("\n")) {
    const eq = line.indexOf("=");
    if (eq > 0) state[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return state;
}

async function hostNamespaces(): Promise<string[]> {
  const { stdout } = await run("ip", ["netns", "list"]);
  return stdout.split("\n").map((l) => l.split(" ")[0]!).filter((n) => wireNamespaces.includes(n)).sort();
}

const isReady = (p: PodJson): boolean => p.status.conditions?.some((c) => c.type === "Ready" && c.status === "True") === true;

async function pods(namespace: string, selector?: string): Promise<PodJson[]> {
  return (JSON.parse(await kubectl(["-n", namespace, "get", "pods", ...(selector ? ["-l", selector] : []), "-o", "json"])) as { items: PodJson[] }).items;
}

async function releaseObjects(): Promise<string[]> {
  const out = await kubectl(["get", releaseKinds, "-A", "-l", `app.kubernetes.io/instance=${RELEASE}`, "-o", "jsonpath={range .items[*]}{.kind}/{.metadata.namespace}/{.metadata.name}{\"\\n\"}{end}"]);
  return out.split("\n").filter((l) => l !== "").sort();
}

describe.skipIf(skip !== undefined)("the chart with the images built here on a real node", () => {
  beforeAll(async () => {
    for (const [tool, why] of [["go", "builds the control plane and the node"], ["containerd", "the real node's runtime (Debian's containerd)"], ["ctr", "imports the images (Debian's containerd)"], ["runc", "runs the containers (Debian's runc)"]] as const) {
      try {
        await run("bash", ["-c", 'command -v "$1"', "check", tool]);
      } catch {
        throw new Error(`${tool} is not installed: it ${why}; tools/setup/install-deps.sh installs it`);
      }
    }
    work = mkdtempSync(join(tmpdir(), "kne-chart-real-"));
    images = await buildImages();
    helmBin = await ensureHelm();
    // The real node alone: untainted, so the release's pods and the topology's land on it.
    env = await acquireTestenv("chart-real", { realNode: true, kwokNodes: 0 });
    const node = JSON.parse(await kubectl(["get", "node", REAL_NODE_NAME, "-o", "json"])) as { spec: { taints?: Array<{ key: string; effect: string }> } };
    if ((node.spec.taints ?? []).length > 0) {
      throw new Error(`${REAL_NODE_NAME} is tainted (${JSON.stringify(node.spec.taints)}): the environment has kwok nodes beside it; use one with KNE_TESTENV_NODES=0 or let the test bring up its own (unset KNE_TESTENV_KUBECONFIG)`);
    }
    await importImages();
  }, TESTENV_UP_TIMEOUT_MS + 60 * 60_000);

  afterAll(async () => {
    for (const c of children) if (c.exitCode === null) c.kill("SIGTERM");
    // Wires the agent's pod made, should the test have stopped before deleting them.
    for (const ns of await hostNamespaces().catch(() => [])) await run("ip", ["netns", "delete", ns]).catch(() => undefined);
    if (env && helmBin) {
      await run(env.kubectl, ["--kubeconfig", env.kubeconfigPath, "delete", "topologies.kne.dev", TOPOLOGY, "--ignore-not-found", "--wait=true", "--timeout=120s"]).catch(() => undefined);
      await helm(helmBin, ["uninstall", RELEASE, "--namespace", NAMESPACE, "--wait", "--ignore-not-found"], helmEnv()).catch(() => undefined);
    }
    await env?.release();
    if (work) rmSync(work, { recursive: true, force: true });
    if (timings.length > 0) console.log(`real-node chart, measured:\n${timings.map(([k, v]) => `  ${k}: ${v}`).join("\n")}`);
  }, 600_000);

  it("installs, runs a HOST topology through the API, refuses bad tokens, serves metrics, rolls without a failed call, uninstalls", async () => {
    // --- install: the values the image list gives, the agent's state in this test's directory
    const values = chartImageValues([...images.values()], "images.json");
    const valuesFile = join(work, "values.yaml");
    // The agent's chained CNI plugin goes into the node's own CNI directories (the test
    // node's runtime reads those, not the host's /opt/cni/bin and /etc/cni/net.d).
    if (!env) throw new Error("no test environment (beforeAll failed)");
    const nodeState = env.state.NODE_CNI_BIN_DIR ? env.state : stateFile(env.kubeconfigPath);
    if (!nodeState.NODE_CNI_BIN_DIR || !nodeState.NODE_CNI_CONF_DIR) throw new Error("the test environment records no NODE_CNI_BIN_DIR/NODE_CNI_CONF_DIR: run testenv.sh down and up --real-node again");
    const cluster = { cniBinDir: nodeState.NODE_CNI_BIN_DIR, cniConfDir: nodeState.NODE_CNI_CONF_DIR, runtimeDir: join(work, "cni-runtime") };
    writeFileSync(valuesFile, stringify({ ...values, topologyAgent: { stateDir: join(work, "agent-state"), cluster } }));
    const installStarted = Date.now();
    const installed = await helm(helmBin, ["install", RELEASE, chartDir, "--namespace", NAMESPACE, "--create-namespace", "-f", valuesFile, "--wait", "--timeout", "5m"], helmEnv());
    expect(installed.code, installed.stderr).toBe(0);
    const released = await until("every pod of the release Ready", 300_000, async () => {
      const ps = await pods(NAMESPACE, `app.kubernetes.io/instance=${RELEASE}`);
      return ps.length >= 4 && ps.every(isReady) ? ps : undefined;
    });
    note("helm install → every pod Ready", `${((Date.now() - installStarted) / 1000).toFixed(1)} s (${released.length} pods)`);
    for (const p of released) expect(p.spec.nodeName, p.metadata.name).toBe(REAL_NODE_NAME);
    expect(released.map((p) => p.metadata.labels?.["app.kubernetes.io/component"]).sort()).toEqual(["config-bootstrapper", "service-exposer", "topology-agent", "topology-manager"]);

    // --- the agent's pod really works the node's kernel: a veth between two namespaces it
    // makes, which the host sees (Bidirectional propagation of /run/netns), and a ping over it
    const agentPod = released.find((p) => p.metadata.labels?.["app.kubernetes.io/component"] === "topology-agent")!;
    const agent = createClient(agentv1.AgentService, createGrpcTransport({ baseUrl: `http://${agentPod.status.hostIP}:50052` }));
    const endpoint = (node: string, address: string) => ({ node, interface: "eth1", addresses: [address] });
    const applied = await agent.applyWires({
      topology: WIRES,
      generation: 1n,
      namespaces: ["a", "b"].map((node) => ({ node, create: true })),
      // RFC 2544 test addresses, on a veth between two namespaces: nothing leaves the host.
      wires: [{ uid: 1n, a: endpoint("a", "198.18.250.1/30"), peer: { case: "z", value: endpoint("b", "198.18.250.2/30") } }],
    });
    expect(applied.created).toBe(1);
    expect(await hostNamespaces()).toEqual(wireNamespaces);
    await run("ip", ["netns", "exec", wireNamespaces[0]!, "ping", "-c", "1", "-W", "2", "198.18.250.2"]);
    expect((await agent.deleteTopology({ topology: WIRES })).deleted).toBeGreaterThan(0);
    expect(await hostNamespaces()).toEqual([]);

    // --- the API through a port-forward to the manager's Service, with the chart's token
    const tokenFile = join(work, "token");
    const secret = JSON.parse(await kubectl(["-n", NAMESPACE, "get", "secret", `${RELEASE}-api-token`, "-o", "json"])) as { data: { token: string } };
    writeFileSync(tokenFile, Buffer.from(secret.data.token, "base64").toString(), { mode: 0o600 });
    const wrongTokenFile = join(work, "wrong-token");
    writeFileSync(wrongTokenFile, "not-the-token\n", { mode: 0o600 });
    const apiPort = await portForward(`svc/${RELEASE}-topology-manager`, 50051);
    const server = `127.0.0.1:${apiPort}`;
    const kne = async (args: string[], auth: string[]) => {
      const started = Date.now();
      try {
        const { stdout, stderr } = await run(process.execPath, [kneBin, ...args, "--server", server, ...auth], { env: { ...process.env, KNE_AUTH_TOKEN: "" }, timeout: 600_000, maxBuffer: 16 << 20 });
        return { code: 0, out: stdout + stderr, ms: Date.now() - started };
      } catch (e) {
        const err = e as { code?: number; stdout?: string; stderr?: string };
        return { code: typeof err.code === "number" ? err.code : 1, out: `${err.stdout ?? ""}${err.stderr ?? ""}`, ms: Date.now() - started };
      }
    };

    // Two HOST nodes that name no image: the vendor's default (alpine:latest) and the init image
    // are upstream names no registry serves here; the chart's imageOverrides run the built ones.
    // No links: on Kubernetes the pods' data interfaces need the agent's CNI plugin, which the
    // chart does not install yet, and the init container waits for every interface.
    const topologyFile = join(work, "chart-real.pb.txt");
    writeFileSync(topologyFile, `name: "${TOPOLOGY}"\nnodes: { name: "a" vendor: HOST }\nnodes: { name: "b" vendor: HOST }\n`);

    const noToken = await kne(["create", topologyFile], []);
    expect(noToken.code).not.toBe(0);
    expect(noToken.out).toMatch(/unauthenticated|needs "authorization: Bearer/i);
    const wrongToken = await kne(["create", topologyFile], ["--auth-token-file", wrongTokenFile]);
    expect(wrongToken.code).not.toBe(0);
    expect(wrongToken.out).toMatch(/bearer token was not accepted/);

    const created = await kne(["create", topologyFile], ["--auth-token-file", tokenFile]);
    expect(created.code, created.out).toBe(0);
    note("kne create → HOST topology (2 nodes) Ready on the real node", `${(created.ms / 1000).toFixed(1)} s`);
    const nodePods = await pods(TOPOLOGY);
    expect(nodePods).toHaveLength(2);
    for (const p of nodePods) {
      expect(p.spec.nodeName).toBe(REAL_NODE_NAME);
      expect(isReady(p), p.metadata.name).toBe(true);
    }
    const podImages = JSON.parse(await kubectl(["-n", TOPOLOGY, "get", "pods", "-o", "json"])) as { items: Array<{ spec: { containers: Array<{ image: string }>; initContainers: Array<{ image: string }> } }> };
    for (const p of podImages.items) {
      expect(p.spec.containers.map((c) => c.image)).toEqual([images.get("host")!.ref]);
      expect(p.spec.initContainers.map((c) => c.image)).toEqual([images.get(INIT_IMAGE_NAME)!.ref]);
    }
    const listed = await kne(["list"], []);
    expect(listed.code, listed.out).toBe(0);
    expect(listed.out).toMatch(new RegExp(TOPOLOGY));

    const upstream = createClient(controller.TopologyManager, createGrpcTransport({ baseUrl: `http://${server}` }));
    const shown = await upstream.showTopology({ topologyName: TOPOLOGY });
    expect(shown.topology?.nodes.map((n) => n.name).sort()).toEqual(["a", "b"]);
    await expect(upstream.deleteTopology({ topologyName: TOPOLOGY })).rejects.toMatchObject({ code: Code.Unauthenticated });

    const metricsPort = await portForward(`svc/${RELEASE}-topology-manager-metrics`, 9464);
    const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    expect(metrics).toMatch(/kne_topologies\{[^}]*phase="RUNNING"[^}]*\} 1/);
    expect(metrics).toMatch(/kne_nodes\{[^}]*phase="READY"[^}]*\} 2/);

    // --- the roll: a client polls the Service's cluster address while helm upgrade replaces the pod
    const svc = JSON.parse(await kubectl(["-n", NAMESPACE, "get", "service", `${RELEASE}-topology-manager`, "-o", "json"])) as { spec: { clusterIP: string } };
    const poller = createClient(managerv1.TopologyService, createGrpcTransport({ baseUrl: `http://${svc.spec.clusterIP}:50051` }));
    await poller.listTopologies({}, { timeoutMs: 5_000 });
    const before = (await pods(NAMESPACE, `app.kubernetes.io/component=topology-manager`)).map((p) => p.metadata.name);
    let calls = 0;
    const failures: string[] = [];
    let polling = true;
    const loop = (async () => {
      while (polling) {
        calls++;
        try {
          await poller.listTopologies({}, { timeoutMs: 5_000 });
        } catch (e) {
          const err = ConnectError.from(e);
          failures.push(`${Code[err.code]}: ${err.rawMessage}`);
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    const rollStarted = Date.now();
    const upgraded = await helm(helmBin, ["upgrade", RELEASE, chartDir, "--namespace", NAMESPACE, "--reuse-values", "--set", "logLevel=debug", "--wait", "--timeout", "5m"], helmEnv());
    // Until the old pod is gone: its preStop delay and graceful stop happen after helm returns.
    await until("the old manager pod gone", 120_000, async () => {
      const now = await pods(NAMESPACE, `app.kubernetes.io/component=topology-manager`);
      return now.every((p) => !before.includes(p.metadata.name)) && now.length === 1 && now.every(isReady) ? true : undefined;
    });
    polling = false;
    await loop;
    expect(upgraded.code, upgraded.stderr).toBe(0);
    note("helm upgrade roll of the manager, ListTopologies every 100 ms", `${calls} calls, ${failures.length} failed, ${((Date.now() - rollStarted) / 1000).toFixed(1)} s`);
    expect(failures).toEqual([]);
    expect(calls).toBeGreaterThan(50);

    // --- delete through a fresh port-forward (the old one was pinned to the old pod)
    for (const c of children) c.kill("SIGTERM");
    const apiPort2 = await portForward(`svc/${RELEASE}-topology-manager`, 50051);
    const deleted = await (async () => {
      const started = Date.now();
      try {
        const { stdout, stderr } = await run(process.execPath, [kneBin, "delete", TOPOLOGY, "--server", `127.0.0.1:${apiPort2}`, "--auth-token-file", tokenFile], { timeout: 600_000, maxBuffer: 16 << 20 });
        return { code: 0, out: stdout + stderr, ms: Date.now() - started };
      } catch (e) {
        const err = e as { code?: number; stdout?: string; stderr?: string };
        return { code: 1, out: `${err.stdout ?? ""}${err.stderr ?? ""}`, ms: Date.now() - started };
      }
    })();
    expect(deleted.code, deleted.out).toBe(0);
    note("kne delete of the HOST topology", `${(deleted.ms / 1000).toFixed(1)} s`);
    await until("the topology's namespace gone", 120_000, async () => ((await kubectl(["get", "namespace", TOPOLOGY, "--ignore-not-found", "-o", "name"])).trim() === "" ? true : undefined));

    // --- uninstall: nothing of the release left but the CRDs
    for (const c of children) c.kill("SIGTERM");
    const removed = await helm(helmBin, ["uninstall", RELEASE, "--namespace", NAMESPACE, "--wait"], helmEnv());
    expect(removed.code, removed.stderr).toBe(0);
    await until("every object of the release gone", 120_000, async () => ((await releaseObjects()).length === 0 ? true : undefined));
    const crds = (await kubectl(["get", "crd", "-o", "name"])).split("\n").filter((l) => l.endsWith(".kne.dev"));
    expect(crds.sort()).toEqual(["customresourcedefinition.apiextensions.k8s.io/devices.kne.dev", "customresourcedefinition.apiextensions.k8s.io/links.kne.dev", "customresourcedefinition.apiextensions.k8s.io/topologies.kne.dev"]);
  }, 30 * 60_000);
});
