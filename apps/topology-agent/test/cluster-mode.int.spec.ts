/**
 * The agent's cluster mode without a kubelet: the real control plane with one kwok node (its
 * pods are scheduled and Ready, but no runtime makes sandboxes), so this test plays the
 * runtime: for each pod it makes a network namespace and runs the plugin the agent installed
 * (ADD with the pod's CNI_ARGS and a previous result, as a runtime does). It proves, on the
 * real kernel and API server, what the real-node test cannot isolate: the Link status the
 * agent writes (Up, then Down/Down after SetLinkState), the admin state reaching the
 * interface, a sandbox found by the pod's address when its handoff is gone, DEL removing the
 * handoff, and delete removing every marked interface even while the namespaces stay.
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { create } from "@bufbuild/protobuf";
import { createClient, createRouterTransport } from "@connectrpc/connect";
import { KubeClient, resourceTypes, type KubeObject } from "@kne/kube";
import { createManagerServices, registerManagerServices } from "@kne/manager";
import { KubernetesBackend } from "@kne/manager/kubernetes";
import { managerv1, topo } from "@kne/proto";
import { createLogger } from "@kne/telemetry";
import { TESTENV_UP_TIMEOUT_MS, acquireTestenv, k8sSkipReason, until, type Testenv } from "@kne/testenv";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const run = promisify(execFile);
const agentBin = resolve(dirname(fileURLToPath(import.meta.url)), "..", "bin", "topology-agent.mjs");
const TOPOLOGY = "cni-kwok";
const KWOK_NODE = "kwok-node-1";

const skip = k8sSkipReason ?? (process.getuid?.() !== 0 ? "needs root (network namespaces)" : undefined);
if (skip) console.log(`cluster-mode test skipped: ${skip}`);

type Pod = KubeObject & { metadata: KubeObject["metadata"] & { uid: string }; spec: { nodeName?: string }; status?: { podIP?: string } };
type LinkObj = KubeObject & { spec: { a: string; z: string }; status?: { operState?: string; aOperState?: string; zOperState?: string } };

async function linkFlags(netns: string, ifname: string): Promise<string[] | undefined> {
  const { stdout } = await run("ip", ["-n", netns, "-j", "link", "show"]);
  return (JSON.parse(stdout) as Array<{ ifname: string; flags: string[] }>).find((l) => l.ifname === ifname)?.flags;
}

describe.skipIf(skip)("topology agent cluster mode with the plugin run as a runtime runs it", () => {
  let env: Testenv;
  let kube: KubeClient;
  let backend: KubernetesBackend;
  let api: ReturnType<typeof createClient<typeof managerv1.TopologyService>>;
  let linkApi: ReturnType<typeof createClient<typeof managerv1.LinkService>>;
  let work: string;
  let agent: ChildProcess | undefined;
  const tag = randomBytes(3).toString("hex");
  /** The sandboxes this test made: node → namespace name, container id. */
  const sandboxes = new Map<string, { netns: string; containerId: string; pod: Pod }>();
  const binDir = () => join(work, "cni", "bin");
  const confDir = () => join(work, "cni", "net.d");
  const handoffDir = () => join(work, "agent", "pods");

  function startAgent(): ChildProcess {
    const log = openSync(join(work, "agent.log"), "a");
    return spawn(
      process.execPath,
      [agentBin, "--host", "127.0.0.1", "--port", "0", "--state-dir", join(work, "agent"), "--node-name", KWOK_NODE, "--kubeconfig", env.kubeconfigPath, "--cni-bin-dir", binDir(), "--cni-conf-dir", confDir(), "--resync-interval", "1000"],
      { stdio: ["ignore", log, log] },
    );
  }

  async function stopAgent(signal: NodeJS.Signals): Promise<void> {
    const child = agent;
    agent = undefined;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((r) => child.once("exit", r));
    child.kill(signal);
    await exited;
  }

  /** Runs the installed plugin as a runtime does; returns its exit code and output. */
  async function plugin(command: "ADD" | "DEL", sandbox: { netns: string; containerId: string; pod: Pod }): Promise<{ code: number; out: string }> {
    const conflist = JSON.parse(readFileSync(join(confDir(), "10-pods.conflist"), "utf8")) as { cniVersion: string; name: string; plugins: Array<Record<string, unknown>> };
    const entry = conflist.plugins.find((p) => p["type"] === "kne-cni")!;
    const prevResult = { cniVersion: "1.0.0", interfaces: [{ name: "eth0", sandbox: `/var/run/netns/${sandbox.netns}` }], ips: [{ address: `${sandbox.pod.status!.podIP}/32`, interface: 0 }] };
    const child = spawn(join(binDir(), "kne-cni"), [], {
      env: {
        PATH: process.env.PATH ?? "",
        CNI_COMMAND: command,
        CNI_CONTAINERID: sandbox.containerId,
        CNI_NETNS: `/var/run/netns/${sandbox.netns}`,
        CNI_IFNAME: "eth0",
        CNI_PATH: binDir(),
        CNI_ARGS: `IgnoreUnknown=1;K8S_POD_NAMESPACE=${sandbox.pod.metadata.namespace};K8S_POD_NAME=${sandbox.pod.metadata.name};K8S_POD_INFRA_CONTAINER_ID=${sandbox.containerId};K8S_POD_UID=${sandbox.pod.metadata.uid}`,
      },
      stdio: ["pipe", "pipe", "inherit"],
    });
    child.stdin.end(JSON.stringify({ cniVersion: conflist.cniVersion, name: conflist.name, ...entry, ...(command === "ADD" ? { prevResult } : {}) }));
    let out = "";
    child.stdout.on("data", (c: Buffer) => (out += c.toString()));
    const code = await new Promise<number>((r) => child.on("exit", (c) => r(c ?? -1)));
    return { code, out };
  }

  const linkOf = async (a: string) => ((await kube.list(resourceTypes.link, { namespace: TOPOLOGY })).items as LinkObj[]).find((l) => l.spec.a === a);

  beforeAll(async () => {
    env = await acquireTestenv("cni-kwok", { kwokNodes: 1 });
    work = mkdtempSync(join(tmpdir(), "kne-cluster-mode-"));
    mkdirSync(binDir(), { recursive: true });
    mkdirSync(confDir(), { recursive: true });
    // The cluster's own network, as the first (and only) conflist: the agent chains after it.
    writeFileSync(join(confDir(), "10-pods.conflist"), JSON.stringify({ cniVersion: "1.0.0", name: "pods", plugins: [{ type: "bridge", bridge: "unused0" }] }));
    kube = new KubeClient({ kubeconfigPath: env.kubeconfigPath });
    backend = new KubernetesBackend({ kubeconfigPath: env.kubeconfigPath, operatorMode: "pod", logger: createLogger({ name: "test", level: process.env["KNE_TEST_LOG"] ?? "silent" }) });
    const transport = createRouterTransport((router) => registerManagerServices(router, createManagerServices(backend)));
    api = createClient(managerv1.TopologyService, transport);
    linkApi = createClient(managerv1.LinkService, transport);
    agent = startAgent();
    await until("the plugin installed", 60_000, async () => (existsSync(join(binDir(), "kne-cni")) ? true : undefined));
  }, TESTENV_UP_TIMEOUT_MS);

  afterAll(async () => {
    await api?.deleteTopology({ name: TOPOLOGY }).catch(() => undefined);
    await stopAgent("SIGTERM");
    for (const { netns } of sandboxes.values()) await run("ip", ["netns", "del", netns]).catch(() => undefined);
    await backend?.close();
    kube?.close();
    await env?.release();
    if (work) rmSync(work, { recursive: true, force: true });
  }, 300_000);

  it("wires the handed-off sandboxes and writes the Links' status", async () => {
    const node = (name: string) => create(topo.NodeSchema, { name, vendor: topo.Vendor.HOST });
    const topology = create(topo.TopologySchema, {
      name: TOPOLOGY,
      nodes: [node("r1"), node("r2"), node("r3")],
      links: [
        create(topo.LinkSchema, { aNode: "r1", aInt: "eth1", zNode: "r2", zInt: "eth1" }),
        create(topo.LinkSchema, { aNode: "r2", aInt: "eth2", zNode: "r3", zInt: "eth1" }),
      ],
    });
    await api.createTopology({ topology, timeout: { seconds: 120n, nanos: 0 } });
    const pods = (await kube.list(resourceTypes.pod, { namespace: TOPOLOGY })).items as Pod[];
    expect(pods.map((p) => p.spec.nodeName)).toEqual([KWOK_NODE, KWOK_NODE, KWOK_NODE]);
    for (const pod of pods) {
      const name = pod.metadata.labels!["kne.dev/node"]!;
      const sandbox = { netns: `cni-ktest-${tag}-${name}`, containerId: `ktest${tag}${name}`, pod };
      await run("ip", ["netns", "add", sandbox.netns]);
      sandboxes.set(name, sandbox);
      const r = await plugin("ADD", sandbox);
      expect(r.code).toBe(0);
      // The previous result, unchanged.
      expect(JSON.parse(r.out)).toMatchObject({ interfaces: [{ name: "eth0" }], ips: [{ address: `${pod.status!.podIP}/32` }] });
    }
    const ns = (n: string) => sandboxes.get(n)!.netns;
    await until("r1:eth1, r2:eth1/eth2, r3:eth1 up with carrier", 30_000, async () => {
      for (const [n, i] of [["r1", "eth1"], ["r2", "eth1"], ["r2", "eth2"], ["r3", "eth1"]] as const) {
        if (!(await linkFlags(ns(n), i))?.includes("LOWER_UP")) return undefined;
      }
      return true;
    });
    await until("both Links' status Up", 30_000, async () => {
      const all = (await kube.list(resourceTypes.link, { namespace: TOPOLOGY })).items as LinkObj[];
      return all.length === 2 && all.every((l) => l.status?.operState === "Up" && l.status.aOperState === "Up" && l.status.zOperState === "Up") ? true : undefined;
    });
  }, 300_000);

  it("SetLinkState reaches the interfaces and the Link's status", async () => {
    await linkApi.setLinkState({ topology: TOPOLOGY, link: "r1:eth1", state: topo.LinkState.DOWN });
    await until("r1:eth1 admin down", 30_000, async () => ((await linkFlags(sandboxes.get("r1")!.netns, "eth1"))?.includes("UP") ? undefined : true));
    await until("the Link's status Down", 30_000, async () => ((await linkOf("r1:eth1"))?.status?.operState === "Down" ? true : undefined));
    expect((await linkOf("r1:eth1"))!.status).toMatchObject({ aOperState: "Down", zOperState: "Down" });
    // One end only: the other end is up without carrier.
    await linkApi.setLinkState({ topology: TOPOLOGY, link: "r1:eth1", state: topo.LinkState.UP, endpoint: "r2:eth1" });
    await until("the Link's status: a Down, z LowerLayerDown", 30_000, async () => {
      const s = (await linkOf("r1:eth1"))?.status;
      return s?.aOperState === "Down" && s.zOperState === "LowerLayerDown" ? true : undefined;
    });
    await linkApi.setLinkState({ topology: TOPOLOGY, link: "r1:eth1", state: topo.LinkState.UP });
    await until("the Link's status Up again", 30_000, async () => ((await linkOf("r1:eth1"))?.status?.operState === "Up" ? true : undefined));
  }, 120_000);

  it("finds a sandbox by the pod's address when its handoff is gone; DEL removes a handoff", async () => {
    const r3 = sandboxes.get("r3")!;
    // The sandbox holds the pod's address, as eth0 of a real one would.
    await run("ip", ["-n", r3.netns, "addr", "add", `${r3.pod.status!.podIP}/32`, "dev", "lo"]);
    const before = await run("ip", ["-n", r3.netns, "-j", "link", "show", "dev", "eth1"]);
    const ifindex = (JSON.parse(before.stdout) as Array<{ ifindex: number }>)[0]!.ifindex;
    await stopAgent("SIGKILL");
    const r = await plugin("DEL", r3);
    expect(r.code).toBe(0);
    expect(readdirSync(handoffDir()).some((f) => f.startsWith(r3.containerId))).toBe(false);
    expect((await plugin("DEL", r3)).code).toBe(0);
    agent = startAgent();
    await new Promise((r) => setTimeout(r, 5_000));
    const after = await run("ip", ["-n", r3.netns, "-j", "link", "show", "dev", "eth1"]);
    expect((JSON.parse(after.stdout) as Array<{ ifindex: number; flags: string[] }>)[0]).toMatchObject({ ifindex });
  }, 120_000);

  it("deleting the topology removes every marked interface, even while the namespaces stay", async () => {
    await api.deleteTopology({ name: TOPOLOGY });
    await until("no interface of the topology in the sandboxes", 60_000, async () => {
      for (const { netns } of sandboxes.values()) {
        const { stdout } = await run("ip", ["-n", netns, "-d", "link", "show"]);
        if (stdout.includes(`kne:${TOPOLOGY}:`)) return undefined;
      }
      return true;
    });
    await until("no agent state of the topology", 30_000, async () =>
      !existsSync(join(work, "agent", "topologies")) || !readdirSync(join(work, "agent", "topologies")).some((f) => f.startsWith(TOPOLOGY)) ? true : undefined,
    );
  }, 120_000);
});
