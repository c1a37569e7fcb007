/**
 * The chart on a real control plane (tools/testenv: etcd, kube-apiserver, controller-manager,
 * scheduler, kwok nodes). kwok marks pods Running and Ready without running them, so this
 * proves what the API server decides — every object accepted (server-side dry run, then a
 * real install), Deployments available and the DaemonSet on every node, upgrade keeps the
 * API token, uninstall removes everything the chart made and keeps the CRDs — and, with the
 * manager process run here as its pod would run it (the chart's args verbatim, in-cluster
 * config from the chart's ServiceAccount token and the cluster CA, the chart's API token),
 * that the chart's ClusterRole is enough for a HOST topology's whole life and refuses
 * what it should, and that TLS and mTLS work from the paths where the chart mounts its TLS
 * Secret. The same with the images on a real node is test/real-node.int.spec.ts.
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { promisify } from "node:util";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { controller, healthv1, managerv1 } from "@kne/proto";
import { acquireTestenv, k8sSkipReason, TESTENV_UP_TIMEOUT_MS, until, type Testenv } from "@kne/testenv";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chartDir, ensureHelm, helm, manifests, renderChart, repoRoot } from "../src/index";

const run = promisify(execFile);
const RELEASE = "kne";
const NAMESPACE = "kne-system";
const everything = join(chartDir, "ci", "everything-values.yaml");
const kneBin = join(repoRoot, "apps", "cli", "bin", "kne.mjs");
const managerBin = join(repoRoot, "apps", "topology-manager", "bin", "topology-manager.mjs");
const runAsPod = join(repoRoot, "tools", "helm-chart", "test", "run-as-pod.sh");
// Tags of images kwok never pulls: the objects are what is checked here.
const imageTags = ["topologyManager", "topologyAgent", "configBootstrapper", "serviceExposer"].map((k) => `images.${k}.tag=kwok-only`);

const skip = k8sSkipReason ?? (process.getuid?.() !== 0 ? "needs root (unshare and mount for the in-cluster manager)" : undefined);
if (skip) console.log(`chart install tests skipped: ${skip}`);

let env: Testenv;
let helmBin: string;
let kubectlBin: string;
let work: string;
let helmEnv: Record<string, string>;
let apiServer: URL;

async function kubectl(args: readonly string[], input?: string): Promise<string> {
  const child = execFile(kubectlBin, ["--kubeconfig", env.kubeconfigPath, ...args], { maxBuffer: 64 << 20 });
  if (input !== undefined) child.stdin!.end(input);
  return new Promise((resolve, reject) => {
    let out = "";
    let err = "";
    child.stdout!.on("data", (c: Buffer) => (out += c.toString()));
    child.stderr!.on("data", (c: Buffer) => (err += c.toString()));
    child.once("close", (code) => (code === 0 ? resolve(out) : reject(new Error(`kubectl ${args.join(" ")} failed (${code}): ${err}`))));
  });
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** Everything the release labelled, by kind/namespace/name (cluster-scoped kinds included). */
async function releaseObjects(): Promise<string[]> {
  const kinds = "deployments,daemonsets,services,secrets,serviceaccounts,poddisruptionbudgets,configmaps,replicasets,pods,clusterroles,clusterrolebindings";
  const out = await kubectl(["get", kinds, "-A", "-l", `app.kubernetes.io/instance=${RELEASE}`, "-o", "jsonpath={range .items[*]}{.kind}/{.metadata.namespace}/{.metadata.name}{\"\\n\"}{end}"]);
  return out.split("\n").filter((l) => l !== "").sort();
}


const secretsDir = (): string => join(work, "secrets");

/** /run/secrets of the manager's pod: its ServiceAccount's files and the chart's API token. */
async function writePodSecrets(dir: () => string): Promise<void> {
  const sa = join(dir(), "kubernetes.io", "serviceaccount");
  const auth = join(dir(), "kne", "auth");
  mkdirSync(sa, { recursive: true });
  mkdirSync(auth, { recursive: true });
  writeFileSync(join(sa, "token"), (await kubectl(["-n", NAMESPACE, "create", "token", `${RELEASE}-topology-manager`, "--duration=1h"])).trim());
  writeFileSync(join(sa, "ca.crt"), await kubectl(["-n", NAMESPACE, "get", "configmap", "kube-root-ca.crt", "-o", "jsonpath={.data.ca\\.crt}"]));
  writeFileSync(join(sa, "namespace"), NAMESPACE);
  const secret = JSON.parse(await kubectl(["-n", NAMESPACE, "get", "secret", `${RELEASE}-api-token`, "-o", "json"])) as { data: { token: string } };
  writeFileSync(join(auth, "token"), `${Buffer.from(secret.data.token, "base64").toString()}\n`);
}

