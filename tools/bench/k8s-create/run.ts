/**
 * Kubernetes create benchmark: the kubernetes backend (in this process, pod mode) on the
 * real control plane of tools/testenv, with kwok running the pods. Two topologies: upstream's
 * 150-node cEOS ring (examples/arista/ceos-150) and a generated 1,000-node cEOS ring. For
 * each: CreateTopology → every node Ready (pods Ready, Devices published, status written),
 * the API requests the manager made (by verb), its memory (RSS and heap after the create,
 * peak RSS), then DeleteTopology → everything gone. Prints a table.
 *
 *   npm run bench:k8s-create -w @kne/bench -- [--sizes 1000] [--skip-upstream]
 *   (reuses a running environment when KNE_TESTENV_KUBECONFIG names its kubeconfig)
 *
 * kwok nodes are added (and removed afterwards) so that the cluster has room for the
 * generated ring's CPU and memory requests (cEOS asks 0.5 CPU, 1 GiB per node).
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { create } from "@bufbuild/protobuf";
import { createClient, createRouterTransport } from "@connectrpc/connect";
import { KubeClient, isNotFound, resourceTypes } from "@kne/kube";
import { createManagerServices, registerManagerServices } from "@kne/manager";
import { KubernetesBackend } from "@kne/manager/kubernetes";
import { managerv1, topo } from "@kne/proto";
import { createLogger } from "@kne/telemetry";
// The benchmark runs on the test control plane, as the Kubernetes integration tests do.
// eslint-disable-next-line @nx/enforce-module-boundaries
import { acquireTestenv, type Testenv } from "@kne/testenv";
import { loadTopology } from "@kne/topology";

const here = fileURLToPath(new URL(".", import.meta.url));
const upstreamRing = join(here, "..", "..", "..", "..", "shared", "kne-compat", "upstream-examples", "examples", "arista", "ceos-150", "ceos-150.pb.txt");

const { values: flags } = parseArgs({
  options: {
    sizes: { type: "string", default: "1000" },
    "skip-upstream": { type: "boolean", default: false },
    "extra-kwok-nodes": { type: "string", default: "10" },
  },
});
const sizes = flags.sizes.split(",").filter(Boolean).map((x) => Number(x.trim()));
if (sizes.some((n) => !Number.isInteger(n) || n < 3)) {
  console.error("usage: run.ts [--sizes 1000] [--skip-upstream] [--extra-kwok-nodes 10]");
  process.exit(2);
}

const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(0);
const s = (ms: number) => (ms / 1000).toFixed(1);

/** A ring of cEOS nodes as `kne topology generate ring` makes it: node i's eth1 to node i+1's eth2. */
function ceosRing(n: number): topo.Topology {
  const config = (i: number) => new TextEncoder().encode(`hostname r${i}\n!\ninterface Ethernet1\n no switchport\n!\ninterface Ethernet2\n no switchport\n!\nend\n`);
  return create(topo.TopologySchema, {
    name: `ceos-ring-${n}`,
    nodes: Array.from({ length: n }, (_, i) => ({ name: `r${i + 1}`, vendor: topo.Vendor.ARISTA, model: "ceos", config: { configData: { case: "data" as const, value: config(i + 1) } } })),
    links: Array.from({ length: n }, (_, i) => ({ aNode: `r${i + 1}`, aInt: "eth1", zNode: `r${((i + 1) % n) + 1}`, zInt: "eth2" })),
  });
}

interface Row {
  topology: string;
  nodes: number;
  links: number;
  createMs: number;
  deleteMs: number;
  requests: number;
  byVerb: Record<string, number>;
  rssMiB: string;
  heapMiB: string;
  peakRssMiB: string;
}

