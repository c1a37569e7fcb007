/**
 * The chart renders, lints clean (strict) and validates: `helm template` with the default
 * values and with every option on (ci/everything-values.yaml), each object checked by
 * kubeconform -strict against the Kubernetes schemas of the pinned release and our CRDs'
 * schemas (both made offline). helm comes from the testenv's build (`testenv.sh build --all`),
 * kubeconform from kubeconform.sh: a new machine builds them first.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  chartDir,
  directoryDigest,
  ensureHelm,
  ensureKubeconform,
  ensureKubernetesSchemas,
  helm,
  kubeconform,
  kubernetesVersion,
  manifests,
  renderChart,
  writeCrdSchemas,
} from "../src/index";

const everything = join(chartDir, "ci", "everything-values.yaml");
const BUILD_TIMEOUT_MS = 60 * 60_000;

let helmBin: string;
let kubeconformBin: string;
let schemaDirs: string[];
let work: string;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), "kne-chart-"));
  const t0 = Date.now();
  [helmBin, kubeconformBin] = await Promise.all([ensureHelm(), ensureKubeconform()]);
  const k8sSchemas = await ensureKubernetesSchemas();
  const crdSchemaDir = join(work, "crd-schemas");
  writeCrdSchemas(crdSchemaDir);
  schemaDirs = [k8sSchemas, crdSchemaDir];
  console.log(`chart checks: helm ${helmBin}, kubeconform ${kubeconformBin}, Kubernetes ${kubernetesVersion()} schemas ${k8sSchemas} (${directoryDigest(k8sSchemas)}), ready in ${Date.now() - t0} ms`);
}, BUILD_TIMEOUT_MS);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe("helm lint --strict", () => {
  it("is clean with the default values and with everything on", async () => {
    for (const values of [[], ["--values", everything]]) {
      const r = await helm(helmBin, ["lint", "--strict", chartDir, ...values]);
      expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
      expect(r.stdout).toMatch(/1 chart\(s\) linted, 0 chart\(s\) failed/);
      expect(r.stdout).not.toMatch(/\[(WARNING|ERROR)\]/);
    }
  });
});

describe("helm template validated by kubeconform (Kubernetes schemas and our CRDs, strict)", () => {
  it("accepts every object rendered with the default values", async () => {
    const text = await renderChart(helmBin);
    const objects = manifests(text);
    const kinds = objects.map((o) => o.kind).sort();
    // The manager's and the agent's (cluster mode) ServiceAccount, ClusterRole and binding.
    expect(kinds).toEqual(["ClusterRole", "ClusterRole", "ClusterRoleBinding", "ClusterRoleBinding", "DaemonSet", "Deployment", "Deployment", "Deployment", "Secret", "Service", "Service", "Service", "Service", "Service", "ServiceAccount", "ServiceAccount"].sort());
    const report = await kubeconform(kubeconformBin, schemaDirs, text, work);
    expect(report.resources.filter((r) => r.status !== "statusValid"), JSON.stringify(report.resources, null, 1)).toEqual([]);
    expect(report).toMatchObject({ valid: objects.length, invalid: 0, errors: 0, skipped: 0 });
  });

  it("accepts every object rendered with everything on, and a Topology against our CRD", async () => {
    const text = await renderChart(helmBin, { valueFiles: [everything] });
    const objects = manifests(text);
    const kinds = new Set(objects.map((o) => o.kind));
    for (const k of ["PodDisruptionBudget", "ServiceMonitor", "DaemonSet", "ClusterRole"]) expect(kinds).toContain(k);
    // ServiceMonitor is the Prometheus operator's: kubeconform has no schema for it offline.
    const own = objects.filter((o) => o.kind !== "ServiceMonitor");
    const sample = [
      "apiVersion: kne.dev/v1alpha1\nkind: Topology\nmetadata: {name: t1}\nspec:\n  namespace: t1\n  nodes: [{name: r1, vendor: HOST}]\n  links: []\n",
    ].join("---\n");
    const ownText = own.map((o) => JSON.stringify(o)).join("\n---\n");
    const report = await kubeconform(kubeconformBin, schemaDirs, `${ownText}\n---\n${sample}`, work);
    expect(report.resources.filter((r) => r.status !== "statusValid"), JSON.stringify(report.resources, null, 1)).toEqual([]);
    expect(report).toMatchObject({ valid: own.length + 1, invalid: 0, errors: 0, skipped: 0 });
    console.log(`everything on: ${objects.length} objects (${[...kinds].sort().join(", ")}); ${report.valid} valid`);
  });

  it("refuses what the schemas forbid (the check is not empty): a bad field, a wrong type, a bad CR, an unknown kind", async () => {
    const text = await renderChart(helmBin);
    const deployment = manifests(text).find((o) => o.kind === "Deployment")!;
    const spec = deployment["spec"] as Record<string, unknown>;
    const bad = [
      { ...deployment, metadata: { name: "typo" }, spec: { ...spec, replica: 2 } },
      { ...deployment, metadata: { name: "wrong-type" }, spec: { ...spec, replicas: "two" } },
      { apiVersion: "kne.dev/v1alpha1", kind: "Link", metadata: { name: "l", namespace: "t" }, spec: { nope: true } },
      { apiVersion: "kne.dev/v1alpha1", kind: "Router", metadata: { name: "r" } },
    ];
    const report = await kubeconform(kubeconformBin, schemaDirs, bad.map((o) => JSON.stringify(o)).join("\n---\n"), work);
    expect(report.valid).toBe(0);
    expect(report.invalid + report.errors).toBe(4);
    const byName = Object.fromEntries(report.resources.map((r) => [r.name, r.msg]));
    expect(byName["typo"]).toMatch(/additional properties 'replica' not allowed/);
    expect(byName["wrong-type"]).toMatch(/replicas.*want integer/);
    expect(byName["l"]).toMatch(/additional properties 'nope' not allowed/);
    expect(byName["r"]).toMatch(/could not find schema/);
  });
});

describe("what the values make", () => {
  it("turns the API token on by default: a random token in a Secret, mounted as --auth-token-file", async () => {
    const a = manifests(await renderChart(helmBin));
    const b = manifests(await renderChart(helmBin));
    const secret = (objs: typeof a) => objs.find((o) => o.kind === "Secret" && o.metadata.name === "kne-api-token")!;
    const token = (objs: typeof a) => Buffer.from((secret(objs)["data"] as Record<string, string>)["token"]!, "base64").toString();
    expect(token(a)).toMatch(/^[A-Za-z0-9]{48}$/);
    // Outside a cluster (no lookup) each render draws a new one; an upgrade keeps it (the install test).
    expect(token(a)).not.toBe(token(b));
    const manager = a.find((o) => o.kind === "Deployment" && o.metadata.name === "kne-topology-manager")!;
    const podSpec = ((manager["spec"] as Record<string, Record<string, unknown>>)["template"]!["spec"]) as Record<string, unknown>;
    const container = (podSpec["containers"] as Array<Record<string, unknown>>)[0]!;
    const args = container["args"] as string[];
    expect(args).toEqual(expect.arrayContaining(["--backend", "kubernetes", "--auth-token-file", "/var/run/secrets/kne/auth/token", "--install-crds", "false", "--metrics-addr", "0.0.0.0:9464"]));
    expect(container["readinessProbe"]).toMatchObject({ grpc: { port: 50051, service: "" } });
    expect(container["securityContext"]).toMatchObject({ runAsNonRoot: true, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false });
  });

  it("uses the given Secret and TLS, with TCP probes (the kubelet's gRPC probe cannot speak TLS)", async () => {
    const objs = manifests(await renderChart(helmBin, { valueFiles: [everything] }));
    expect(objs.filter((o) => o.kind === "Secret")).toEqual([]);
    const manager = objs.find((o) => o.kind === "Deployment" && o.metadata.name === "kne-topology-manager")!;
    const podSpec = ((manager["spec"] as Record<string, Record<string, unknown>>)["template"]!["spec"]) as Record<string, unknown>;
    const container = (podSpec["containers"] as Array<Record<string, unknown>>)[0]!;
    expect(container["args"]).toEqual(expect.arrayContaining(["--tls-cert", "--tls-key", "--tls-client-ca", "--operator-mode", "cr", "--install-crds", "true"]));
    expect(container["readinessProbe"]).toMatchObject({ tcpSocket: { port: 50051 } });
    const volumes = podSpec["volumes"] as Array<Record<string, Record<string, unknown>>>;
    expect(volumes.find((v) => v["name"] as unknown === "api-token")!["secret"]).toMatchObject({ secretName: "kne-api-token", items: [{ key: "api-token", path: "token" }] });
    const role = objs.find((o) => o.kind === "ClusterRole" && o.metadata.name === "kne-topology-manager")!;
    const crdRules = (role["rules"] as Array<{ resources: string[]; verbs: string[] }>).filter((r) => r.resources.includes("customresourcedefinitions"));
    expect(crdRules.flatMap((r) => r.verbs).sort()).toEqual(["create", "get", "patch"]);
  });

  it("refuses bad values with a message naming the value (values.schema.json, then the templates' own checks)", async () => {
    const cases: Array<[string[], RegExp]> = [
      [["topologyManager.replica=2"], /at '\/topologyManager': additional properties 'replica' not allowed/],
      [["logLevel=loud"], /at '\/logLevel': value must be one of 'fatal', 'error'/],
      [["topologyManager.operatorMode=operator"], /at '\/topologyManager\/operatorMode': value must be one of 'auto', 'cr', 'pod'/],
      [["topologyAgent.stateDir=relative/dir"], /at '\/topologyAgent\/stateDir'/],
      [["topologyManager.port=70000"], /at '\/topologyManager\/port': maximum/],
      [["tls.enabled=true"], /tls.secretName is required when tls.enabled is true/],
      [["images.topologyManager.repository="], /at '\/images\/topologyManager\/repository': minLength/],
    ];
    for (const [set, message] of cases) await expect(renderChart(helmBin, { set })).rejects.toThrow(message);
  });
});
