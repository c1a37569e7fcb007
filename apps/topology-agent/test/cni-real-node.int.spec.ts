/**
 * The agent in cluster mode on the test environment's real kubelet node, as a host process
 * (the node cannot run the agent's image yet): it installs its chained CNI plugin into the
 * node's own CNI directories, then a three-node HOST triangle (pods of the probe image built
 * for the node, whose init container waits for the data interfaces) is created through the
 * manager's API on the Kubernetes backend. Proven from inside the pods' namespaces (the ones
 * the runtime handed to the plugin): eth0 from the bridge intact and eth1/eth2 wired to the
 * right peers; a ping over a data link; each Link's status written from what the pods show;
 * SetLinkState reaching the pod's interface and the Link's status; kill -9 of
 * the agent losing no wire; a sandbox whose handoff was lost found by the pod's address; a deleted pod's replacement wired again; a deleted topology
 * leaving no handoff, no agent state and no interface of ours.
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { create } from "@bufbuild/protobuf";
import { createClient, createRouterTransport } from "@connectrpc/connect";
import { uninstallCniPlugin } from "@kne/agent";
import { KubeClient, resourceTypes, type KubeObject } from "@kne/kube";
import { createManagerServices, registerManagerServices } from "@kne/manager";
import { KubernetesBackend } from "@kne/manager/kubernetes";
import { managerv1, topo } from "@kne/proto";
import { createLogger } from "@kne/telemetry";
import { REAL_NODE_NAME, TESTENV_UP_TIMEOUT_MS, acquireTestenv, k8sSkipReason, until, type Testenv } from "@kne/testenv";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const run = promisify(execFile);
const agentBin = resolve(dirname(fileURLToPath(import.meta.url)), "..", "bin", "topology-agent.mjs");
const TOPOLOGY = "cni-tri";

const skip = k8sSkipReason ?? (process.getuid?.() !== 0 ? "needs root (the real node, network namespaces)" : undefined);
if (skip) console.log(`CNI real-node test skipped: ${skip}`);

interface IpLink {
  ifname: string;
  ifindex: number;
  flags: string[];
  link_type?: string;
  ifalias?: string;
  addr_info?: Array<{ family: string; local: string; prefixlen: number }>;
  linkinfo?: { info_kind?: string };
}

async function links(netns: string): Promise<Map<string, IpLink>> {
  const { stdout } = await run("ip", ["-n", netns, "-j", "-d", "addr", "show"]);
  return new Map((JSON.parse(stdout) as IpLink[]).map((l) => [l.ifname, l]));
}

/** The state file of the environment: the one this test started, or the reused one beside its kubeconfig. */
function stateOf(env: Testenv): Record<string, string> {
  if (Object.keys(env.state).length > 0) return env.state;
  const out: Record<string, string> = {};
  for (const line of readFileSync(join(dirname(env.kubeconfigPath), "state.env"), "utf8").split("\n")) {
    const eq = line.indexOf("=");
    if (eq > 0) out[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return out;
}

describe.skipIf(skip)("topology agent as chained CNI plugin on a real node", () => {
  let env: Testenv;
  let kube: KubeClient;
  let backend: KubernetesBackend;
  let api: ReturnType<typeof createClient<typeof managerv1.TopologyService>>;
  let linkApi: ReturnType<typeof createClient<typeof managerv1.LinkService>>;
  let work: string;
  let agent: ChildProcess | undefined;
  let state: Record<string, string>;
  const stateDir = () => join(work, "agent");
  const handoffDir = () => join(work, "agent", "pods");

  function startAgent(): ChildProcess {
    const log = openSync(join(work, "agent.log"), "a");
    const child = spawn(
      process.execPath,
      [
        agentBin,
        "--host", "127.0.0.1",
        "--port", "0",
        "--state-dir", stateDir(),
        "--node-name", REAL_NODE_NAME,
        "--kubeconfig", env.kubeconfigPath,
        "--cni-bin-dir", state.NODE_CNI_BIN_DIR!,
        "--cni-conf-dir", state.NODE_CNI_CONF_DIR!,
        "--resync-interval", "2000",
      ],
      { stdio: ["ignore", log, log] },
    );
    return child;
  }

  async function stopAgent(signal: NodeJS.Signals): Promise<void> {
    const child = agent;
    agent = undefined;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((r) => child.once("exit", r));
    child.kill(signal);
    await exited;
  }

  const seenNetns = new Map<string, string>();

  /** Each node's pod and the namespace its sandbox handed to the plugin. */
  async function podNamespaces(): Promise<Map<string, { pod: string; uid: string; netns: string }>> {
    const pods = (await kube.list(resourceTypes.pod, { namespace: TOPOLOGY })).items as Array<KubeObject & { status?: { phase?: string } }>;
    const handoffs = readdirSync(handoffDir())
      .filter((f) => f.endsWith(".json"))
      .map((f) => JSON.parse(readFileSync(join(handoffDir(), f), "utf8")) as { netns: string; podName: string; podUid: string; addedAt: string });
    const out = new Map<string, { pod: string; uid: string; netns: string }>();
    for (const pod of pods) {
      if (pod.metadata.deletionTimestamp) continue;
      const h = handoffs.filter((x) => x.podName === pod.metadata.name && (!x.podUid || x.podUid === pod.metadata.uid)).sort((a, b) => b.addedAt.localeCompare(a.addedAt))[0];
      // A sandbox seen before keeps its namespace when its handoff file is removed on purpose.
      const netns = h ? h.netns.split("/").at(-1)! : seenNetns.get(pod.metadata.uid!);
      if (netns) {
        seenNetns.set(pod.metadata.uid!, netns);
        out.set(pod.metadata.labels!["kne.dev/node"]!, { pod: pod.metadata.name, uid: pod.metadata.uid!, netns });
      }
    }
    return out;
  }

  beforeAll(async () => {
    env = await acquireTestenv("cni", { realNode: true, kwokNodes: 0 });
    state = stateOf(env);
    if (!state.NODE_CNI_BIN_DIR || !state.NODE_CNI_CONF_DIR) throw new Error("the test environment records no NODE_CNI_BIN_DIR/NODE_CNI_CONF_DIR: it predates the node's own CNI directories; run testenv.sh down and up again");
    kube = new KubeClient({ kubeconfigPath: env.kubeconfigPath });
    // Beside kwok nodes the real node is tainted and the topology's pods would land on kwok's.
    const realNode = (await kube.get(resourceTypes.node, undefined, REAL_NODE_NAME)) as KubeObject & { spec?: { taints?: Array<{ key: string }> } };
    if (realNode.spec?.taints?.some((t) => t.key === "kne.dev/real-node")) {
      throw new Error(`${env.kubeconfigPath}: the real node is tainted (the environment has kwok nodes); this test needs it alone: KNE_TESTENV_NODES=0, or no KNE_TESTENV_KUBECONFIG`);
    }
    work = mkdtempSync(join(tmpdir(), "kne-cni-test-"));
    agent = startAgent();
    await until("the CNI plugin chained into the node's conflist", 60_000, async () => {
      const conf = readdirSync(state.NODE_CNI_CONF_DIR!).filter((f) => f.endsWith(".conflist")).sort()[0];
      const list = JSON.parse(readFileSync(join(state.NODE_CNI_CONF_DIR!, conf!), "utf8")) as { plugins: Array<{ type: string }> };
      return list.plugins.at(-1)?.type === "kne-cni" && existsSync(join(state.NODE_CNI_BIN_DIR!, "kne-cni")) ? true : undefined;
    });
    backend = new KubernetesBackend({ kubeconfigPath: env.kubeconfigPath, operatorMode: "pod", logger: createLogger({ name: "test", level: process.env["KNE_TEST_LOG"] ?? "silent" }) });
    const transport = createRouterTransport((router) => registerManagerServices(router, createManagerServices(backend)));
    api = createClient(managerv1.TopologyService, transport);
    linkApi = createClient(managerv1.LinkService, transport);
  }, TESTENV_UP_TIMEOUT_MS);

  afterAll(async () => {
    await api?.deleteTopology({ name: TOPOLOGY }).catch(() => undefined);
    await stopAgent("SIGTERM");
    await backend?.close();
    kube?.close();
    if (env && !env.owned && state?.NODE_CNI_BIN_DIR) {
      uninstallCniPlugin({ confDir: state.NODE_CNI_CONF_DIR! });
    }
    await env?.release();
    if (work) {
      // The agent's log outlives the test, for a failure to be read.
      if (existsSync(join(work, "agent.log"))) copyFileSync(join(work, "agent.log"), join(tmpdir(), "kne-cni-real-node-agent.log"));
      rmSync(work, { recursive: true, force: true });
    }
  }, 300_000);

  it("creates a HOST triangle whose pods keep eth0 and get eth1/eth2 wired to their peers", async () => {
    const image = state.IMAGE_probe!;
    const node = (name: string) =>
      create(topo.NodeSchema, { name, vendor: topo.Vendor.HOST, config: create(topo.ConfigSchema, { image, initImage: image, command: ["/probe"], args: ["serve"] }) });
    const link = (a: string, ai: string, z: string, zi: string) => create(topo.LinkSchema, { aNode: a, aInt: ai, zNode: z, zInt: zi });
    const topology = create(topo.TopologySchema, {
      name: TOPOLOGY,
      nodes: [node("r1"), node("r2"), node("r3")],
      links: [link("r1", "eth1", "r2", "eth1"), link("r2", "eth2", "r3", "eth1"), link("r3", "eth2", "r1", "eth2")],
    });
    const started = Date.now();
    const created = await api.createTopology({ topology, timeout: { seconds: 180n, nanos: 0 } });
    console.log(`cni: 3 pods, 3 links: create → Ready (pods' init waited for their wires) ${Date.now() - started} ms`);
    expect(created.status!.phase).toBe(managerv1.TopologyPhase.RUNNING);

    const ns = await podNamespaces();
    expect([...ns.keys()].sort()).toEqual(["r1", "r2", "r3"]);
    const seen = new Map<string, Map<string, IpLink>>();
    for (const [name, { netns }] of ns) seen.set(name, await links(netns));
    for (const [name, l] of seen) {
      // eth0: the bridge plugin's veth with its pod address, untouched.
      const eth0 = l.get("eth0")!;
      expect(eth0.addr_info?.find((a) => a.family === "inet")?.local, `${name} eth0`).toMatch(/^198\.18\.(1[2-8][0-9]|19[01])\.\d+$/);
      expect(eth0.flags).toContain("LOWER_UP");
      for (const ifname of ["eth1", "eth2"]) {
        const d = l.get(ifname);
        expect(d?.linkinfo?.info_kind, `${name} ${ifname}`).toBe("veth");
        expect(d!.flags).toEqual(expect.arrayContaining(["UP", "LOWER_UP"]));
        expect(d!.ifalias).toMatch(new RegExp(`^kne:${TOPOLOGY}:`));
      }
    }
    // The right peers: each wire's two ends carry the same link's marker.
    expect(seen.get("r1")!.get("eth1")!.ifalias).toBe(seen.get("r2")!.get("eth1")!.ifalias);
    expect(seen.get("r2")!.get("eth2")!.ifalias).toBe(seen.get("r3")!.get("eth1")!.ifalias);
    expect(seen.get("r3")!.get("eth2")!.ifalias).toBe(seen.get("r1")!.get("eth2")!.ifalias);
    const pods = (await kube.list(resourceTypes.pod, { namespace: TOPOLOGY })).items as Array<KubeObject & { status: { initContainerStatuses?: Array<{ state: { terminated?: { exitCode: number } } }> } }>;
    for (const pod of pods) expect(pod.status.initContainerStatuses?.every((s) => s.state.terminated?.exitCode === 0)).toBe(true);
  }, 300_000);

  it("carries traffic over a data link, and SetLinkState reaches the pod's interface", async () => {
    const ns = await podNamespaces();
    const r1 = ns.get("r1")!.netns;
    const r2 = ns.get("r2")!.netns;
    // Test-range addresses inside the pods' own namespaces: nothing leaves them.
    await run("ip", ["-n", r1, "addr", "replace", "198.19.255.1/30", "dev", "eth1"]);
    await run("ip", ["-n", r2, "addr", "replace", "198.19.255.2/30", "dev", "eth1"]);
    const { stdout } = await run("ip", ["netns", "exec", r1, "ping", "-c", "3", "-i", "0.2", "-W", "2", "198.19.255.2"]);
    expect(stdout).toMatch(/3 packets transmitted, 3 received/);

    // The agent writes what it observes to the Links' status.
    const statusOf = async (a: string) =>
      ((await kube.list(resourceTypes.link, { namespace: TOPOLOGY })).items as Array<KubeObject & { spec: { a: string; z: string }; status?: { operState?: string; aOperState?: string; zOperState?: string } }>).find(
        (l) => l.spec.a === a || l.spec.z === a,
      )?.status;
    await until("every Link's status Up", 30_000, async () => {
      const all = (await kube.list(resourceTypes.link, { namespace: TOPOLOGY })).items as Array<KubeObject & { status?: { operState?: string } }>;
      return all.length === 3 && all.every((l) => l.status?.operState === "Up") ? true : undefined;
    });
    let started = Date.now();
    await linkApi.setLinkState({ topology: TOPOLOGY, link: "r1:eth1", state: topo.LinkState.DOWN });
    await until("r1:eth1 down in the pod", 30_000, async () => ((await links(r1)).get("eth1")!.flags.includes("UP") ? undefined : true));
    console.log(`cni: SetLinkState down → pod interface down ${Date.now() - started} ms`);
    await until("r2:eth1 without carrier", 10_000, async () => ((await links(r2)).get("eth1")!.flags.includes("LOWER_UP") ? undefined : true));
    await until("the Link's status Down", 30_000, async () => ((await statusOf("r1:eth1"))?.operState === "Down" ? true : undefined));
    expect(await statusOf("r1:eth1")).toMatchObject({ aOperState: "Down", zOperState: "Down" });
    started = Date.now();
    await linkApi.setLinkState({ topology: TOPOLOGY, link: "r1:eth1", state: topo.LinkState.UP });
    await until("r1:eth1 up again", 30_000, async () => ((await links(r1)).get("eth1")!.flags.includes("LOWER_UP") ? true : undefined));
    console.log(`cni: SetLinkState up → pod interface up ${Date.now() - started} ms`);
    await until("the Link's status Up again", 30_000, async () => ((await statusOf("r1:eth1"))?.operState === "Up" ? true : undefined));
  }, 120_000);

  it("kill -9 of the agent loses no wire; the restarted agent changes nothing", async () => {
    const before = new Map<string, Map<string, IpLink>>();
    const ns = await podNamespaces();
    for (const [name, { netns }] of ns) before.set(name, await links(netns));
    await stopAgent("SIGKILL");
    agent = startAgent();
    // Give the restarted agent time for several passes (its resync is 2 s here).
    await new Promise((r) => setTimeout(r, 6_000));
    for (const [name, { netns }] of ns) {
      const after = await links(netns);
      for (const ifname of ["eth0", "eth1", "eth2"]) {
        expect(after.get(ifname)?.ifindex, `${name} ${ifname} is the same device`).toBe(before.get(name)!.get(ifname)!.ifindex);
        expect(after.get(ifname)!.flags).toContain("LOWER_UP");
      }
    }
    const log = readFileSync(join(work, "agent.log"), "utf8");
    expect(log).toContain("cluster mode started");
  }, 120_000);

  it("a pod whose handoff was lost is found by its address; its wires stay", async () => {
    const ns = await podNamespaces();
    const r3 = ns.get("r3")!;
    const before = await links(r3.netns);
    await stopAgent("SIGKILL");
    for (const f of readdirSync(handoffDir())) {
      const h = JSON.parse(readFileSync(join(handoffDir(), f), "utf8")) as { podName: string };
      if (h.podName === r3.pod) rmSync(join(handoffDir(), f));
    }
    agent = startAgent();
    await new Promise((r) => setTimeout(r, 6_000));
    const after = await links(r3.netns);
    for (const ifname of ["eth1", "eth2"]) {
      expect(after.get(ifname)?.ifindex, `r3 ${ifname} is the same device`).toBe(before.get(ifname)!.ifindex);
      expect(after.get(ifname)!.flags).toContain("LOWER_UP");
    }
  }, 120_000);

  it("a deleted pod's replacement is wired again", async () => {
    const before = await podNamespaces();
    const old = before.get("r2")!;
    const started = Date.now();
    await kube.delete(resourceTypes.pod, TOPOLOGY, old.pod);
    const again = await until("r2's new pod wired", 120_000, async () => {
      const now = (await podNamespaces()).get("r2");
      if (!now || now.uid === old.uid || now.netns === old.netns) return undefined;
      const l = await links(now.netns);
      const r1 = await links(before.get("r1")!.netns);
      return l.get("eth1")?.flags.includes("LOWER_UP") && l.get("eth2")?.flags.includes("LOWER_UP") && r1.get("eth1")?.flags.includes("LOWER_UP") ? now : undefined;
    });
    console.log(`cni: pod deleted → replacement wired ${Date.now() - started} ms`);
    const l = await links(again.netns);
    expect(l.get("eth0")!.addr_info?.some((a) => a.family === "inet")).toBe(true);
    expect(l.get("eth1")!.ifalias).toBe((await links(before.get("r1")!.netns)).get("eth1")!.ifalias);
    expect(l.get("eth2")!.ifalias).toBe((await links(before.get("r3")!.netns)).get("eth1")!.ifalias);
    await until("the topology Ready again", 120_000, async () => ((await api.getTopology({ name: TOPOLOGY })).status?.phase === managerv1.TopologyPhase.RUNNING ? true : undefined));
  }, 300_000);

  it("deleting the topology leaves no handoff, no agent state and no interface of ours", async () => {
    const ns = [...(await podNamespaces()).values()].map((p) => p.netns);
    const started = Date.now();
    await api.deleteTopology({ name: TOPOLOGY });
    await until("the pods' namespaces gone", 120_000, async () => {
      const { stdout } = await run("ip", ["netns", "list"]);
      return ns.every((n) => !stdout.includes(n)) ? true : undefined;
    });
    await until("no handoff and no agent state of the topology", 60_000, async () => {
      const handoffs = readdirSync(handoffDir()).filter((f) => f.endsWith(".json"));
      const states = existsSync(join(stateDir(), "topologies")) ? readdirSync(join(stateDir(), "topologies")).filter((f) => f.startsWith(TOPOLOGY)) : [];
      return handoffs.length === 0 && states.length === 0 ? true : undefined;
    });
    console.log(`cni: delete → nothing left on the node ${Date.now() - started} ms`);
    // No interface marked for the topology anywhere: the host and every namespace.
    const { stdout } = await run("ip", ["-j", "-d", "-all", "link", "show"]).catch(() => ({ stdout: "" }));
    expect(stdout).not.toContain(`kne:${TOPOLOGY}:`);
    const host = await run("ip", ["-d", "link", "show"]);
    expect(host.stdout).not.toContain(`kne:${TOPOLOGY}:`);
    const { stdout: netnsList } = await run("ip", ["netns", "list"]);
    for (const line of netnsList.split("\n").filter((l) => l.trim() !== "")) {
      const name = line.split(" ")[0]!;
      const inside = await run("ip", ["-n", name, "-d", "link", "show"]).catch(() => ({ stdout: "" }));
      expect(inside.stdout, name).not.toContain(`kne:${TOPOLOGY}:`);
    }
  }, 300_000);
});
