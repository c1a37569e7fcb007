// Vendor-native interface names on the kubernetes backend, on a real control plane (kwok
// nodes run the pods): a Ciena topology wired by port names (1/5/1) is created through the
// manager's API; the view keys each interface by the Linux name the pod has (eth1) with the
// name as written in int_name, carries the vendor's config defaults, and the pods wait for
// the right number of interfaces; links keep the names as written.
import { join } from "node:path";
import { createClient, createRouterTransport } from "@connectrpc/connect";
import { KubeClient, resourceTypes, type KubeObject } from "@kne/kube";
import { managerv1 } from "@kne/proto";
import { createLogger } from "@kne/telemetry";
import { loadTopology } from "@kne/topology";
import { acquireTestenv, k8sSkipReason, TESTENV_UP_TIMEOUT_MS, type Testenv } from "@kne/testenv";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createManagerServices, registerManagerServices } from "../src/index.ts";
import { KubernetesBackend } from "../src/kubernetes/index.ts";
import { workspaceRoot } from "./helpers.ts";

const skip = k8sSkipReason !== undefined;
if (skip) console.log(`kubernetes vendor-name tests skipped: ${k8sSkipReason}`);

const cienaPorts = join(workspaceRoot, "libs/vendors/src/ciena/testdata/ciena-ports.pb.txt");
const NAME = "ciena-ports";

describe.skipIf(skip)("kubernetes backend: vendor port names", () => {
  let env: Testenv;
  let backend: KubernetesBackend;
  let kube: KubeClient;
  let api: ReturnType<typeof createClient<typeof managerv1.TopologyService>>;

  beforeAll(async () => {
    env = await acquireTestenv("k8s-vendor-names");
    kube = new KubeClient({ kubeconfigPath: env.kubeconfigPath });
    backend = new KubernetesBackend({ kubeconfigPath: env.kubeconfigPath, operatorMode: "pod", logger: createLogger({ name: "test", level: process.env["KNE_TEST_LOG"] ?? "silent" }) });
    const transport = createRouterTransport((router) => registerManagerServices(router, createManagerServices(backend)));
    api = createClient(managerv1.TopologyService, transport);
  }, TESTENV_UP_TIMEOUT_MS);

  afterAll(async () => {
    await api?.deleteTopology({ name: NAME }).catch(() => undefined);
    await backend?.close();
    kube?.close();
    await env?.release();
  }, 180_000);

  it("creates a Ciena topology wired by 1/5/1 port names; pods, view and links agree", async () => {
    const loaded = await loadTopology(cienaPorts);
    const created = await api.createTopology({ topology: loaded.topology, baseDir: loaded.baseDir!, timeout: { seconds: 120n, nanos: 0 } });
    expect(created.status!.phase).toBe(managerv1.TopologyPhase.RUNNING);

    const shown = await api.getTopology({ name: NAME });
    const saos2 = shown.topology!.nodes.find((n) => n.name === "saos-2")!;
    expect(Object.keys(saos2.interfaces).sort()).toEqual(["eth1", "eth2", "eth3", "eth4"]);
    expect(saos2.interfaces["eth2"]).toMatchObject({ intName: "2", peerName: "saos-1", peerIntName: "1/5/2" });
    expect(saos2.interfaces["eth4"]).toMatchObject({ intName: "1/5/4", peerName: "h1", peerIntName: "eth1" });
    // Both ends of a wire carry its Link object's uid.
    const saos1 = shown.topology!.nodes.find((n) => n.name === "saos-1")!;
    expect(saos1.interfaces["eth2"]).toMatchObject({ intName: "1/5/2", peerIntName: "2", uid: saos2.interfaces["eth2"]!.uid });
    expect(saos2.config).toMatchObject({ image: "saos-containerlab:latest", configPath: "config/", configFile: "config.cfg" });
    const h1 = shown.topology!.nodes.find((n) => n.name === "h1")!;
    expect(h1.config).toMatchObject({ image: "alpine:latest", entryCommand: "kubectl exec -it h1 -- sh", command: ["/bin/sh", "-c", "sleep 2000000000000"] });
    // The stored topology is the file as written: no defaults, no renamed keys.
    const stored = (await kube.get(resourceTypes.topology, undefined, NAME)) as KubeObject & { spec: { nodes: Array<{ name: string; config?: unknown; interfaces?: Record<string, unknown> }> } };
    const storedSaos1 = stored.spec.nodes.find((n) => n.name === "saos-1")!;
    expect(storedSaos1.config).toBeUndefined();
    expect(Object.keys(storedSaos1.interfaces ?? {})).toEqual(["1/5/3"]);

    // saos-2 has four data ports: its init container waits for five interfaces.
    const pods = (await kube.list(resourceTypes.pod, { labelSelector: `kne.dev/topology=${NAME}` })).items as Array<
      KubeObject & { spec: { initContainers?: Array<{ args?: string[] }> } }
    >;
    const pod = pods.find((p) => p.metadata.labels?.["kne.dev/node"] === "saos-2")!;
    expect(pod.spec.initContainers?.at(-1)?.args?.[0]).toBe("5");

    const links = await createClient(managerv1.LinkService, createRouterTransport((router) => registerManagerServices(router, createManagerServices(backend)))).listLinks({ topology: NAME });
    expect(links.links.map((l) => l.id).sort()).toEqual(
      ["saos-1:1/5/1--saos-2:1/5/1", "saos-1:1/5/2--saos-2:2", "saos-1:1/5/3--saos-2:1/5/3", "saos-2:1/5/4--h1:eth1"].sort(),
    );

    await api.deleteTopology({ name: NAME });
  }, 300_000);
});
