// The real worker node of the test environment: containerd + runc + CNI bridge, kubelet,
// kube-proxy (nftables) and CoreDNS, beside the control plane. A pod of an image built here
// becomes Ready on it; `kubectl logs` and `kubectl exec` go through the API server to the
// kubelet; a Service name resolves through CoreDNS inside a pod and its ClusterIP answers
// through kube-proxy; nothing reaches beyond the test range; `down` leaves nothing behind.
//
// Root only (containers, network, mounts). It brings up a private environment with the real
// node, or reuses the one KNE_TESTENV_KUBECONFIG names if that has the node. KNE_SKIP_K8S=1
// skips it.
import { execFile } from "node:child_process";
import { existsSync, readdirSync, readFileSync, readlinkSync } from "node:fs";
import { promisify } from "node:util";
import * as k8s from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { acquireTestenv, k8sSkipReason, REAL_NODE_NAME, TESTENV_UP_TIMEOUT_MS, until, type Testenv } from "../src/index";

const run = promisify(execFile);

const notRoot = process.getuid?.() !== 0 ? "needs root (containers, network namespaces, mounts)" : undefined;
const skipReason = k8sSkipReason ?? notRoot;
if (skipReason) console.log(`real node test skipped: ${skipReason}`);

const STEP_TIMEOUT = 180_000;
const TEST_TIMEOUT = 2 * STEP_TIMEOUT;
const POD_CIDR = "198.18.128.0/18";
const SERVICE_CIDR = "198.18.0.0/17";
const NODE_IP = "198.18.192.1";

function inCidr(ip: string, cidr: string): boolean {
  const toInt = (a: string) => a.split(".").reduce((n, o) => (n << 8) + Number(o), 0) >>> 0;
  const [base, bits] = cidr.split("/") as [string, string];
  const mask = Number(bits) === 0 ? 0 : (~0 << (32 - Number(bits))) >>> 0;
  return (toInt(ip) & mask) === (toInt(base) & mask);
}

function gone(pid: number): boolean {
  try {
    const state = readFileSync(`/proc/${pid}/stat`, "utf8").replace(/^.*\) /s, "")[0];
    return state === "Z" || state === "X";
  } catch {
    return true;
  }
}

async function sh(cmd: string, args: string[]): Promise<string> {
  return (await run(cmd, args, { maxBuffer: 16 << 20 })).stdout;
}

/** What the real node may leave in the kernel and the process table. */
async function machineSnapshot(sock: string | undefined) {
  const netns = (await sh("ip", ["netns", "list"])).split("\n").map((l) => l.split(" ")[0]).filter((n) => n?.startsWith("cni-"));
  const links = (await sh("ip", ["-o", "link", "show"])).split("\n").map((l) => l.split(":")[1]?.trim().split("@")[0] ?? "");
  const tables = (await sh("nft", ["list", "tables"])).trim().split("\n");
  const mounts = readFileSync("/proc/mounts", "utf8").split("\n");
  const shims: number[] = [];
  for (const p of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    try {
      if (!readlinkSync(`/proc/${p}/exe`).endsWith("/containerd-shim-runc-v2")) continue;
      if (sock && readFileSync(`/proc/${p}/cmdline`, "utf8").split("\0").includes(sock)) shims.push(Number(p));
    } catch {
      // gone meanwhile
    }
  }
  // Machine-wide directories the runtime makes on first use; `down` removes them when it made them.
  const sharedDirs = ["/run/containerd", "/var/lib/cni", "/var/log/containers"].filter((d) => existsSync(d));
  return { netns, links, tables, mounts, shims, sharedDirs };
}

type Snapshot = Awaited<ReturnType<typeof machineSnapshot>>;

