// Updating a running topology on a real control plane: a node and its link are added and
// a link removed; the objects of everything else (pods, Services, ConfigMaps, Links,
// Devices) keep their uid and resourceVersion — nothing else is touched.
import { createClient, createRouterTransport } from "@connectrpc/connect";
import { KubeClient, resourceTypes, type KubeObject } from "@kne/kube";
import { managerv1, topo } from "@kne/proto";
import { createLogger } from "@kne/telemetry";
import { acquireTestenv, k8sSkipReason, TESTENV_UP_TIMEOUT_MS, type Testenv } from "@kne/testenv";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createManagerServices, registerManagerServices } from "../src/index.ts";
import { KubernetesBackend } from "../src/kubernetes/index.ts";

const skip = k8sSkipReason !== undefined;
if (skip) console.log(`kubernetes update test skipped: ${k8sSkipReason}`);

const node = (name: string, config?: string) => ({ name, vendor: topo.Vendor.HOST, ...(config ? { config: { configData: { case: "data" as const, value: new TextEncoder().encode(config) } } } : {}) });
const link = (a: string, z: string) => ({ aNode: a, aInt: "eth1", zNode: z, zInt: "eth2" });

describe.skipIf(skip)("kubernetes backend: update adds and removes, touching nothing else", () => {
  let env: Testenv;
  let backend: KubernetesBackend;
  let kube: KubeClient;
  let api: ReturnType<typeof createClient<typeof managerv1.TopologyService>>;

  beforeAll(async () => {
    env = await acquireTestenv("k8s-update");
    kube = new KubeClient({ kubeconfigPath: env.kubeconfigPath });
    backend = new KubernetesBackend({ kubeconfigPath: env.kubeconfigPath, operatorMode: "pod", logger: createLogger({ name: "test", level: process.env["KNE_TEST_LOG"] ?? "silent" }) });
    const services = createManagerServices(backend);
    api = createClient(managerv1.TopologyService, createRouterTransport((router) => registerManagerServices(router, services)));
  }, TESTENV_UP_TIMEOUT_MS);

  afterAll(async () => {
    await api?.deleteTopology({ name: "line" }).catch(() => undefined);
    await backend?.close();
    kube?.close();
    await env?.release();
  }, 180_000);

  const snapshot = async () => {
    const out = new Map<string, { uid: string; rv: string }>();
    for (const rt of [resourceTypes.pod, resourceTypes.service, resourceTypes.configMap, resourceTypes.link, resourceTypes.device]) {
      for (const o of (await kube.list(rt, { namespace: "line", labelSelector: "kne.dev/topology=line" })).items as KubeObject[]) {
        out.set(`${rt.kind}/${o.metadata.name}`, { uid: o.metadata.uid!, rv: o.metadata.resourceVersion! });
      }
    }
    return out;
  };

  it("adds r4 and its link, removes the link r1-r2", async () => {
    const first = { name: "line", nodes: [node("r1", "hostname r1\n"), node("r2"), node("r3")], links: [link("r1", "r2"), link("r2", "r3")] };
    await api.createTopology({ topology: first });
    const before = await snapshot();
    const linkName = (k: string) => [...before.keys()].find((x) => x.startsWith(`Link/${k}`));
    const removedLink = linkName("r1-eth1--r2-eth2")!;
    expect(removedLink).toBeDefined();

    const second = { name: "line", nodes: [...first.nodes, node("r4")], links: [link("r2", "r3"), link("r3", "r4")] };
    const planned = await api.updateTopology({ topology: second, dryRun: true });
    expect(planned.changes.map((c) => `${managerv1.Change_Action[c.action]} ${c.kind} ${c.name}`).sort()).toEqual(["ADD link r3:eth1--r4:eth2", "ADD node r4", "REMOVE link r1:eth1--r2:eth2"]);
    expect(await snapshot()).toEqual(before);

    const applied = await api.updateTopology({ topology: second, timeout: { seconds: 60n, nanos: 0 } });
    expect(applied.changes).toHaveLength(3);
    expect(applied.status!.phase).toBe(managerv1.TopologyPhase.RUNNING);
    expect(applied.status!.nodes.map((n) => [n.name, n.phase])).toEqual(["r1", "r2", "r3", "r4"].map((n) => [n, managerv1.NodePhase.READY]));
    expect(applied.status!.observedGeneration).toBe(applied.status!.generation);
    expect(applied.status!.generation).toBe(2n);

    const after = await snapshot();
    for (const [key, ids] of before) {
      if (key === removedLink) expect(after.has(key), `${key} removed`).toBe(false);
      else expect(after.get(key), `${key} untouched`).toEqual(ids);
    }
    const added = [...after.keys()].filter((k) => !before.has(k)).sort();
    expect(added.filter((k) => k.startsWith("Pod/") || k.startsWith("Device/") || k.startsWith("Link/"))).toEqual(["Device/r4", expect.stringMatching(/^Link\/r3-eth1--r4-eth2-/), "Pod/r4"]);

    // Removing a node removes its objects and links, the others again untouched.
    const third = { name: "line", nodes: [node("r2"), node("r3"), node("r4")], links: second.links };
    await api.updateTopology({ topology: third, timeout: { seconds: 60n, nanos: 0 } });
    const last = await snapshot();
    expect([...last.keys()].filter((k) => k.includes("r1"))).toEqual([]);
    for (const [key, ids] of after) if (!key.includes("r1")) expect(last.get(key), `${key} untouched`).toEqual(ids);
  });
});