/** The chart's args with the listening addresses moved to loopback ports of this host. */
function listenHere(chartArgs: readonly string[], apiPort: number, metricsPort: number): string[] {
  const args = [...chartArgs];
  const replace = (flag: string, value: string) => {
    const i = args.indexOf(flag);
    expect(i, `the chart passes ${flag}`).toBeGreaterThanOrEqual(0);
    args[i + 1] = value;
  };
  replace("--host", "127.0.0.1");
  replace("--port", String(apiPort));
  replace("--metrics-addr", `127.0.0.1:${metricsPort}`);
  return args;
}

/**
 * The topology-manager as its pod runs it: no kubeconfig anywhere, the API server's address
 * in the Service environment, /run/secrets as the kubelet would mount it (a private mount
 * namespace of its own).
 */
function startManagerAsPod(args: readonly string[]): { manager: ChildProcess; lines: Array<Record<string, unknown>>; exited: Promise<number | null>; stderr: () => string } {
  const home = join(work, "home");
  mkdirSync(home, { recursive: true });
  const podEnv: NodeJS.ProcessEnv = { PATH: process.env["PATH"], HOME: home, KUBERNETES_SERVICE_HOST: apiServer.hostname, KUBERNETES_SERVICE_PORT: apiServer.port };
  const manager = spawn("unshare", ["--mount", "--propagation", "private", "bash", runAsPod, secretsDir(), "--", process.execPath, managerBin, ...args], { env: podEnv, stdio: ["ignore", "pipe", "pipe"] });
  const lines: Array<Record<string, unknown>> = [];
  let err = "";
  manager.stderr!.on("data", (c: Buffer) => (err += c.toString()));
  createInterface({ input: manager.stdout! }).on("line", (l) => {
    try {
      lines.push(JSON.parse(l) as Record<string, unknown>);
    } catch {
      lines.push({ msg: l });
    }
  });
  const exited = new Promise<number | null>((resolve) => manager.once("exit", (code) => resolve(code)));
  return { manager, lines, exited, stderr: () => err };
}

async function stopManager(manager: ChildProcess, exited: Promise<number | null>): Promise<void> {
  manager.kill("SIGTERM");
  const code = await Promise.race([exited, new Promise<null>((r) => setTimeout(() => r(null), 20_000))]);
  if (code === null && manager.exitCode === null) manager.kill("SIGKILL");
  await exited;
}

