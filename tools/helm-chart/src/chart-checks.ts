/**
 * The chart's checks as functions the tests call: helm (built by tools/testenv), kubeconform
 * (kubeconform.sh), the schema sets (made offline and cached by version), `helm lint`,
 * `helm template` and kubeconform over what it renders. Every tool runs with an argument
 * array, never through a shell.
 */
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { parse, parseAllDocuments } from "yaml";
import { chartDir, repoRoot, sourceCrdsDir } from "./chart-files";
import { crdSchemas, kubernetesSchemas, schemaLocationTemplate } from "./json-schemas";

const run = promisify(execFile);
const testenvScript = join(repoRoot, "tools", "testenv", "testenv.sh");
const kubeconformScript = join(repoRoot, "tools", "helm-chart", "kubeconform.sh");
const k8sBuildModule = join(repoRoot, "tools", "testenv", "build", "k8s");

/** The Kubernetes release the testenv is pinned to (tools/testenv/build/k8s/go.mod): the schemas' version. */
export function kubernetesVersion(): string {
  const m = /^\s*k8s\.io\/kubernetes\s+(v\d+\.\d+\.\d+)/m.exec(readFileSync(join(k8sBuildModule, "go.mod"), "utf8"));
  if (!m) throw new Error(`${join(k8sBuildModule, "go.mod")}: no k8s.io/kubernetes requirement`);
  return m[1]!;
}

const cacheRoot = (): string => process.env["KNE_TESTENV_CACHE"] || "/var/cache/kne-testenv";

/**
 * helm from the testenv's cache, built (`testenv.sh build --all`) when missing: minutes on a
 * new machine. $KNE_HELM names another helm binary to use instead.
 */
export async function ensureHelm(): Promise<string> {
  const given = process.env["KNE_HELM"];
  if (given) {
    if (!existsSync(given)) throw new Error(`KNE_HELM=${given}: no such file`);
    return given;
  }
  const { stdout } = await run("bash", [testenvScript, "bin"]);
  const helm = join(stdout.trim(), "helm");
  if (!existsSync(helm)) await run("bash", [testenvScript, "build", "--all"], { maxBuffer: 64 << 20, timeout: 60 * 60_000 });
  if (!existsSync(helm)) throw new Error(`testenv build --all did not produce ${helm}`);
  return helm;
}

/** kubeconform from the cache, built from the Go module proxy when missing. */
export async function ensureKubeconform(): Promise<string> {
  const { stdout } = await run("bash", [kubeconformScript, "build"], { maxBuffer: 16 << 20, timeout: 30 * 60_000 });
  return stdout.trim().split("\n").at(-1)!;
}

/** Bump when json-schemas.ts changes what it writes: the cached sets are remade. */
const SCHEMA_RECIPE = 1;

/**
 * The Kubernetes schemas of the pinned release, made from the k8s.io/kubernetes module's
 * swagger.json (fetched through the Go module proxy into the module cache, which the
 * testenv build fills anyway) and cached under <cache>/schemas/. Returns the directory.
 */
