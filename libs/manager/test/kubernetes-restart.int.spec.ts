// A topology-manager process (--backend kubernetes) is killed with SIGKILL in the middle of
// creating upstream's 150-node cEOS ring, while only part of the pods exist; a new process
// converges the same Topology to Ready: every node ends with exactly one pod, Service,
// Device, every link with one Link object, and the pods made before the kill are kept.
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { KubeClient, resourceTypes, type KubeObject } from "@kne/kube";
import { managerv1 } from "@kne/proto";
import { startServerProcess, type ServerProcess } from "@kne/rpc/testing";
import { loadTopology } from "@kne/topology";
import { acquireTestenv, k8sSkipReason, TESTENV_UP_TIMEOUT_MS, until, type Testenv } from "@kne/testenv";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { workspaceRoot } from "./helpers.ts";

const skip = k8sSkipReason !== undefined;
if (skip) console.log(`kubernetes restart test skipped: ${k8sSkipReason}`);

const bin = fileURLToPath(new URL("../../../apps/topology-manager/bin/topology-manager.mjs", import.meta.url));
const ring = join(workspaceRoot, "..", "shared", "kne-compat", "upstream-examples", "examples", "arista", "ceos-150", "ceos-150.pb.txt");

describe.skipIf(skip)("kubernetes backend: a manager killed mid-create converges after restart", () => {
  let env: Testenv;
  let kube: KubeClient;
  let manager: ServerProcess | undefined;

  const startManager = () => startServerProcess(bin, ["--backend", "kubernetes", "--kubeconfig", env.kubeconfigPath, "--operator-mode", "pod", "--log-level", "info"], 60_000);
  const labelled = async (rt: (typeof resourceTypes)[keyof typeof resourceTypes]) => (await kube.list(rt, { namespace: "ceos-150", labelSelector: "kne.dev/topology=ceos-150" })).items;

  beforeAll(async () => {
    env = await acquireTestenv("k8s-restart");
    kube = new KubeClient({ kubeconfigPath: env.kubeconfigPath });
  }, TESTENV_UP_TIMEOUT_MS);

  afterAll(async () => {
    if (manager) {
      const api = createClient(managerv1.TopologyService, createGrpcTransport({ baseUrl: manager.url }));
      await api.deleteTopology({ name: "ceos-150" }).catch(() => undefined);
      await manager.stop("SIGTERM");
    }
    kube?.close();
    await env?.release();
  }, 300_000);

  it("converges without duplicates", async () => {
    const loaded = await loadTopology(ring);
    const nodes = loaded.topology.nodes.map((n) => n.name).sort();
    manager = await startManager();
    const first = manager;
    const api = createClient(managerv1.TopologyService, createGrpcTransport({ baseUrl: first.url }));
    const creating = api.createTopology({ topology: loaded.topology, baseDir: loaded.baseDir!, timeout: { seconds: 300n, nanos: 0 } }).then(
      () => "finished",
      (e: unknown) => `failed: ${String(e)}`,
    );
    // Kill as soon as some pods exist and others do not yet.
    const before = await until("the first pods", 60_000, async () => {
      const pods = await labelled(resourceTypes.pod);
      return pods.length >= 5 ? pods : undefined;
    });
    expect(await first.stop("SIGKILL")).toBe(null);
    manager = undefined;
    const atKill = await labelled(resourceTypes.pod);
    console.log(`killed with ${before.length} pods seen, ${atKill.length} of ${nodes.length} existing after the kill`);
    expect(atKill.length).toBeLessThan(nodes.length);
    expect(await creating).toMatch(/^failed/);
    const topologyUid = (await kube.get(resourceTypes.topology, undefined, "ceos-150")).metadata.uid;

    manager = await startManager();
    const again = createClient(managerv1.TopologyService, createGrpcTransport({ baseUrl: manager.url }));
    const started = Date.now();
    const ready = await until("ceos-150 Ready after the restart", 240_000, async () => {
      const t = await again.getTopology({ name: "ceos-150" });
      return t.status!.phase === managerv1.TopologyPhase.RUNNING && t.status!.nodes.every((n) => n.phase === managerv1.NodePhase.READY) ? t : undefined;
    });
    console.log(`converged ${Date.now() - started} ms after the restart`);
    expect(ready.status!.nodes).toHaveLength(nodes.length);
    // Creating it again is refused: the first create's Topology is the one that converged.
    await expect(again.createTopology({ topology: loaded.topology, baseDir: loaded.baseDir! })).rejects.toMatchObject({ rawMessage: expect.stringContaining("already exists") });
    expect((await kube.get(resourceTypes.topology, undefined, "ceos-150")).metadata.uid).toBe(topologyUid);

    const byNode = (objs: KubeObject[]) => objs.map((o) => o.metadata.labels?.["kne.dev/node"] ?? "").sort();
    const pods = await labelled(resourceTypes.pod);
    expect(byNode(pods)).toEqual(nodes);
    expect(byNode(await labelled(resourceTypes.service))).toEqual(nodes);
    expect((await labelled(resourceTypes.device)).map((d) => d.metadata.name).sort()).toEqual(nodes);
    const links = await labelled(resourceTypes.link);
    expect(links).toHaveLength(loaded.topology.links.length);
    expect(new Set(links.map((l) => (l as KubeObject & { spec: { uid: number } }).spec.uid)).size).toBe(links.length);
    // Pods made before the kill were kept, not made again.
    const uids = new Set(pods.map((p) => p.metadata.uid));
    for (const p of atKill) expect(uids.has(p.metadata.uid), `pod ${p.metadata.name} replaced`).toBe(true);
  });
});