describe.skipIf(skip !== undefined)("the chart on the test environment's control plane (kwok nodes)", () => {
  beforeAll(async () => {
    [env, helmBin] = await Promise.all([acquireTestenv("helm-chart"), ensureHelm()]);
    const { stdout } = await run("bash", [join(repoRoot, "tools", "testenv", "testenv.sh"), "bin"]);
    kubectlBin = join(stdout.trim(), "kubectl");
    work = mkdtempSync(join(tmpdir(), "kne-chart-install-"));
    // helm keeps its caches and repository config under these; nothing in the user's home.
    apiServer = new URL((await kubectl(["config", "view", "--minify", "-o", "jsonpath={.clusters[0].cluster.server}"])).trim());
    helmEnv = { KUBECONFIG: env.kubeconfigPath, HELM_CACHE_HOME: join(work, "helm-cache"), HELM_CONFIG_HOME: join(work, "helm-config"), HELM_DATA_HOME: join(work, "helm-data") };
  }, TESTENV_UP_TIMEOUT_MS);

  afterAll(async () => {
    if (helmBin && env) await helm(helmBin, ["uninstall", RELEASE, "--namespace", NAMESPACE, "--wait", "--ignore-not-found"], helmEnv);
    await env?.release();
    if (work) rmSync(work, { recursive: true, force: true });
  }, 300_000);

  it("a manager told not to install CRDs refuses to start without them, naming each one", async (ctx) => {
    // A shared environment (KNE_TESTENV_KUBECONFIG) may have them from an earlier test.
    if ((await kubectl(["get", "crd", "topologies.kne.dev", "--ignore-not-found", "-o", "name"])).trim() !== "") {
      console.log("skipped: the kne.dev CRDs are already installed in this cluster");
      ctx.skip();
    }
    let out = "";
    try {
      await run(process.execPath, [managerBin, "--port", "0", "--backend", "kubernetes", "--kubeconfig", env.kubeconfigPath, "--install-crds", "false"], { timeout: 60_000, maxBuffer: 16 << 20 });
    } catch (e) {
      const err = e as { code?: number; stdout?: string };
      expect(err.code).toBe(1);
      out = err.stdout ?? "";
    }
    expect(out).toMatch(/server failed to start/);
    expect(out).toMatch(/CustomResourceDefinitions missing: topologies\.kne\.dev is not installed; links\.kne\.dev is not installed; devices\.kne\.dev is not installed/);
  });

  it("every rendered object passes the API server's own validation (server-side dry run), default values and everything on", async () => {
    await kubectl(["create", "namespace", "kne-dry-run"]);
    try {
      for (const valueFiles of [[], [everything]]) {
        const text = await renderChart(helmBin, { namespace: "kne-dry-run", valueFiles, set: imageTags });
        // The ServiceMonitor's CRD belongs to the Prometheus operator, which this cluster lacks.
        const objects = manifests(text).filter((o) => o.kind !== "ServiceMonitor");
        const out = await kubectl(["apply", "--dry-run=server", "-f", "-"], objects.map((o) => JSON.stringify(o)).join("\n---\n"));
        const accepted = out.split("\n").filter((l) => / (created|configured) \(server dry run\)$/.test(l));
        expect(accepted, out).toHaveLength(objects.length);
      }
    } finally {
      await kubectl(["delete", "namespace", "kne-dry-run", "--wait=false"]);
    }
  });

  let token = "";
  it("installs: CRDs, every object, Deployments available and an agent on every node", async () => {
    const started = Date.now();
    const r = await helm(helmBin, ["install", RELEASE, chartDir, "--namespace", NAMESPACE, "--create-namespace", "--wait", "--timeout", "5m", ...imageTags.flatMap((s) => ["--set", s])], helmEnv);
    expect(r.code, r.stderr).toBe(0);
    console.log(`helm install --wait (kwok: pods Ready without running): ${Date.now() - started} ms`);
    for (const crd of ["topologies.kne.dev", "links.kne.dev", "devices.kne.dev"]) await kubectl(["wait", "--for=condition=Established", `crd/${crd}`, "--timeout=60s"]);
    for (const d of ["topology-manager", "config-bootstrapper", "service-exposer"]) {
      await kubectl(["-n", NAMESPACE, "rollout", "status", `deployment/${RELEASE}-${d}`, "--timeout=120s"]);
    }
    const nodes = (await kubectl(["get", "nodes", "-o", "name"])).trim().split("\n").length;
    const ds = JSON.parse(await kubectl(["-n", NAMESPACE, "get", "daemonset", `${RELEASE}-topology-agent`, "-o", "json"])) as { status: { numberReady: number; desiredNumberScheduled: number } };
    expect(ds.status.desiredNumberScheduled).toBe(nodes);
    await until("every agent Ready", 120_000, async () => {
      const s = JSON.parse(await kubectl(["-n", NAMESPACE, "get", "daemonset", `${RELEASE}-topology-agent`, "-o", "json"])) as { status: { numberReady: number } };
      return s.status.numberReady === nodes ? true : undefined;
    });
    const secret = JSON.parse(await kubectl(["-n", NAMESPACE, "get", "secret", `${RELEASE}-api-token`, "-o", "json"])) as { data: { token: string } };
    token = Buffer.from(secret.data.token, "base64").toString();
    expect(token).toMatch(/^[A-Za-z0-9]{48}$/);
    const objects = await releaseObjects();
    for (const o of [
      `ClusterRole//${RELEASE}-topology-manager`,
      `ClusterRoleBinding//${RELEASE}-topology-manager`,
      `DaemonSet/${NAMESPACE}/${RELEASE}-topology-agent`,
      `Deployment/${NAMESPACE}/${RELEASE}-topology-manager`,
      `Secret/${NAMESPACE}/${RELEASE}-api-token`,
      `Service/${NAMESPACE}/${RELEASE}-topology-manager-metrics`,
      `ServiceAccount/${NAMESPACE}/${RELEASE}-topology-manager`,
    ]) {
      expect(objects).toContain(o);
    }
  }, 600_000);

  it("upgrades with a changed value: a new ReplicaSet, the same API token (kept by lookup)", async () => {
    const before = JSON.parse(await kubectl(["-n", NAMESPACE, "get", "deployment", `${RELEASE}-topology-manager`, "-o", "json"])) as { metadata: { generation: number } };
    const r = await helm(helmBin, ["upgrade", RELEASE, chartDir, "--namespace", NAMESPACE, "--wait", "--timeout", "5m", "--reuse-values", "--set", "logLevel=debug"], helmEnv);
    expect(r.code, r.stderr).toBe(0);
    const after = JSON.parse(await kubectl(["-n", NAMESPACE, "get", "deployment", `${RELEASE}-topology-manager`, "-o", "json"])) as { metadata: { generation: number }; spec: { template: { spec: { containers: Array<{ args: string[] }> } } } };
    expect(after.metadata.generation).toBeGreaterThan(before.metadata.generation);
    expect(after.spec.template.spec.containers[0]!.args.join(" ")).toContain("--log-level debug");
    await kubectl(["-n", NAMESPACE, "rollout", "status", `deployment/${RELEASE}-topology-manager`, "--timeout=120s"]);
    const secret = JSON.parse(await kubectl(["-n", NAMESPACE, "get", "secret", `${RELEASE}-api-token`, "-o", "json"])) as { data: { token: string } };
    expect(Buffer.from(secret.data.token, "base64").toString()).toBe(token);
  }, 600_000);

  it("grants the manager's ServiceAccount what it uses and nothing it does not", async () => {
    const sa = `system:serviceaccount:${NAMESPACE}:${RELEASE}-topology-manager`;
    const can = async (...args: string[]) => (await kubectl(["auth", "can-i", "--as", sa, ...args]).catch((e: Error) => e.message)).trim().startsWith("yes");
    expect(await can("create", "pods", "-n", "any-topology")).toBe(true);
    expect(await can("patch", "topologies.kne.dev", "--subresource=status")).toBe(true);
    expect(await can("patch", "devices.kne.dev", "--subresource=status", "-n", "any-topology")).toBe(true);
    expect(await can("get", "pods", "--subresource=log", "-n", "any-topology")).toBe(true);
    expect(await can("get", "customresourcedefinitions/topologies.kne.dev")).toBe(true);
    expect(await can("get", "secrets", "-n", NAMESPACE)).toBe(false);
    expect(await can("list", "secrets", "-A")).toBe(false);
    expect(await can("create", "customresourcedefinitions")).toBe(false);
    expect(await can("patch", "customresourcedefinitions/topologies.kne.dev")).toBe(false);
    expect(await can("get", "customresourcedefinitions/other.example.com")).toBe(false);
    expect(await can("create", "pods", "--subresource=exec", "-n", "any-topology")).toBe(false);
    expect(await can("patch", "links.kne.dev", "--subresource=status", "-n", "any-topology")).toBe(false);
    expect(await can("delete", "nodes")).toBe(false);
  });

  it("runs the manager as its pod would (chart args, in-cluster ServiceAccount config, API token): a HOST topology's whole life, tokens checked, metrics", async () => {
    // The pod's files: a token of the chart's ServiceAccount from the TokenRequest API (what
    // the kubelet projects), the cluster CA as published in every namespace, the namespace.
    await writePodSecrets(secretsDir);

    // The container's args exactly as the chart renders them, but for where it listens: a
    // free loopback port here instead of every address of a pod.
    const deployment = JSON.parse(await kubectl(["-n", NAMESPACE, "get", "deployment", `${RELEASE}-topology-manager`, "-o", "json"])) as { spec: { template: { spec: { containers: Array<{ args: string[] }> } } } };
    const apiPort = await freePort();
    const metricsPort = await freePort();
    const args = listenHere(deployment.spec.template.spec.containers[0]!.args, apiPort, metricsPort);
    expect(args).toEqual(expect.arrayContaining(["--backend", "kubernetes", "--install-crds", "false", "--auth-token-file", "/var/run/secrets/kne/auth/token"]));
    const { manager, lines, exited, stderr } = startManagerAsPod(args);

    const kne = async (cliArgs: string[], token?: string) => {
      try {
        const { stdout, stderr: err } = await run(process.execPath, [kneBin, ...cliArgs, "--server", `127.0.0.1:${apiPort}`], { env: { ...process.env, KUBECONFIG: "", ...(token !== undefined ? { KNE_AUTH_TOKEN: token } : { KNE_AUTH_TOKEN: "" }) }, maxBuffer: 16 << 20, timeout: 300_000 });
        return { code: 0, out: stdout + err };
      } catch (e) {
        const err = e as { code?: number; stdout?: string; stderr?: string };
        return { code: err.code ?? 1, out: `${err.stdout ?? ""}${err.stderr ?? ""}` };
      }
    };
    try {
      await until("the manager serving", 90_000, async () => {
        if (manager.exitCode !== null) throw new Error(`the manager exited ${manager.exitCode}: ${stderr()} ${JSON.stringify(lines.slice(-5))}`);
        return lines.some((l) => l["msg"] === "server started") ? true : undefined;
      });
      expect(lines.find((l) => l["msg"] === "security configured")).toMatchObject({ auth: true, tls: false });

      const topology = join(repoRoot, "examples", "host-3node", "topology.pb.txt");
      const noToken = await kne(["create", topology]);
      expect(noToken.code).not.toBe(0);
      expect(noToken.out).toMatch(/unauthenticated|needs "authorization: Bearer/i);
      const wrong = await kne(["create", topology], "not-the-token");
      expect(wrong.code).not.toBe(0);
      expect(wrong.out).toMatch(/bearer token was not accepted/);

      const created = await kne(["create", topology], token);
      expect(created.code, created.out).toBe(0);
      const pods = JSON.parse(await kubectl(["-n", "host-3node", "get", "pods", "-o", "json"])) as { items: Array<{ status: { conditions?: Array<{ type: string; status: string }> } }> };
      expect(pods.items).toHaveLength(3);
      for (const p of pods.items) expect(p.status.conditions?.find((c) => c.type === "Ready")?.status).toBe("True");
      const listed = await kne(["list"]);
      expect(listed.out).toMatch(/host-3node/);
      // Upstream's gRPC service on the same port, as existing KNE clients call it.
      const upstream = createClient(controller.TopologyManager, createGrpcTransport({ baseUrl: `http://127.0.0.1:${apiPort}` }));
      const shown = await upstream.showTopology({ topologyName: "host-3node" });
      expect(shown.topology?.nodes.map((n) => n.name).sort()).toEqual(["h1", "h2", "h3"]);

      const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
      expect(metrics).toMatch(/kne_topologies\{[^}]*phase="RUNNING"[^}]*\} 1/);

      const deleted = await kne(["delete", "host-3node"], token);
      expect(deleted.code, deleted.out).toBe(0);
      await until("the topology's namespace gone", 120_000, async () => ((await kubectl(["get", "namespace", "host-3node", "--ignore-not-found", "-o", "name"])).trim() === "" ? true : undefined));
      // Nothing refused by RBAC along the way: a forbidden call would have been logged and retried.
      const forbidden = lines.filter((l) => /forbidden|"(status|statusCode|code)":403\b/i.test(JSON.stringify(l)));
      expect(forbidden, JSON.stringify(forbidden.slice(0, 3))).toEqual([]);
    } finally {
      await stopManager(manager, exited);
    }
    expect(manager.exitCode).toBe(0);
    expect(lines.map((l) => l["msg"])).toEqual(expect.arrayContaining(["shutdown requested", "server stopped"]));
  }, 600_000);

  it("serves TLS and mTLS from the files where the chart mounts its TLS Secret", async () => {
    // A CA, the server's certificate for loopback, and a client certificate, as the TLS
    // Secret (tls.crt, tls.key, ca.crt) would hold them.
    const pki = join(work, "pki");
    mkdirSync(pki, { recursive: true });
    const openssl = (args: string[]) => run("openssl", args, { cwd: pki });
    await openssl(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt", "-days", "1", "-subj", "/CN=kne-chart-test-ca"]);
    for (const [name, ext] of [["server", "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth"], ["client", "extendedKeyUsage=clientAuth"]] as const) {
      writeFileSync(join(pki, `${name}.ext`), `${ext}\n`);
      await openssl(["req", "-newkey", "rsa:2048", "-nodes", "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", `/CN=${name}`]);
      await openssl(["x509", "-req", "-in", `${name}.csr`, "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-out", `${name}.crt`, "-days", "1", "-extfile", `${name}.ext`]);
    }
    const tlsDir = join(secretsDir(), "kne", "tls");
    mkdirSync(tlsDir, { recursive: true });
    writeFileSync(join(tlsDir, "tls.crt"), readFileSync(join(pki, "server.crt")));
    writeFileSync(join(tlsDir, "tls.key"), readFileSync(join(pki, "server.key")));
    writeFileSync(join(tlsDir, "client-ca.crt"), readFileSync(join(pki, "ca.crt")));

    const text = await renderChart(helmBin, { namespace: NAMESPACE, set: [...imageTags, "tls.enabled=true", "tls.secretName=kne-api-tls", "tls.clientCaKey=ca.crt"] });
    const deployment = manifests(text).find((o) => o.kind === "Deployment" && o.metadata.name === `${RELEASE}-topology-manager`)!;
    const chartArgs = ((deployment["spec"] as { template: { spec: { containers: Array<{ args: string[] }> } } }).template.spec.containers[0]!.args);
    expect(chartArgs).toEqual(expect.arrayContaining(["--tls-cert", "/var/run/secrets/kne/tls/tls.crt", "--tls-key", "/var/run/secrets/kne/tls/tls.key", "--tls-client-ca", "/var/run/secrets/kne/tls/client-ca.crt"]));
    const apiPort = await freePort();
    const { manager, lines, exited, stderr } = startManagerAsPod(listenHere(chartArgs, apiPort, await freePort()));
    try {
      await until("the manager serving TLS", 90_000, async () => {
        if (manager.exitCode !== null) throw new Error(`the manager exited ${manager.exitCode}: ${stderr()} ${JSON.stringify(lines.slice(-5))}`);
        return lines.some((l) => l["msg"] === "server started") ? true : undefined;
      });
      expect(lines.find((l) => l["msg"] === "security configured")).toMatchObject({ tls: true, mtls: true, auth: true });
      const baseUrl = `https://127.0.0.1:${apiPort}`;
      const ca = readFileSync(join(pki, "ca.crt"));
      const withCert = createGrpcTransport({ baseUrl, nodeOptions: { ca, cert: readFileSync(join(pki, "client.crt")), key: readFileSync(join(pki, "client.key")) } });
      expect((await createClient(healthv1.Health, withCert).check({ service: "" })).status).toBe(healthv1.HealthCheckResponse_ServingStatus.SERVING);
      const topologies = createClient(managerv1.TopologyService, withCert);
      expect((await topologies.listTopologies({})).topologies).toEqual([]);
      await expect(topologies.deleteTopology({ name: "nope" })).rejects.toMatchObject({ code: Code.Unauthenticated });
      // No client certificate: the handshake is refused before any call.
      const noCert = createClient(healthv1.Health, createGrpcTransport({ baseUrl, nodeOptions: { ca } }));
      await expect(noCert.check({ service: "" }, { timeoutMs: 10_000 })).rejects.toBeInstanceOf(ConnectError);
    } finally {
      await stopManager(manager, exited);
    }
    expect(manager.exitCode).toBe(0);
  }, 300_000);

  it("uninstalls everything the chart made and keeps the CRDs (as Helm does with crds/)", async () => {
    const r = await helm(helmBin, ["uninstall", RELEASE, "--namespace", NAMESPACE, "--wait", "--timeout", "5m"], helmEnv);
    expect(r.code, r.stderr).toBe(0);
    await until("the release's objects gone", 120_000, async () => ((await releaseObjects()).length === 0 ? true : undefined));
    for (const crd of ["topologies.kne.dev", "links.kne.dev", "devices.kne.dev"]) {
      expect((await kubectl(["get", "crd", crd, "-o", "name"])).trim()).toBe(`customresourcedefinition.apiextensions.k8s.io/${crd}`);
    }
  }, 600_000);
});