/** Releases an environment this file brought up and checks the real node left nothing behind. */
async function releaseAndExpectNothingLeft(env: Testenv, before: Snapshot): Promise<void> {
  const { pids, runDir, state } = env;
  const started = Date.now();
  await env.release();
  console.log(`real node: down in ${Date.now() - started} ms`);
  for (const pid of pids) expect(gone(pid), `pid ${pid} still running`).toBe(true);
  expect(existsSync(runDir!)).toBe(false);
  const after = await machineSnapshot(state.NODE_CONTAINERD_SOCK);
  expect(after.shims, "containerd shims of this node").toEqual([]);
  expect(after.netns.filter((n) => !before.netns.includes(n)), "new cni-* network namespaces").toEqual([]);
  expect(after.links).not.toContain("kne-pods0");
  expect(after.links).not.toContain("kne-node0");
  expect(after.links.filter((l) => l.startsWith("veth") && !before.links.includes(l)), "new veths").toEqual([]);
  expect(after.tables).not.toContain("table inet kne_testenv_node");
  expect(after.tables).not.toContain("table ip kube-proxy");
  expect(after.tables.filter((t) => !before.tables.includes(t)), "new nft tables").toEqual([]);
  expect(after.mounts.filter((m) => m.includes(runDir!)), "mounts under the run directory").toEqual([]);
  expect(after.sharedDirs.filter((d) => !before.sharedDirs.includes(d)), "directories made by the runtime").toEqual([]);
}

const probeLabel = { app: "web" };