async function addKwokNodes(kube: KubeClient, count: number): Promise<string[]> {
  const names = Array.from({ length: count }, (_, i) => `kwok-bench-${i + 1}`);
  for (const name of names) {
    await kube.apply({
      apiVersion: "v1",
      kind: "Node",
      metadata: { name, annotations: { "kwok.x-k8s.io/node": "fake", "node.alpha.kubernetes.io/ttl": "0" }, labels: { type: "kwok", "kubernetes.io/hostname": name, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64" } },
    });
    await kube.apply(
      { apiVersion: "v1", kind: "Node", metadata: { name }, status: { allocatable: { cpu: "64", memory: "256Gi", pods: "1000" }, capacity: { cpu: "64", memory: "256Gi", pods: "1000" } } },
      { subresource: "status", fieldManager: "kne-bench" },
    );
  }
  return names;
}

async function measure(env: Testenv, topology: topo.Topology, baseDir: string): Promise<Row> {
  const backend = new KubernetesBackend({ kubeconfigPath: env.kubeconfigPath, operatorMode: "pod", logger: createLogger({ name: "bench-k8s", level: process.env["KNE_LOG_LEVEL"] ?? "silent" }) });
  const services = createManagerServices(backend);
  const api = createClient(managerv1.TopologyService, createRouterTransport((router) => registerManagerServices(router, services)));
  try {
    await backend.start();
    const startRequests = backend.client.requests.total;
    const startVerbs = backend.client.requests.snapshot().byVerb;
    const t0 = performance.now();
    const created = await api.createTopology({ topology, baseDir, timeout: { seconds: 900n, nanos: 0 } }, { timeoutMs: 1_000_000 });
    const createMs = performance.now() - t0;
    if (!created.status!.nodes.every((n) => n.phase === managerv1.NodePhase.READY)) throw new Error(`${topology.name}: create returned with nodes not ready`);
    const requests = backend.client.requests.total - startRequests;
    const byVerb = Object.fromEntries(Object.entries(backend.client.requests.snapshot().byVerb).map(([k, v]) => [k, v - (startVerbs[k] ?? 0)]).filter(([, v]) => (v as number) > 0));
    (globalThis as { gc?: () => void }).gc?.();
    const mem = process.memoryUsage();
    const t1 = performance.now();
    await api.deleteTopology({ name: topology.name }, { timeoutMs: 1_000_000 });
    const deleteMs = performance.now() - t1;
    return {
      topology: topology.name,
      nodes: topology.nodes.length,
      links: topology.links.length,
      createMs,
      deleteMs,
      requests,
      byVerb,
      rssMiB: mib(mem.rss),
      heapMiB: mib(mem.heapUsed),
      peakRssMiB: mib(process.resourceUsage().maxRSS * 1024),
    };
  } catch (err) {
    await api.deleteTopology({ name: topology.name }, { timeoutMs: 1_000_000 }).catch(() => undefined);
    throw err;
  } finally {
    await backend.close();
  }
}

const env = await acquireTestenv("bench-k8s-create");
const kube = new KubeClient({ kubeconfigPath: env.kubeconfigPath });
let added: string[] = [];
const rows: Row[] = [];
try {
  added = await addKwokNodes(kube, Number(flags["extra-kwok-nodes"]));
  if (!flags["skip-upstream"]) {
    const loaded = await loadTopology(upstreamRing);
    rows.push(await measure(env, loaded.topology, loaded.baseDir!));
    console.log(`done: ${rows.at(-1)!.topology}`);
  }
  for (const n of sizes) {
    rows.push(await measure(env, ceosRing(n), ""));
    console.log(`done: ${rows.at(-1)!.topology}`);
  }
} finally {
  for (const name of added) await kube.delete(resourceTypes.node, undefined, name).catch((e: unknown) => (isNotFound(e) ? undefined : console.error(`removing ${name}: ${String(e)}`)));
  kube.close();
  await env.release();
}

console.log("\n| topology | nodes | links | create → Ready s | delete s | API requests | by verb | RSS MiB | heap MiB | peak RSS MiB |");
console.log("|---|---|---|---|---|---|---|---|---|---|");
for (const r of rows) {
  const verbs = Object.entries(r.byVerb).sort().map(([k, v]) => `${k} ${v}`).join(", ");
  console.log(`| ${r.topology} | ${r.nodes} | ${r.links} | ${s(r.createMs)} | ${s(r.deleteMs)} | ${r.requests} | ${verbs} | ${r.rssMiB} | ${r.heapMiB} | ${r.peakRssMiB} |`);
}
