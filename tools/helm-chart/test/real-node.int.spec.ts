/**
 * The chart with the images built here, on a real kubelet node (pods that really run):
 * every pod Ready (time from `helm install` to all Ready), `kne --server` through a
 * port-forward creating, listing and deleting a HOST topology whose pods run on the real node,
 * upstream's controller.TopologyManager through the same port, a wrong and a missing token
 * refused, metrics scraped through the metrics Service, `helm upgrade` rolling the manager
 * while a client polls its Service (calls and failures counted), and `helm uninstall`.
 *
 * Runs only when both exist, and says why it is skipped otherwise:
 *  - KNE_IMAGE_LIST: the image build's list file, one image a line: NAME REFERENCE [DIGEST]
 *    (REFERENCE is repository:tag), with topology-manager, topology-agent,
 *    config-bootstrapper, service-exposer, and a HOST node image (a name containing "host");
 *    the images already imported into the node's container runtime;
 *  - KNE_TESTENV_KUBECONFIG: a running test environment with a Ready node that is not kwok's
 *    (`testenv.sh up --real-node`), whose Service addresses this machine reaches.
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { controller, managerv1 } from "@kne/proto";
import { until } from "@kne/testenv";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chartDir, ensureHelm, helm, repoRoot } from "../src/index";

const run = promisify(execFile);
const RELEASE = "kne";
const NAMESPACE = "kne-system";
const kneBin = join(repoRoot, "apps", "cli", "bin", "kne.mjs");
const apps = { "topology-manager": "topologyManager", "topology-agent": "topologyAgent", "config-bootstrapper": "configBootstrapper", "service-exposer": "serviceExposer" } as const;

interface ImageRef {
  repository: string;
  tag: string;
}

/** NAME REFERENCE [DIGEST] lines; # comments and blank lines ignored. */
function readImageList(path: string): Map<string, ImageRef> {
  const out = new Map<string, ImageRef>();
  readFileSync(path, "utf8")
    .split("\n")
    .forEach((line, i) => {
      const fields = line.replace(/#.*/, "").trim().split(/\s+/).filter((f) => f !== "");
      if (fields.length === 0) return;
      const [name, ref] = fields;
      const colon = ref?.lastIndexOf(":") ?? -1;
      if (!name || !ref || colon <= ref.lastIndexOf("/")) throw new Error(`${path}:${i + 1}: want NAME REPOSITORY:TAG [DIGEST], got ${JSON.stringify(line)}`);
      out.set(name, { repository: ref.slice(0, colon), tag: ref.slice(colon + 1) });
    });
  return out;
}

const kubeconfig = process.env["KNE_TESTENV_KUBECONFIG"];
const imageList = process.env["KNE_IMAGE_LIST"];
let skip: string | undefined;
if (!imageList || !existsSync(imageList)) skip = `no image list (KNE_IMAGE_LIST=${imageList ?? ""}): build and import the images first`;
else if (!kubeconfig || !existsSync(kubeconfig)) skip = `no running test environment with a real node (KNE_TESTENV_KUBECONFIG=${kubeconfig ?? ""}; testenv.sh up --real-node)`;
if (skip) console.log(`real-node chart test skipped: ${skip}`);

let helmBin: string;
let kubectlBin: string;
let work: string;
let realNode = "";
let images: Map<string, ImageRef>;
const children: ChildProcess[] = [];
const cordoned: string[] = [];

async function kubectl(args: readonly string[]): Promise<string> {
  const { stdout } = await run(kubectlBin, ["--kubeconfig", kubeconfig!, ...args], { maxBuffer: 64 << 20 });
  return stdout;
}

/** `kubectl port-forward` to a local port it picks; resolves with that port. */
function portForward(target: string, remotePort: number): Promise<number> {
  const child = spawn(kubectlBin, ["--kubeconfig", kubeconfig!, "-n", NAMESPACE, "port-forward", "--address", "127.0.0.1", target, `:${remotePort}`], { stdio: ["ignore", "pipe", "pipe"] });
  children.push(child);
  return new Promise((resolve, reject) => {
    let out = "";
    child.stdout!.on("data", (c: Buffer) => {
      out += c.toString();
      const m = /Forwarding from 127\.0\.0\.1:(\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.once("exit", (code) => reject(new Error(`port-forward ${target} exited ${code}: ${out}`)));
  });
}

describe.skipIf(skip !== undefined)("the chart with the images on a real node", () => {
  beforeAll(async () => {
    helmBin = await ensureHelm();
    const { stdout } = await run("bash", [join(repoRoot, "tools", "testenv", "testenv.sh"), "bin"]);
    kubectlBin = join(stdout.trim(), "kubectl");
    images = readImageList(imageList!);
    for (const name of Object.keys(apps)) if (!images.has(name)) throw new Error(`${imageList}: no ${name} image`);
    const nodes = JSON.parse(await kubectl(["get", "nodes", "-o", "json"])) as { items: Array<{ metadata: { name: string; annotations?: Record<string, string> }; status: { conditions: Array<{ type: string; status: string }> } }> };
    const real = nodes.items.find((n) => n.metadata.annotations?.["kwok.x-k8s.io/node"] !== "fake" && n.status.conditions.some((c) => c.type === "Ready" && c.status === "True"));
    if (!real) throw new Error("KNE_TESTENV_KUBECONFIG: no Ready node that is not kwok's (testenv.sh up --real-node)");
    realNode = real.metadata.name;
    // The topology's pods must land on the real node: kwok's nodes take no new pods meanwhile.
    for (const n of nodes.items) {
      if (n.metadata.name === realNode) continue;
      await kubectl(["cordon", n.metadata.name]);
      cordoned.push(n.metadata.name);
    }
    work = mkdtempSync(join(tmpdir(), "kne-chart-real-"));
  }, 60 * 60_000);

  afterAll(async () => {
    for (const c of children) if (c.exitCode === null) c.kill("SIGTERM");
    if (helmBin) await helm(helmBin, ["uninstall", RELEASE, "--namespace", NAMESPACE, "--wait", "--ignore-not-found"], { KUBECONFIG: kubeconfig! });
    for (const n of cordoned) await kubectl(["uncordon", n]).catch(() => undefined);
    if (work) rmSync(work, { recursive: true, force: true });
  }, 300_000);

  it("installs, runs a HOST topology through the API, refuses bad tokens, serves metrics, rolls without failed calls, uninstalls", async () => {
    const set = Object.entries(apps).flatMap(([name, key]) => {
      const img = images.get(name)!;
      return ["--set", `images.${key}.repository=${img.repository}`, "--set", `images.${key}.tag=${img.tag}`];
    });
    const started = Date.now();
    const installed = await helm(helmBin, ["install", RELEASE, chartDir, "--namespace", NAMESPACE, "--create-namespace", "--wait", "--timeout", "10m", ...set], { KUBECONFIG: kubeconfig! });
    expect(installed.code, installed.stderr).toBe(0);
    await kubectl(["-n", NAMESPACE, "wait", "--for=condition=Ready", "pod", "-l", `app.kubernetes.io/instance=${RELEASE}`, "--timeout=300s"]);
    console.log(`helm install → every pod Ready on ${realNode}: ${Date.now() - started} ms`);

    const token = Buffer.from((JSON.parse(await kubectl(["-n", NAMESPACE, "get", "secret", `${RELEASE}-api-token`, "-o", "json"])) as { data: { token: string } }).data.token, "base64").toString();
    const apiPort = await portForward(`svc/${RELEASE}-topology-manager`, 50051);
    const server = `127.0.0.1:${apiPort}`;
    const kne = async (args: string[], tokenValue: string) => {
      try {
        const { stdout, stderr } = await run(process.execPath, [kneBin, ...args, "--server", server], { env: { ...process.env, KNE_AUTH_TOKEN: tokenValue }, timeout: 600_000, maxBuffer: 16 << 20 });
        return { code: 0, out: stdout + stderr };
      } catch (e) {
        const err = e as { code?: number; stdout?: string; stderr?: string };
        return { code: err.code ?? 1, out: `${err.stdout ?? ""}${err.stderr ?? ""}` };
      }
    };

    // A HOST topology on the image built here (upstream's default, alpine, is not pulled here).
    const host = images.get([...images.keys()].find((k) => k.includes("host")) ?? "")!;
    expect(host, `${imageList}: no HOST node image (a name containing "host")`).toBeDefined();
    const topologyFile = join(work, "host-pair.pb.txt");
    const node = (name: string) => `nodes: { name: "${name}" vendor: HOST config: { image: "${host.repository}:${host.tag}" command: "/bin/sh" args: "-c" args: "exec sleep infinity" } interfaces: { key: "eth1" value: {} } }`;
    writeFileSync(topologyFile, `name: "chart-real"\n${node("a")}\n${node("b")}\nlinks: { a_node: "a" a_int: "eth1" z_node: "b" z_int: "eth1" }\n`);

    expect((await kne(["create", topologyFile], "")).out).toMatch(/unauthenticated|needs "authorization: Bearer/i);
    expect((await kne(["create", topologyFile], "wrong-token")).out).toMatch(/bearer token was not accepted/);
    const created = await kne(["create", topologyFile], token);
    expect(created.code, created.out).toBe(0);
    const pods = JSON.parse(await kubectl(["-n", "chart-real", "get", "pods", "-o", "json"])) as { items: Array<{ spec: { nodeName: string }; status: { conditions?: Array<{ type: string; status: string }> } }> };
    expect(pods.items).toHaveLength(2);
    for (const p of pods.items) {
      expect(p.spec.nodeName).toBe(realNode);
      expect(p.status.conditions?.find((c) => c.type === "Ready")?.status).toBe("True");
    }
    expect((await kne(["list"], "")).out).toMatch(/chart-real/);
    const upstream = createClient(controller.TopologyManager, createGrpcTransport({ baseUrl: `http://${server}` }));
    expect((await upstream.showTopology({ topologyName: "chart-real" })).topology?.nodes).toHaveLength(2);

    const metricsPort = await portForward(`svc/${RELEASE}-topology-manager-metrics`, 9464);
    expect(await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text()).toMatch(/kne_topologies\{[^}]*phase="RUNNING"/);

    // The roll: a client polls the manager's Service (its cluster address, not a port-forward,
    // which is pinned to one pod) while helm upgrade replaces the pod.
    const svc = JSON.parse(await kubectl(["-n", NAMESPACE, "get", "service", `${RELEASE}-topology-manager`, "-o", "json"])) as { spec: { clusterIP: string } };
    const poller = createClient(managerv1.TopologyService, createGrpcTransport({ baseUrl: `http://${svc.spec.clusterIP}:50051` }));
    let calls = 0;
    const failures: string[] = [];
    let polling = true;
    const loop = (async () => {
      while (polling) {
        calls++;
        try {
          await poller.listTopologies({}, { timeoutMs: 5_000 });
        } catch (e) {
          failures.push(`${Code[ConnectError.from(e).code]}: ${ConnectError.from(e).rawMessage}`);
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    const rollStarted = Date.now();
    const upgraded = await helm(helmBin, ["upgrade", RELEASE, chartDir, "--namespace", NAMESPACE, "--reuse-values", "--set", "logLevel=debug", "--wait", "--timeout", "10m"], { KUBECONFIG: kubeconfig! });
    await kubectl(["-n", NAMESPACE, "rollout", "status", `deployment/${RELEASE}-topology-manager`, "--timeout=300s"]);
    await new Promise((r) => setTimeout(r, 10_000)); // the old pod's shutdown delay and grace
    polling = false;
    await loop;
    expect(upgraded.code, upgraded.stderr).toBe(0);
    console.log(`helm upgrade roll: ${calls} calls, ${failures.length} failed, ${Date.now() - rollStarted} ms`);
    expect(failures).toEqual([]);

    const deleted = await kne(["delete", "chart-real"], token);
    expect(deleted.code, deleted.out).toBe(0);
    for (const c of children) c.kill("SIGTERM");
    const removed = await helm(helmBin, ["uninstall", RELEASE, "--namespace", NAMESPACE, "--wait"], { KUBECONFIG: kubeconfig! });
    expect(removed.code, removed.stderr).toBe(0);
    await until("the release's pods gone", 300_000, async () => ((await kubectl(["-n", NAMESPACE, "get", "pods", "-l", `app.kubernetes.io/instance=${RELEASE}`, "-o", "name"])).trim() === "" ? true : undefined));
  }, 60 * 60_000);
});
