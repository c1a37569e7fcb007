// Contract of `kubeObjectsForNode` with a real Kubernetes control plane (tools/testenv:
// etcd, kube-apiserver, controller-manager, scheduler, kwok nodes). For every vendor and
// every model it knows (a small synthetic topology each), and for every upstream example
// topology, the objects of every node are server-side applied in both operator modes,
// with the vendor operator CRDs of deploy/crds/vendors installed. The API server must
// accept each object and keep what we sent (nothing pruned by a CRD schema, nothing
// rewritten); in "pod" mode every node's pods are scheduled to kwok nodes and become Ready.
import { readFile, readdir } from "node:fs/promises";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import * as k8s from "@kubernetes/client-node";
import { acquireTestenv, k8sSkipReason, TESTENV_UP_TIMEOUT_MS, until, type Testenv } from "@kne/testenv";
import { type LoadedTopology, assertValidTopology, loadTopology, parseTopology, resolveConfigPath, resolveTopology, validateTopology } from "@kne/topology";
import type { topo } from "@kne/proto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { type KubeObject, type NodeObjects, type OperatorMode, kubeObjectsForNode, supportedVendorNames, vendorRegistry } from "../src/index";

const skip = k8sSkipReason !== undefined;
if (skip) console.log(`vendor kubernetes contract test skipped: ${k8sSkipReason}`);

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(here, "../../..");
const crdDir = join(repoRoot, "deploy/crds/vendors");
const examplesDir = resolve(repoRoot, "../shared/kne-compat/upstream-examples/examples");
const FIELD_MANAGER = "kne-vendor-contract";
const STEP_TIMEOUT = 180_000;
const READY_TIMEOUT = 90_000;
const suffix = `${process.pid % 10000}`;

interface Case {
  label: string;
  topology: topo.Topology;
}

/** A validated, resolved topology with its config files read in (what a backend receives). */
async function prepared(loaded: LoadedTopology): Promise<topo.Topology> {
  assertValidTopology(validateTopology(loaded.topology, { file: loaded.file, baseDir: loaded.baseDir, locate: loaded.locate }));
  const t = resolveTopology(loaded.topology);
  for (const node of t.nodes) {
    const data = node.config?.configData;
    if (data?.case === "file") {
      node.config!.configData = { case: "data", value: new Uint8Array(await readFile(resolveConfigPath(loaded.baseDir!, data.value))) };
    }
  }
  return t;
}

async function exampleFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await exampleFiles(path)));
    else if (/\.(pb\.txt|pbtxt)$/.test(entry.name)) out.push(path);
  }
  return out.sort();
}

/** What a vendor needs beyond a name to be a valid node of a two-node topology. */
const vendorExtras: Record<string, string> = {
  IN_CLUSTER_PROXY: `labels { key: "proxy-pool-for" value: "peer" } labels { key: "peer-ip" value: "192.0.2.1" } labels { key: "target-port" value: "22" } services { key: 8022 value { name: "ssh" inside: 2222 } }`,
  FORWARD: `config { vendor_data { [type.googleapis.com/forward.ForwardConfig] { wires { a { interface { name: "eth1" } } z { remote_node { addr: "192.0.2.9" interface: "eth2" } } } } } }`,
  ALPINE: `config { vendor_data { [type.googleapis.com/alpine.AlpineConfig] { containers { name: "dataplane" image: "lucius:latest" args: "-alsologtostderr" } files { mount_dir: "/etc/sonic" files { key: "port_config.ini" value { data: "eth1 1\\n" } } } } } }`,
  CIENA: `config { vendor_data { [type.googleapis.com/ciena.CienaConfig] { system_equipment { mount_dir: "/etc/saos" equipment_json: "{\\"slots\\": 1}" } } } }`,
  HOST: `config { data: "hello" }`,
  FRR: `config { data: "frr defaults traditional\\nhostname dut\\nrouter bgp 65001\\n!\\n" }`,
};

function syntheticCases(): Case[] {
  const cases: Case[] = [];
  for (const vendor of vendorRegistry) {
    const models = vendor.models.length > 0 ? vendor.models.map((m) => m.name) : [vendor.defaultModel ?? ""];
    for (const model of models) {
      const name = `v-${vendor.name}-${model || "any"}`.toLowerCase().replace(/[^a-z0-9-]+/g, "-").slice(0, 40);
      const text = [
        `name: "${name}"`,
        `nodes { name: "dut" vendor: ${vendor.name} ${model ? `model: "${model}"` : ""} ${vendorExtras[vendor.name] ?? ""} }`,
        `nodes { name: "peer" vendor: HOST }`,
        `links { a_node: "dut" a_int: "eth1" z_node: "peer" z_int: "eth1" }`,
        vendor.allowsSelfLinks ? `links { a_node: "dut" a_int: "eth2" z_node: "dut" z_int: "eth3" }` : "",
      ].join("\n");
      const loaded = parseTopology(text, { format: "textproto", file: `${name}.pb.txt` });
      assertValidTopology(validateTopology(loaded.topology, { file: loaded.file, locate: loaded.locate }));
      cases.push({ label: `${vendor.name}${model ? ` ${model}` : ""}`, topology: resolveTopology(loaded.topology) });
    }
  }
  // A boot config over the ConfigMap limit: split into parts that an init container joins.
  const big = parseTopology(`name: "v-large-config" nodes { name: "big" vendor: HOST config { config_file: "big.cfg" } }`, { format: "textproto" });
  const t = resolveTopology(big.topology);
  t.nodes[0]!.config!.configData = { case: "data", value: new Uint8Array(2_500_000).fill(0x61) };
  cases.push({ label: "HOST with a 2.5 MB boot config", topology: t });
  return cases;
}

