// The kubernetes backend on a real control plane (etcd, kube-apiserver, controller-manager,
// scheduler; kwok nodes run the pods): upstream's multivendor example is created through
// the manager's API in pod mode, shown, its objects checked one by one, a pod deleted and
// made again by the reconciler, and the topology deleted until nothing of it remains. A
// node asking for more CPU than any host has fails the create at its timeout, naming the node
// and the scheduler's reason.
import { join } from "node:path";
import { createClient, createRouterTransport, Code, ConnectError } from "@connectrpc/connect";
import { KubeClient, ensureCrds, readManifests, resourceTypes, type KubeObject } from "@kne/kube";
import { managerv1, topo } from "@kne/proto";
import { createLogger } from "@kne/telemetry";
import { loadTopology } from "@kne/topology";
import { acquireTestenv, k8sSkipReason, TESTENV_UP_TIMEOUT_MS, until, type Testenv } from "@kne/testenv";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createManagerServices, registerManagerServices } from "../src/index.ts";
import { KubernetesBackend } from "../src/kubernetes/index.ts";
import { workspaceRoot } from "./helpers.ts";

const skip = k8sSkipReason !== undefined;
if (skip) console.log(`kubernetes backend tests skipped: ${k8sSkipReason}`);

const examples = join(workspaceRoot, "..", "shared", "kne-compat", "upstream-examples", "examples");