export async function ensureKubernetesSchemas(): Promise<string> {
  const version = kubernetesVersion();
  const dir = join(cacheRoot(), "schemas", `kubernetes-${version}_recipe-${SCHEMA_RECIPE}`);
  if (existsSync(join(dir, ".complete"))) return dir;
  const { stdout } = await run("go", ["mod", "download", "-json", `k8s.io/kubernetes@${version}`], {
    cwd: k8sBuildModule,
    env: { ...process.env, GOFLAGS: "-mod=readonly", GOTOOLCHAIN: "local" },
    maxBuffer: 16 << 20,
    timeout: 20 * 60_000,
  });
  const moduleDir = (JSON.parse(stdout) as { Dir?: string }).Dir;
  if (!moduleDir) throw new Error(`go mod download k8s.io/kubernetes@${version}: no module directory in ${stdout}`);
  const swagger = JSON.parse(readFileSync(join(moduleDir, "api", "openapi-spec", "swagger.json"), "utf8")) as Record<string, never>;
  const tmp = `${dir}.tmp.${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  for (const [file, schema] of kubernetesSchemas(swagger)) writeFileSync(join(tmp, file), JSON.stringify(schema));
  writeFileSync(join(tmp, ".complete"), `k8s.io/kubernetes ${version} api/openapi-spec/swagger.json\n`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, ".."), { recursive: true });
  renameSync(tmp, dir);
  return dir;
}

/** Our CRDs' schemas, written to `dir` (cheap: made on every run from deploy/crds/kne). */
export function writeCrdSchemas(dir: string, crdsDir = sourceCrdsDir): string[] {
  mkdirSync(dir, { recursive: true });
  const files: string[] = [];
  for (const f of readdirSync(crdsDir).filter((n) => n.endsWith(".yaml")).sort()) {
    for (const [file, schema] of crdSchemas(parse(readFileSync(join(crdsDir, f), "utf8")) as Record<string, never>)) {
      writeFileSync(join(dir, file), JSON.stringify(schema));
      files.push(file);
    }
  }
  return files;
}

/** A hash of a directory's files, for test output (which schema set was used). */
export function directoryDigest(dir: string): string {
  const h = createHash("sha256");
  for (const f of readdirSync(dir).sort()) h.update(f).update(readFileSync(join(dir, f)));
  return h.digest("hex").slice(0, 12);
}

export interface HelmResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs helm with an argument array; never throws on a non-zero exit (the caller looks at code). */
export async function helm(helmBin: string, args: readonly string[], env: Record<string, string> = {}): Promise<HelmResult> {
  try {
    const { stdout, stderr } = await run(helmBin, [...args], { maxBuffer: 64 << 20, timeout: 10 * 60_000, env: { ...process.env, ...env } });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string; message: string };
    return { code: typeof err.code === "number" ? err.code : 1, stdout: err.stdout ?? "", stderr: err.stderr ?? err.message };
  }
}

/** `helm template` of the chart with value files and --set pairs, for a fixed Kubernetes version. */
export async function renderChart(helmBin: string, options: { release?: string; namespace?: string; valueFiles?: string[]; set?: string[] } = {}): Promise<string> {
  const args = ["template", options.release ?? "kne", chartDir, "--namespace", options.namespace ?? "kne-system", "--kube-version", kubernetesVersion().slice(1)];
  for (const f of options.valueFiles ?? []) args.push("--values", f);
  for (const s of options.set ?? []) args.push("--set", s);
  const r = await helm(helmBin, args);
  if (r.code !== 0) throw new Error(`helm ${args.join(" ")} failed (exit ${r.code}):\n${r.stderr}`);
  return r.stdout;
}

/** The documents of a multi-document YAML stream (empty ones dropped). */
export function manifests(yamlText: string): Array<Record<string, unknown> & { kind: string; apiVersion: string; metadata: { name: string; namespace?: string; labels?: Record<string, string> } }> {
  return parseAllDocuments(yamlText)
    .map((d) => {
      if (d.errors.length > 0) throw new Error(`rendered YAML: ${d.errors[0]!.message}`);
      return d.toJS() as never;
    })
    .filter((d) => d !== null);
}

export interface KubeconformSummary {
  valid: number;
  invalid: number;
  errors: number;
  skipped: number;
  resources: Array<{ filename: string; kind: string; name: string; version: string; status: string; msg: string }>;
}

/**
 * kubeconform -strict over a YAML stream, with only the given schema directories (no
 * download: a kind without a schema is an error, never skipped).
 */
export async function kubeconform(bin: string, schemaDirs: readonly string[], yamlText: string, workDir: string): Promise<KubeconformSummary> {
  mkdirSync(workDir, { recursive: true });
  const file = join(workDir, `input-${process.pid}-${Date.now()}.yaml`);
  writeFileSync(file, yamlText);
  const args = ["-strict", "-summary", "-output", "json", "-verbose"];
  for (const d of schemaDirs) args.push("-schema-location", schemaLocationTemplate(d));
  args.push(file);
  let stdout: string;
  try {
    ({ stdout } = await run(bin, args, { maxBuffer: 64 << 20, timeout: 5 * 60_000 }));
  } catch (e) {
    // Exit 1 when something is invalid: the JSON report is still on stdout.
    const err = e as { stdout?: string; stderr?: string; message: string };
    if (!err.stdout) throw new Error(`kubeconform failed: ${err.stderr ?? err.message}`);
    stdout = err.stdout;
  }
  const report = JSON.parse(stdout) as { resources?: KubeconformSummary["resources"]; summary: Omit<KubeconformSummary, "resources"> };
  return { ...report.summary, resources: report.resources ?? [] };
}