const cases: Case[] = skip ? [] : syntheticCases();
if (!skip) {
  for (const file of await exampleFiles(examplesDir)) {
    const loaded = await loadTopology(file);
    cases.push({ label: `example ${relative(examplesDir, file)}`, topology: await prepared(loaded) });
  }
}

/** Examples share topology names, so each case gets its own namespace by index. */
function namespaceFor(index: number, mode: OperatorMode): string {
  return `vc-${index}-${mode}-${suffix}`;
}

async function inBatches<T>(items: readonly T[], size: number, work: (item: T) => Promise<void>): Promise<void> {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(work));
}

function nodeLinks(t: topo.Topology, node: string): topo.Link[] {
  return t.links.filter((l) => l.aNode === node || l.zNode === node);
}

interface ContainerSpecJson {
  volumeMounts?: { name: string }[];
  resources?: { requests?: Record<string, string> };
}
interface PodSpecJson {
  volumes?: { name: string }[];
  containers?: ContainerSpecJson[];
  initContainers?: ContainerSpecJson[];
}

/** The pod spec without the service account token volume that admission adds to every pod. */
function withoutTokenVolume(spec: PodSpecJson): PodSpecJson {
  const token = (name: string) => name.startsWith("kube-api-access-");
  const volumes = spec.volumes?.filter((v) => !token(v.name));
  const strip = (containers: ContainerSpecJson[] | undefined) =>
    containers?.map((c) => {
      const mounts = c.volumeMounts?.filter((m) => !token(m.name));
      return { ...c, volumeMounts: mounts && mounts.length > 0 ? mounts : undefined };
    });
  return {
    ...spec,
    volumes: volumes && volumes.length > 0 ? volumes : undefined,
    containers: strip(spec.containers),
    initContainers: strip(spec.initContainers),
  };
}

/** The API server writes quantities canonically (`0.5` cpu is `500m`); so do we, to compare. */
function canonicalRequests(spec: PodSpecJson): PodSpecJson {
  const canonical = (containers: ContainerSpecJson[] | undefined) =>
    containers?.map((c) => {
      const cpu = c.resources?.requests?.cpu;
      if (!cpu || !/^\d*\.\d+$/.test(cpu)) return c;
      return { ...c, resources: { ...c.resources, requests: { ...c.resources!.requests, cpu: `${Math.round(Number(cpu) * 1000)}m` } } };
    });
  return { ...spec, containers: canonical(spec.containers), initContainers: canonical(spec.initContainers) };
}

/** What the API server may add (defaults, status, bookkeeping) aside, it kept what we sent. */
function expectKept(sent: KubeObject, read: KubeObject): void {
  const { metadata, apiVersion, kind, ...body } = sent;
  // The client returns class instances; compare their JSON, which is what the server holds.
  const got = JSON.parse(JSON.stringify(read)) as KubeObject;
  if (kind === "Pod") got.spec = withoutTokenVolume(got.spec as PodSpecJson);
  expect(got.metadata.labels).toEqual(metadata.labels);
  expect({ apiVersion: got.apiVersion, kind: got.kind }).toEqual({ apiVersion, kind });
  const gotBody = Object.fromEntries(Object.keys(body).map((k) => [k, got[k]]));
  if (kind === "Pod") body.spec = canonicalRequests(body.spec as PodSpecJson);
  if (kind === "Pod" || kind === "Service") expect(gotBody).toMatchObject(body);
  else expect(gotBody).toEqual(body);
}