describe.skipIf(skip)("kubernetes backend: create, show, delete on a real control plane", () => {
  let env: Testenv;
  let backend: KubernetesBackend;
  let kube: KubeClient;
  let api: ReturnType<typeof createClient<typeof managerv1.TopologyService>>;
  let links: ReturnType<typeof createClient<typeof managerv1.LinkService>>;

  beforeAll(async () => {
    env = await acquireTestenv("k8s-lifecycle");
    kube = new KubeClient({ kubeconfigPath: env.kubeconfigPath });
    backend = new KubernetesBackend({ kubeconfigPath: env.kubeconfigPath, operatorMode: "pod", logger: createLogger({ name: "test", level: process.env["KNE_TEST_LOG"] ?? "silent" }) });
    const services = createManagerServices(backend);
    const transport = createRouterTransport((router) => registerManagerServices(router, services));
    api = createClient(managerv1.TopologyService, transport);
    links = createClient(managerv1.LinkService, transport);
  }, TESTENV_UP_TIMEOUT_MS);

  afterAll(async () => {
    // Whatever a failed test left (a reused environment would keep it).
    for (const name of ["multivendor", "too-big", "auto"]) await api?.deleteTopology({ name }).catch(() => undefined);
    await backend?.close();
    kube?.close();
    await env?.release();
  }, 180_000);

  const labelled = async (rt: (typeof resourceTypes)[keyof typeof resourceTypes], topology: string) =>
    (await kube.list(rt, { labelSelector: `kne.dev/topology=${topology}` })).items;

  it("creates upstream's multivendor topology; status, pods, services, configs, Links and Devices agree", async () => {
    const loaded = await loadTopology(join(examples, "multivendor", "multivendor.pb.txt"));
    const started = Date.now();
    const created = await api.createTopology({ topology: loaded.topology, baseDir: loaded.baseDir!, timeout: { seconds: 120n, nanos: 0 } });
    console.log(`multivendor: ${loaded.topology.nodes.length} nodes, ${loaded.topology.links.length} links, create → Ready ${Date.now() - started} ms, ${backend.client.requests.total} API requests by the manager`);
    const names = loaded.topology.nodes.map((n) => n.name).sort();
    expect(created.status!.backend).toBe("kubernetes");
    expect(created.status!.phase).toBe(managerv1.TopologyPhase.RUNNING);
    expect(created.status!.nodes.map((n) => n.name).sort()).toEqual(names);
    expect(created.status!.nodes.every((n) => n.phase === managerv1.NodePhase.READY)).toBe(true);
    expect(created.status!.conditions.find((c) => c.type === "Ready")).toMatchObject({ status: true, observedGeneration: created.status!.generation });

    // The namespace, labelled as upstream labels it, owned by the Topology.
    const t = await kube.get(resourceTypes.topology, undefined, "multivendor");
    const ns = await kube.get(resourceTypes.namespace, undefined, "multivendor");
    expect(ns.metadata.labels?.["kne-topology"]).toBe("true");
    expect(ns.metadata.ownerReferences?.[0]).toMatchObject({ kind: "Topology", uid: t.metadata.uid });
    expect(t.metadata.finalizers).toContain("kne.dev/topology");

    // Each node: a Running, Ready pod whose IP and host the status reports.
    const pods = (await labelled(resourceTypes.pod, "multivendor")) as Array<KubeObject & { spec: { nodeName: string }; status: { phase: string; podIP: string; conditions: Array<{ type: string; status: string }> } }>;
    // (Keysight's otg node is a controller pod and one pod per port, as upstream makes it.)
    expect([...new Set(pods.map((p) => p.metadata.labels?.["kne.dev/node"]))].sort()).toEqual(names);
    expect(pods.filter((p) => p.metadata.labels?.["kne.dev/node"] === "otg").length).toBeGreaterThan(1);
    const shown = await api.getTopology({ name: "multivendor" });
    for (const pod of pods) {
      expect(pod.status.phase).toBe("Running");
      expect(pod.status.conditions.find((c) => c.type === "Ready")?.status).toBe("True");
    }
    for (const node of shown.status!.nodes) {
      const own = pods.filter((p) => p.metadata.labels?.["kne.dev/node"] === node.name);
      expect(own.map((p) => p.status.podIP)).toContain(node.managementAddress);
      expect(own.map((p) => p.spec.nodeName)).toContain(node.host);
    }

    // Boot configs reach the node's ConfigMap unchanged.
    const ceosConfig = (await import("node:fs")).readFileSync(join(examples, "multivendor", "ceos.cfg"), "utf8");
    const configMaps = await labelled(resourceTypes.configMap, "multivendor");
    const vendorConfig = configMaps.find((c) => c.metadata.name === "ceos-config") as (KubeObject & { data?: Record<string, string> }) | undefined;
    expect(Object.values(vendorConfig?.data ?? {})).toContain(ceosConfig);

    // One Link object per link, one Device per node (ready, with the pod's IP), Services.
    const linkObjects = await labelled(resourceTypes.link, "multivendor");
    expect(linkObjects).toHaveLength(loaded.topology.links.length);
    const devices = (await labelled(resourceTypes.device, "multivendor")) as Array<KubeObject & { status: { ready: boolean; podIP: string } }>;
    expect(devices.map((d) => d.metadata.name).sort()).toEqual(names);
    for (const d of devices) expect(d.status).toMatchObject({ ready: true, podIP: shown.status!.nodes.find((n) => n.name === d.metadata.name)!.managementAddress });
    const svcs = await labelled(resourceTypes.service, "multivendor");
    expect(svcs.length).toBeGreaterThan(0);
    const endpoints = (await api.listServices({ topology: "multivendor" })).endpoints;
    expect(endpoints.length).toBeGreaterThan(0);
    for (const e of endpoints) expect(e.address).toMatch(/^198\.18\./);

    // Links through the API; a link set down is written to its Link object.
    const listed = (await links.listLinks({ topology: "multivendor" })).links;
    expect(listed).toHaveLength(loaded.topology.links.length);
    expect(listed.every((l) => l.a?.operState === managerv1.OperState.UP && l.z?.operState === managerv1.OperState.UP)).toBe(true);
    const down = await links.setLinkState({ topology: "multivendor", link: listed[0]!.id, state: topo.LinkState.DOWN });
    expect(down.link!.a!.adminState).toBe(topo.LinkState.DOWN);
    const linkObj = (await labelled(resourceTypes.link, "multivendor")).find((l) => (l as KubeObject & { spec: { a: string } }).spec.a === `${listed[0]!.a!.endpoint!.node}:${listed[0]!.a!.endpoint!.interface}`) as KubeObject & { spec: { adminState?: string } };
    expect(linkObj.spec.adminState).toBe("Down");
  });

  it("reflects pod phases: a deleted pod makes its node not ready until the reconciler has made it again", async () => {
    const before = (await labelled(resourceTypes.pod, "multivendor")).find((p) => p.metadata.labels?.["kne.dev/node"] === "srl")!;
    const abort = new AbortController();
    const phases: managerv1.NodePhase[] = [];
    const watching = (async () => {
      for await (const { event } of api.watchTopologies({ name: "multivendor" }, { signal: abort.signal })) {
        if (event?.node?.name === "srl") phases.push(event.node.phase);
      }
    })().catch(() => undefined);
    await kube.delete(resourceTypes.pod, "multivendor", before.metadata.name);
    const again = await until("srl's pod made again and Ready", 60_000, async () => {
      const p = (await labelled(resourceTypes.pod, "multivendor")).find((x) => x.metadata.labels?.["kne.dev/node"] === "srl" && x.metadata.uid !== before.metadata.uid);
      const s = (await api.getTopology({ name: "multivendor" })).status!.nodes.find((n) => n.name === "srl")!;
      return p && s.phase === managerv1.NodePhase.READY ? p : undefined;
    });
    expect(again.metadata.uid).not.toBe(before.metadata.uid);
    abort.abort();
    await watching;
    // Seen through the watch: ready, then not (pod going or gone), then ready again.
    expect(phases[0]).toBe(managerv1.NodePhase.READY);
    expect(phases.some((p) => p !== managerv1.NodePhase.READY)).toBe(true);
    expect(phases.at(-1)).toBe(managerv1.NodePhase.READY);
  });

  it("deletes the topology and nothing of it remains", async () => {
    await api.deleteTopology({ name: "multivendor" });
    await expect(api.getTopology({ name: "multivendor" })).rejects.toMatchObject({ code: Code.NotFound });
    await expect(kube.get(resourceTypes.topology, undefined, "multivendor")).rejects.toMatchObject({ status: 404 });
    await expect(kube.get(resourceTypes.namespace, undefined, "multivendor")).rejects.toMatchObject({ status: 404 });
    for (const rt of [resourceTypes.pod, resourceTypes.service, resourceTypes.configMap, resourceTypes.link, resourceTypes.device]) {
      expect(await labelled(rt, "multivendor"), rt.kind).toEqual([]);
    }
  });

  it("fails a create at its timeout naming the node that cannot be scheduled and why", async () => {
    const topology = {
      name: "too-big",
      nodes: [
        { name: "small", vendor: topo.Vendor.HOST },
        { name: "huge", vendor: topo.Vendor.HOST, constraints: { cpu: "500", memory: "1Ti" } },
      ],
      links: [{ aNode: "small", aInt: "eth1", zNode: "huge", zInt: "eth1" }],
    };
    const err = await api.createTopology({ topology, timeout: { seconds: 8n, nanos: 0 } }).then(() => undefined, (e: unknown) => e as ConnectError);
    expect(err).toBeInstanceOf(ConnectError);
    expect(err!.code).toBe(Code.DeadlineExceeded);
    expect(err!.rawMessage).toContain("huge");
    expect(err!.rawMessage).toMatch(/Insufficient (cpu|memory)/);
    expect(err!.rawMessage).not.toMatch(/small:/);
    const shown = await api.getTopology({ name: "too-big" });
    expect(shown.status!.nodes.find((n) => n.name === "small")!.phase).toBe(managerv1.NodePhase.READY);
    expect(shown.status!.nodes.find((n) => n.name === "huge")!.phase).toBe(managerv1.NodePhase.PENDING);
    await api.deleteTopology({ name: "too-big" });
    expect(await labelled(resourceTypes.pod, "too-big")).toEqual([]);
  });

  it("gives a topology's pods its image pull secrets, and refuses a name that cannot be a Secret", async () => {
    const topology = { name: "pulls", nodes: [{ name: "h1", vendor: topo.Vendor.HOST }, { name: "h2", vendor: topo.Vendor.HOST }], links: [{ aNode: "h1", aInt: "eth1", zNode: "h2", zInt: "eth1" }] };
    const bad = await api.createTopology({ topology, imagePullSecrets: ["Not_A_Secret"] }).then(() => undefined, (e: unknown) => e as ConnectError);
    expect(bad?.code).toBe(Code.InvalidArgument);
    expect(bad?.rawMessage).toContain("image_pull_secrets[0]");
    await expect(kube.get(resourceTypes.topology, undefined, "pulls")).rejects.toMatchObject({ status: 404 });
    await api.createTopology({ topology, imagePullSecrets: ["regcred", "mirror-cred"], timeout: { seconds: 60n, nanos: 0 } });
    const pods = await labelled(resourceTypes.pod, "pulls");
    expect(pods).toHaveLength(2);
    for (const pod of pods) {
      expect((pod as { spec?: { imagePullSecrets?: Array<{ name: string }> } }).spec?.imagePullSecrets).toEqual([{ name: "regcred" }, { name: "mirror-cred" }]);
    }
    await api.deleteTopology({ name: "pulls" });
    expect(await labelled(resourceTypes.pod, "pulls")).toEqual([]);
  });

  it("operator mode auto: the operator's CR where its CRD is installed, the pod it would make elsewhere", async () => {
    // This backend alone reconciles from here on.
    await backend.close();
    const crds = (await readManifests(join(workspaceRoot, "deploy", "crds", "vendors"))).filter((c) => c.metadata.name === "ceoslabdevices.ceoslab.arista.com");
    expect(crds).toHaveLength(1);
    await ensureCrds(kube, crds);
    backend = new KubernetesBackend({ kubeconfigPath: env.kubeconfigPath, operatorMode: "auto", logger: createLogger({ name: "test", level: process.env["KNE_TEST_LOG"] ?? "silent" }) });
    const services = createManagerServices(backend);
    api = createClient(managerv1.TopologyService, createRouterTransport((router) => registerManagerServices(router, services)));
    try {
      const topology = { name: "auto", nodes: [{ name: "ceos", vendor: topo.Vendor.ARISTA }, { name: "srl", vendor: topo.Vendor.NOKIA }], links: [{ aNode: "ceos", aInt: "eth1", zNode: "srl", zInt: "e1-1" }] };
      // No operator runs here: the cEOS CR never gets its pod, so the create times out naming it.
      const err = await api.createTopology({ topology, timeout: { seconds: 8n, nanos: 0 } }).then(() => undefined, (e: unknown) => e as ConnectError);
      expect(err?.code).toBe(Code.DeadlineExceeded);
      expect(err?.rawMessage).toContain("ceos: PENDING".replace("PENDING", "Pending"));
      expect(err?.rawMessage).not.toMatch(/srl:/);
      const crs = await kube.request<{ items: KubeObject[] }>("LIST", "GET", "/apis/ceoslab.arista.com/v1alpha1/namespaces/auto/ceoslabdevices");
      expect(crs.items.map((c) => [c.metadata.name, c.metadata.labels?.["kne.dev/topology"]])).toEqual([["ceos", "auto"]]);
      const pods = await labelled(resourceTypes.pod, "auto");
      expect(pods.map((p) => p.metadata.labels?.["kne.dev/node"])).toEqual(["srl"]);
      // An update that removes the cEOS node removes its CR (and touches the SR Linux pod not).
      const srlPod = pods[0]!;
      await api.updateTopology({ topology: { name: "auto", nodes: [{ name: "srl", vendor: topo.Vendor.NOKIA }] }, timeout: { seconds: 60n, nanos: 0 } });
      await until("the cEOS CR to be deleted", 30_000, async () => {
        const left = await kube.request<{ items: KubeObject[] }>("LIST", "GET", "/apis/ceoslab.arista.com/v1alpha1/namespaces/auto/ceoslabdevices");
        return left.items.length === 0 ? true : undefined;
      });
      expect((await labelled(resourceTypes.pod, "auto")).map((p) => p.metadata.uid)).toEqual([srlPod.metadata.uid]);
      await api.deleteTopology({ name: "auto" });
      await expect(kube.request("GET", "GET", "/apis/ceoslab.arista.com/v1alpha1/namespaces/auto/ceoslabdevices/ceos")).rejects.toMatchObject({ status: 404 });
    } finally {
      await kube.delete(resourceTypes.crd, undefined, "ceoslabdevices.ceoslab.arista.com").catch(() => undefined);
    }
  });
});