describe.skipIf(skipReason !== undefined)("testenv: a real node (containerd, kubelet, kube-proxy, CoreDNS)", () => {
  let env: Testenv | undefined;
  let kc: k8s.KubeConfig;
  let core: k8s.CoreV1Api;
  let probeImage = "";
  let webIP = "";
  let before: Snapshot;
  const ns = `kne-real-${process.pid}-${Date.now() % 100000}`;

  const kubectl = async (...args: string[]) =>
    (await run(env!.kubectl, ["--kubeconfig", env!.kubeconfigPath, "-n", ns, ...args], { timeout: 60_000 })).stdout;

  beforeAll(async () => {
    before = await machineSnapshot(undefined);
    const started = Date.now();
    env = await acquireTestenv("real-node", { realNode: true });
    console.log(`real node: testenv up --real-node to node Ready (CoreDNS available) in ${Date.now() - started} ms`);
    kc = env.kubeConfig;
    core = kc.makeApiClient(k8s.CoreV1Api);
    probeImage = env.state.IMAGE_probe ?? "";
    if (!probeImage) {
      // A reused environment: the image's name is the imported one on the node.
      const node = await core.readNode({ name: REAL_NODE_NAME });
      probeImage = node.status?.images?.flatMap((i) => i.names ?? []).find((n) => n.startsWith("kne.local/testenv/probe:")) ?? "";
    }
    expect(probeImage).toMatch(/^kne\.local\/testenv\/probe:[0-9a-f]{12}$/);
  }, TESTENV_UP_TIMEOUT_MS);

  afterAll(async () => {
    if (core) await core.deleteNamespace({ name: ns }).catch(() => undefined);
    if (env?.owned) await releaseAndExpectNothingLeft(env, before);
  }, 360_000);

  it("has the real node Ready, on the versions built here", async () => {
    const node = await core.readNode({ name: REAL_NODE_NAME });
    expect(node.status?.conditions?.find((c) => c.type === "Ready")?.status).toBe("True");
    expect(node.status?.nodeInfo?.kubeletVersion).toBe("v1.36.3");
    expect(node.status?.nodeInfo?.kubeProxyVersion ?? "").toMatch(/^(v1\.36\.3)?$/);
    expect(node.status?.nodeInfo?.containerRuntimeVersion).toMatch(/^containerd:\/\/1\./);
    expect(node.status?.addresses?.find((a) => a.type === "InternalIP")?.address).toBe(NODE_IP);
    expect(node.metadata?.annotations?.["kwok.x-k8s.io/node"]).toBeUndefined();
  }, TEST_TIMEOUT);

  it("runs a pod of an image built here to Ready, with an address from the node's range", async () => {
    await core.createNamespace({ body: { metadata: { name: ns } } });
    await until("the default ServiceAccount", STEP_TIMEOUT, async () => core.readNamespacedServiceAccount({ name: "default", namespace: ns }));
    const podSpec = (name: string, labels: Record<string, string>): k8s.V1Pod => ({
      metadata: { name, labels },
      spec: {
        nodeSelector: { "kubernetes.io/hostname": REAL_NODE_NAME },
        tolerations: [{ key: "kne.dev/real-node", operator: "Exists", effect: "NoSchedule" }],
        terminationGracePeriodSeconds: 1,
        containers: [
          {
            name: "main",
            image: probeImage,
            imagePullPolicy: "Never",
            args: ["serve", "8080"],
            ports: [{ containerPort: 8080 }],
            readinessProbe: { httpGet: { path: "/healthz", port: 8080 }, periodSeconds: 1 },
          },
        ],
      },
    });
    const created = Date.now();
    await core.createNamespacedPod({ namespace: ns, body: podSpec("web", probeLabel) });
    await core.createNamespacedPod({ namespace: ns, body: podSpec("client", { app: "client" }) });
    const ready = async (name: string) =>
      until(`pod ${name} Ready`, STEP_TIMEOUT, async () => {
        const p = await core.readNamespacedPod({ name, namespace: ns });
        return p.status?.conditions?.find((c) => c.type === "Ready")?.status === "True" ? p : undefined;
      });
    const web = await ready("web");
    console.log(`real node: pod create to Ready in ${Date.now() - created} ms`);
    const client = await ready("client");
    for (const p of [web, client]) {
      expect(p.spec?.nodeName).toBe(REAL_NODE_NAME);
      expect(inCidr(p.status?.podIP ?? "", POD_CIDR), `pod IP ${p.status?.podIP}`).toBe(true);
      expect(p.status?.containerStatuses?.[0]?.imageID ?? "").toMatch(/sha256:[0-9a-f]{64}/);
    }
    expect(web.status?.podIP).not.toBe(client.status?.podIP);
    webIP = web.status?.podIP ?? "";
  }, TEST_TIMEOUT);

  it("serves kubectl logs and kubectl exec through the kubelet", async () => {
    expect(await kubectl("logs", "web")).toContain("probe: serving on port 8080 as web");
    // exec runs in the pod's own mount namespace: the /etc/hosts the kubelet wrote for it
    // maps the pod's hostname to its address.
    expect((await kubectl("exec", "web", "--", "/probe", "lookup", "web")).trim()).toBe(webIP);
    const { stdout, stderr } = await run(env!.kubectl, ["--kubeconfig", env!.kubeconfigPath, "-n", ns, "exec", "web", "--", "/probe", "nosuchcommand"]).catch(
      (e: { stdout: string; stderr: string }) => e,
    );
    expect(stdout).toBe("");
    expect(stderr).toMatch(/unknown command nosuchcommand/);
  }, TEST_TIMEOUT);

  it("resolves a Service name through CoreDNS and reaches its ClusterIP through kube-proxy", async () => {
    const svc = await core.createNamespacedService({
      namespace: ns,
      body: { metadata: { name: "web" }, spec: { selector: probeLabel, ports: [{ port: 80, targetPort: 8080 }] } },
    });
    const clusterIP = svc.spec?.clusterIP ?? "";
    expect(inCidr(clusterIP, SERVICE_CIDR)).toBe(true);
    // The full name and the short one (the pod's search path written by the kubelet).
    const full = `web.${ns}.svc.cluster.local`;
    const resolved = await until(`${full} to resolve to ${clusterIP}`, STEP_TIMEOUT, async () => {
      const out = (await kubectl("exec", "client", "--", "/probe", "lookup", full)).trim();
      return out === clusterIP ? out : undefined;
    });
    expect(resolved).toBe(clusterIP);
    expect((await kubectl("exec", "client", "--", "/probe", "lookup", "web")).trim()).toBe(clusterIP);
    // kube-proxy's nftables rules send the ClusterIP to the web pod.
    const body = await until("the Service to answer", STEP_TIMEOUT, async () =>
      (await kubectl("exec", "client", "--", "/probe", "get", `http://web.${ns}.svc.cluster.local/`)).trim(),
    );
    expect(body).toBe("probe web");
    expect(await kubectl("logs", "web")).toMatch(/GET \/ from 198\.18\.1(2[89]|[3-8]\d|9[01])\./);
    // The API server through the `kubernetes` Service, as in-cluster clients reach it.
    const api = await kubectl("exec", "client", "--", "/probe", "lookup", "kubernetes.default.svc.cluster.local");
    expect(api.trim()).toBe("198.18.0.1");
  }, TEST_TIMEOUT);

  it("gives pods no route beyond the test range", async () => {
    // 198.51.100.0/24 is a documentation range: the pod has no route to it at all.
    const failed = await kubectl("exec", "client", "--", "/probe", "get", "http://198.51.100.1/").then(
      () => "",
      (e: { stderr: string }) => e.stderr,
    );
    expect(failed).toMatch(/network is unreachable|no route to host/);
  }, TEST_TIMEOUT);
});

