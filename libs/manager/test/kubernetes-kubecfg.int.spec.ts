// Upstream's `kubecfg` on two real control planes at once (each its own etcd, API server,
// controller-manager, scheduler and kwok nodes, on free loopback ports): the topology-manager
// process runs the kubernetes backend on cluster A with --kubecfg-dir holding B's kubeconfig.
// Through a gRPC client of controller.TopologyManager, CreateTopology with kubecfg = B makes the
// Topology in B and nothing in A; ShowTopology, ResetConfig and DeleteTopology (which name only
// the topology, as upstream's requests do) reach B; a kubecfg naming A's own kubeconfig creates
// in A; a kubeconfig outside the directory is refused without being read.
import { copyFile, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import { Code, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { KubeClient, isNotFound, resourceTypes } from "@kne/kube";
import { controller, topo } from "@kne/proto";
import { startServerProcess, type ServerProcess } from "@kne/rpc/testing";
import { acquireTestenv, k8sSkipReason, TESTENV_UP_TIMEOUT_MS, until, type Testenv } from "@kne/testenv";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { workspaceRoot } from "./helpers.ts";

const skip = k8sSkipReason !== undefined;
if (skip) console.log(`kubecfg tests skipped: ${k8sSkipReason}`);

const managerBin = join(workspaceRoot, "apps/topology-manager/bin/topology-manager.mjs");

const hostTopology = (name: string) =>
  create(topo.TopologySchema, {
    name,
    nodes: [
      { name: "h1", vendor: topo.Vendor.HOST },
      { name: "h2", vendor: topo.Vendor.HOST },
    ],
    links: [{ aNode: "h1", aInt: "eth1", zNode: "h2", zInt: "eth1" }],
  });

async function topologyIn(kube: KubeClient, name: string): Promise<boolean> {
  return kube.get(resourceTypes.topology, undefined, name).then(
    () => true,
    (err: unknown) => {
      if (isNotFound(err)) return false;
      throw err;
    },
  );
}

describe.skipIf(skip)("upstream's kubecfg: a topology made, shown and deleted in the cluster the request names", () => {
  let a: Testenv;
  let b: Testenv;
  let kubeA: KubeClient;
  let kubeB: KubeClient;
  let dir: string;
  let server: ServerProcess | undefined;
  let upstream: ReturnType<typeof createClient<typeof controller.TopologyManager>>;

  beforeAll(async () => {
    // Two private environments, brought up together: a reused one (KNE_TESTENV_KUBECONFIG)
    // could hold other tests' topologies, which the manager would reconcile too.
    const reuse = process.env.KNE_TESTENV_KUBECONFIG;
    delete process.env.KNE_TESTENV_KUBECONFIG;
    const started = Date.now();
    try {
      const both = await Promise.allSettled([acquireTestenv("kubecfg-a"), acquireTestenv("kubecfg-b")]);
      const failed = both.find((r) => r.status === "rejected");
      if (failed) {
        // The one that came up is stopped here: afterAll has nothing to release yet.
        await Promise.all(both.map((r) => (r.status === "fulfilled" ? r.value.release() : undefined)));
        throw failed.reason;
      }
      [a, b] = both.map((r) => (r as PromiseFulfilledResult<Testenv>).value) as [Testenv, Testenv];
    } finally {
      if (reuse !== undefined) process.env.KNE_TESTENV_KUBECONFIG = reuse;
    }
    console.log(`two control planes up in ${Date.now() - started} ms: A ${a.kubeConfig.getCurrentCluster()?.server}, B ${b.kubeConfig.getCurrentCluster()?.server}`);
    kubeA = new KubeClient({ kubeconfigPath: a.kubeconfigPath });
    kubeB = new KubeClient({ kubeconfigPath: b.kubeconfigPath });
    dir = await mkdtemp(join(tmpdir(), "kne-kubecfg-"));
    await mkdir(join(dir, "clusters"));
    await copyFile(b.kubeconfigPath, join(dir, "clusters", "b.yaml"));
    await copyFile(b.kubeconfigPath, join(dir, "outside.yaml"));
    server = await startServerProcess(
      managerBin,
      ["--backend", "kubernetes", "--kubeconfig", a.kubeconfigPath, "--kubecfg-dir", join(dir, "clusters"), "--operator-mode", "pod", "--log-level", "info"],
      120_000,
    );
    upstream = createClient(controller.TopologyManager, createGrpcTransport({ baseUrl: server.url }));
  }, TESTENV_UP_TIMEOUT_MS);

  afterAll(async () => {
    for (const name of ["in-b", "in-a"]) await upstream?.deleteTopology({ topologyName: name }).catch(() => undefined);
    await server?.stop("SIGTERM");
    kubeA?.close();
    kubeB?.close();
    await Promise.all([a?.release(), b?.release()]);
    if (dir) await rm(dir, { recursive: true, force: true });
  }, 300_000);

  it("creates in B with kubecfg = B's kubeconfig; nothing of it in A; Show, Reset and Delete follow it to B", async () => {
    let t0 = Date.now();
    const created = await upstream.createTopology({ topology: hostTopology("in-b"), kubecfg: "b.yaml" }, { timeoutMs: 180_000 });
    console.log(`CreateTopology in B (cluster started lazily): ${Date.now() - t0} ms`);
    expect(created.topologyName).toBe("in-b");
    expect(created.state).toBe(controller.TopologyState.RUNNING);
    expect(await topologyIn(kubeB, "in-b")).toBe(true);
    expect(await topologyIn(kubeA, "in-b")).toBe(false);
    const podsB = await kubeB.list(resourceTypes.pod, { labelSelector: "kne.dev/topology=in-b" });
    expect(podsB.items.map((p) => p.metadata.labels?.["kne.dev/node"]).sort()).toEqual(["h1", "h2"]);
    expect((await kubeA.list(resourceTypes.pod, { labelSelector: "kne.dev/topology=in-b" })).items).toEqual([]);
    expect(server!.lines.some((l) => l["msg"] === "started the cluster of a kubecfg" && l["kubecfg"] === join(dir, "clusters", "b.yaml"))).toBe(true);

    t0 = Date.now();
    const shown = await upstream.showTopology({ topologyName: "in-b" });
    console.log(`ShowTopology of B's topology: ${Date.now() - t0} ms`);
    expect(shown.state).toBe(controller.TopologyState.RUNNING);
    expect(shown.topology?.nodes.map((n) => n.name).sort()).toEqual(["h1", "h2"]);

    // HOST keeps no config: the refusal comes from B's backend and says so.
    await expect(upstream.resetConfig({ topologyName: "in-b", deviceName: "h1" })).rejects.toMatchObject({
      code: Code.Unimplemented,
      rawMessage: expect.stringContaining('(in the cluster of kubecfg "'),
    });

    // The name is taken: not again in A.
    await expect(upstream.createTopology({ topology: hostTopology("in-b") })).rejects.toMatchObject({
      code: Code.AlreadyExists,
      rawMessage: expect.stringContaining("already exists in the cluster of kubecfg"),
    });

    t0 = Date.now();
    await upstream.deleteTopology({ topologyName: "in-b" }, { timeoutMs: 180_000 });
    console.log(`DeleteTopology in B: ${Date.now() - t0} ms`);
    await until("in-b gone from B", 60_000, async () => ((await topologyIn(kubeB, "in-b")) ? undefined : true));
    await expect(upstream.showTopology({ topologyName: "in-b" })).rejects.toMatchObject({ code: Code.NotFound });
  });

  it("creates in the manager's own cluster when kubecfg names its own kubeconfig (outside --kubecfg-dir)", async () => {
    const created = await upstream.createTopology({ topology: hostTopology("in-a"), kubecfg: a.kubeconfigPath }, { timeoutMs: 180_000 });
    expect(created.state).toBe(controller.TopologyState.RUNNING);
    expect(await topologyIn(kubeA, "in-a")).toBe(true);
    expect(await topologyIn(kubeB, "in-a")).toBe(false);
    await upstream.deleteTopology({ topologyName: "in-a" }, { timeoutMs: 180_000 });
    await until("in-a gone from A", 60_000, async () => ((await topologyIn(kubeA, "in-a")) ? undefined : true));
  });

  it("refuses a kubeconfig outside --kubecfg-dir, a missing one, and one that is no kubeconfig, naming the kubecfg", async () => {
    const outside = join(dir, "outside.yaml");
    await expect(upstream.createTopology({ topology: hostTopology("refused"), kubecfg: outside })).rejects.toMatchObject({
      code: Code.PermissionDenied,
      rawMessage: expect.stringContaining(`kubecfg "${outside}"`),
    });
    await expect(upstream.createTopology({ topology: hostTopology("refused"), kubecfg: "missing.yaml" })).rejects.toMatchObject({
      code: Code.InvalidArgument,
      rawMessage: expect.stringContaining('kubecfg "missing.yaml" does not exist'),
    });
    await writeFile(join(dir, "clusters", "garbage.yaml"), "clusters: [\n");
    await expect(upstream.createTopology({ topology: hostTopology("refused"), kubecfg: "garbage.yaml" })).rejects.toMatchObject({
      code: Code.InvalidArgument,
      rawMessage: expect.stringContaining('kubecfg "garbage.yaml" is not a usable kubeconfig'),
    });
    expect(await topologyIn(kubeA, "refused")).toBe(false);
    expect(await topologyIn(kubeB, "refused")).toBe(false);
  });
});