describe.skipIf(skip)("kubeObjectsForNode against a real API server", () => {
  let env: Testenv | undefined;
  let kc: k8s.KubeConfig;
  let objects: k8s.KubernetesObjectApi;
  let core: k8s.CoreV1Api;
  const namespaces: string[] = [];
  const installedCrds = new Set<string>();
  const vendorsSeen = new Set<string>();
  let podsReady = 0;
  let objectsApplied = 0;

  async function apply(obj: KubeObject): Promise<KubeObject> {
    const body = obj as unknown as k8s.KubernetesObject;
    await objects.patch(body, undefined, undefined, FIELD_MANAGER, true, k8s.PatchStrategy.ServerSideApply);
    objectsApplied++;
    return (await objects.read(body as k8s.KubernetesObject & { metadata: { name: string } })) as unknown as KubeObject;
  }

  async function createNamespace(name: string): Promise<void> {
    await core.createNamespace({ body: { metadata: { name, labels: { "kne.dev/test": "vendor-contract" } } } });
    namespaces.push(name);
    // Pods are refused until the controller-manager has made the default ServiceAccount.
    await until(`the default ServiceAccount of ${name}`, STEP_TIMEOUT, async () => core.readNamespacedServiceAccount({ name: "default", namespace: name }));
  }

  beforeAll(async () => {
    env = await acquireTestenv("vendors");
    kc = env.kubeConfig;
    objects = k8s.KubernetesObjectApi.makeApiClient(kc);
    core = kc.makeApiClient(k8s.CoreV1Api);
    const ext = kc.makeApiClient(k8s.ApiextensionsV1Api);
    for (const file of (await readdir(crdDir)).filter((f) => f.endsWith(".yaml")).sort()) {
      const crd = parseYaml(await readFile(join(crdDir, file), "utf8")) as KubeObject;
      expect(file).toBe(`${crd.metadata.name}.yaml`);
      await objects.patch(crd as unknown as k8s.KubernetesObject, undefined, undefined, FIELD_MANAGER, true, k8s.PatchStrategy.ServerSideApply);
      await until(`CRD ${crd.metadata.name} to be Established`, STEP_TIMEOUT, async () => {
        const got = await ext.readCustomResourceDefinition({ name: crd.metadata.name });
        return got.status?.conditions?.find((c) => c.type === "Established")?.status === "True" ? got : undefined;
      });
      installedCrds.add(crd.metadata.name);
    }
    expect([...installedCrds].sort()).toEqual([
      "cdnos.cdnos.dev.drivenets.net",
      "ceoslabdevices.ceoslab.arista.com",
      "ixiatgs.network.keysight.com",
      "lemmings.lemming.openconfig.net",
      "srlinuxes.kne.srlinux.dev",
    ]);
  }, TESTENV_UP_TIMEOUT_MS);

  afterAll(async () => {
    if (core) await Promise.all(namespaces.map((name) => core.deleteNamespace({ name }).catch(() => undefined)));
    console.log(`vendor contract: ${objectsApplied} objects applied, ${podsReady} pods Ready, ${namespaces.length} namespaces`);
    await env?.release();
  }, STEP_TIMEOUT);

  for (const [index, c] of cases.entries()) {
    for (const mode of ["cr", "pod"] as const) {
      it(`${c.label} (${mode}): every object is accepted as sent${mode === "pod" ? " and every pod becomes Ready" : ""}`, async () => {
        const t = c.topology;
        const namespace = namespaceFor(index, mode);
        await createNamespace(namespace);
        try {
          const built: { node: topo.Node; result: NodeObjects }[] = t.nodes.map((node) => ({
            node,
            result: kubeObjectsForNode({ topology: t.name, namespace, node, links: nodeLinks(t, node.name), operatorMode: mode, imagePullSecrets: ["regcred"] }),
          }));
          const started = Date.now();
          // Nodes side by side (a backend creates them in parallel too), each node's objects in order.
          await inBatches(built, 8, async ({ node, result }) => {
            vendorsSeen.add(vendorRegistry.find((v) => v.vendor === node.vendor)!.name);
            if (result.operatorCrd) expect(installedCrds.has(result.operatorCrd), result.operatorCrd).toBe(true);
            for (const obj of result.objects) {
              expect(obj.metadata.namespace).toBe(namespace);
              const got = await apply(obj);
              expectKept(obj, got);
            }
          });
          if (mode === "pod") {
            for (const { node, result } of built) {
              const selector = Object.entries(result.podSelector).map(([k, v]) => `${k}=${v}`).join(",");
              let seen = "no pods";
              await until(`${result.expectedPods} Ready pods of ${node.name} in ${namespace}`, READY_TIMEOUT, async () => {
                const pods = await core.listNamespacedPod({ namespace, labelSelector: selector });
                const ready = pods.items.filter((p) => p.status?.conditions?.some((cond) => cond.type === "Ready" && cond.status === "True"));
                seen = pods.items.map((p) => `${p.metadata?.name}: ${p.status?.phase} ${JSON.stringify(p.status?.conditions?.map((x) => [x.type, x.status, x.reason]))}`).join("; ");
                if (pods.items.length === result.expectedPods && ready.length === result.expectedPods) return ready;
                throw new Error(seen);
              });
              podsReady += result.expectedPods;
            }
          }
          console.log(`${c.label} (${mode}): ${built.reduce((n, b) => n + b.result.objects.length, 0)} objects in ${Date.now() - started} ms`);
        } finally {
          // The kwok nodes have finite cpu and memory and routers request a lot of both: free
          // them for the next case.
          await core.deleteNamespace({ name: namespace }).catch(() => undefined);
        }
      }, STEP_TIMEOUT);
    }
  }

  it("exercised every vendor of the registry", () => {
    expect([...vendorsSeen].sort()).toEqual([...supportedVendorNames].sort());
  });
});