// `down` must not depend on a healthy kubelet: with the kubelet killed, pods keep running and
// nobody tears down their network; `down` finds them through containerd and the bridge.
// Alone (no kwok nodes), the real node has no taint and takes a pod that asks for nothing.
const reuseReason = process.env.KNE_TESTENV_KUBECONFIG ? "KNE_TESTENV_KUBECONFIG is set (the real node may be taken)" : undefined;
if (!skipReason && reuseReason) console.log(`real node teardown test skipped: ${reuseReason}`);

describe.skipIf(skipReason !== undefined || reuseReason !== undefined)("testenv: the real node's down after its kubelet died", () => {
  let env: Testenv | undefined;
  let before: Snapshot;

  beforeAll(async () => {
    before = await machineSnapshot(undefined);
    env = await acquireTestenv("real-node-alone", { realNode: true, kwokNodes: 0 });
  }, TESTENV_UP_TIMEOUT_MS);

  afterAll(async () => {
    if (env?.owned) await releaseAndExpectNothingLeft(env, before);
  }, 360_000);

  it("runs a pod without tolerations on the untainted node, then loses the kubelet", async () => {
    const core = env!.kubeConfig.makeApiClient(k8s.CoreV1Api);
    const node = await core.readNode({ name: REAL_NODE_NAME });
    expect(node.spec?.taints ?? []).toEqual([]);
    await core.createNamespacedPod({
      namespace: "default",
      body: {
        metadata: { name: "orphan" },
        spec: { containers: [{ name: "main", image: env!.state.IMAGE_probe!, imagePullPolicy: "Never", args: ["serve"] }] },
      },
    });
    const pod = await until("pod orphan Running", STEP_TIMEOUT, async () => {
      const p = await core.readNamespacedPod({ name: "orphan", namespace: "default" });
      return p.status?.phase === "Running" ? p : undefined;
    });
    expect(pod.spec?.nodeName).toBe(REAL_NODE_NAME);
    const kubelet = Number(env!.state.PID_kubelet);
    process.kill(kubelet, "SIGKILL");
    await until("the kubelet to be gone", 10_000, async () => (gone(kubelet) ? true : undefined));
    // Its pod and sandbox still run: their network namespace is still there.
    const netns = (await sh("ip", ["netns", "list"])).split("\n").filter((l) => l.startsWith("cni-"));
    expect(netns.length).toBeGreaterThan(before.netns.length);
  }, TEST_TIMEOUT);
});
