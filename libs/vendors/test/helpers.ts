/**
 * Integration-test support: a pair of network namespaces joined by a veth (198.18.0.0/24),
 * a tiny supervisor that starts a runtime's `ProcessSpec`s with nsenter (what the local
 * backend does) and can signal and restart them, node contexts, and cleanup that removes
 * exactly what a test made — its namespaces, its directories, the processes it started —
 * in afterAll and, as a last resort, at process exit. Names start with `kvt-`.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, rm } from "node:fs/promises";
import { type MessageInitShape, create } from "@bufbuild/protobuf";
import { topo } from "@kne/proto";
import {
  type ExecResult,
  type LocalNodeContext,
  type LocalRuntime,
  type NodeProcessControl,
  type ProcessSpec,
  execHost,
  nsenterExec,
  NETNS_RUN_DIR,
} from "../src/index";

/** Why these tests cannot run here, or undefined when they can. */
export function missingCapability(tools: readonly string[]): string | undefined {
  if (process.platform !== "linux") return "integration tests need Linux";
  if (process.getuid?.() !== 0) return "integration tests need root (network namespaces)";
  for (const tool of ["ip", "nsenter", "sysctl", ...tools]) {
    const r = spawnSync("sh", ["-c", 'command -v "$1"', "sh", tool]);
    if (r.status !== 0) return `integration tests need ${tool}`;
  }
  return undefined;
}

let counter = 0;
const namespaces = new Set<string>();
const directories = new Set<string>();
const children = new Set<ChildProcess>();

/** A short unique prefix for one test file's objects: `kvt<pid36><n>`. */
export function uniquePrefix(): string {
  return `kvt${process.pid.toString(36)}${(counter++).toString(36)}`;
}

async function ip(args: string[]): Promise<void> {
  const r = await execHost(["ip", ...args]);
  if (r.code !== 0) throw new Error(`ip ${args.join(" ")}: ${r.stderr.trim()}`);
}

export interface NodePair {
  a: string;
  b: string;
  /** Addresses on eth1 of a and b. */
  addressA: string;
  addressB: string;
}

/** A namespace with lo up, removed by `cleanupAll`. */
export async function createNamespace(name: string): Promise<string> {
  namespaces.add(name);
  await ip(["netns", "add", name]);
  await ip(["-n", name, "link", "set", "lo", "up"]);
  return name;
}

/** A veth between two namespaces, both ends up, with the given addresses (CIDR). */
export async function wire(a: string, ifA: string, cidrA: string, b: string, ifB: string, cidrB: string): Promise<void> {
  await ip(["link", "add", ifA, "netns", a, "type", "veth", "peer", "name", ifB, "netns", b]);
  await ip(["-n", a, "addr", "add", cidrA, "dev", ifA]);
  await ip(["-n", b, "addr", "add", cidrB, "dev", ifB]);
  await ip(["-n", a, "link", "set", ifA, "up"]);
  await ip(["-n", b, "link", "set", ifB, "up"]);
}

/** Two namespaces `<prefix>-a` and `<prefix>-b` joined by eth1 ↔ eth1 (198.18.0.1/24 ↔ .2/24). */
export async function createNodePair(prefix: string): Promise<NodePair> {
  const a = await createNamespace(`${prefix}-a`);
  const b = await createNamespace(`${prefix}-b`);
  await wire(a, "eth1", "198.18.0.1/24", b, "eth1", "198.18.0.2/24");
  return { a, b, addressA: "198.18.0.1", addressB: "198.18.0.2" };
}

/** A fresh node directory under /tmp (short, for socket paths). */
export async function nodeDirectory(prefix: string, node: string): Promise<string> {
  const top = `/tmp/${prefix}`;
  directories.add(top);
  // The backend's state directories must be searchable by FRR's unprivileged daemons;
  // the node's own directory may be private (the FRR runtime opens it for traversal).
  await mkdir(top, { recursive: true, mode: 0o755 });
  const dir = `${top}/${node}`;
  await mkdir(dir, { mode: 0o700 });
  return dir;
}

/** Output kept per process, for failure messages. */
export class ProcessLog {
  private text = "";
  append(chunk: Buffer | string): void {
    this.text += chunk.toString();
    if (this.text.length > 200_000) this.text = this.text.slice(-100_000);
  }
  tail(lines = 30): string {
    return this.text.split("\n").slice(-lines).join("\n");
  }
}

/**
 * Starts a node's processes in its namespace and keeps them: the part of the local
 * backend's supervisor these tests need (no automatic restarts, which would hide crashes).
 */
export class TestSupervisor implements NodeProcessControl {
  private readonly running = new Map<string, ChildProcess>();
  private readonly specs = new Map<string, ProcessSpec>();
  readonly logs = new Map<string, ProcessLog>();

  constructor(private readonly netns: string) {}

  /** Starts every process, each once its `waitForPaths` exist. */
  async start(specs: readonly ProcessSpec[], timeoutMs = 20_000): Promise<void> {
    for (const spec of specs) this.specs.set(spec.name, spec);
    await Promise.all(specs.map((spec) => this.spawnWhenReady(spec, timeoutMs)));
  }

  private async spawnWhenReady(spec: ProcessSpec, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (const path of spec.waitForPaths ?? []) {
      while (!existsSync(path)) {
        if (Date.now() > deadline) throw new Error(`${spec.name}: ${path} did not appear within ${timeoutMs} ms\n${this.describe()}`);
        await sleep(20);
      }
    }
    this.spawn(spec);
  }

  private spawn(spec: ProcessSpec): void {
    const child = spawn("nsenter", [`--net=${NETNS_RUN_DIR}/${this.netns}`, "--", ...spec.argv], {
      env: { ...process.env, ...spec.env },
      cwd: spec.cwd,
      stdio: ["ignore", "pipe", "pipe"],
    });
    children.add(child);
    const log = this.logs.get(spec.name) ?? new ProcessLog();
    this.logs.set(spec.name, log);
    child.stdout?.on("data", (d: Buffer) => log.append(d));
    child.stderr?.on("data", (d: Buffer) => log.append(d));
    child.on("exit", (code, signal) => {
      log.append(`\n[exited code=${code} signal=${signal}]\n`);
      children.delete(child);
    });
    this.running.set(spec.name, child);
  }

  pid(name: string): number | undefined {
    return this.running.get(name)?.pid;
  }

  async signal(name: string, signal: NodeJS.Signals): Promise<void> {
    const child = this.running.get(name);
    if (!child || child.exitCode !== null) throw new Error(`process ${name} is not running`);
    child.kill(signal);
  }

  async restart(name: string): Promise<void> {
    const spec = this.specs.get(name);
    if (!spec) throw new Error(`no process ${name}`);
    await stopChild(this.running.get(name), spec.stopSignal ?? "SIGTERM");
    await this.spawnWhenReady(spec, 20_000);
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.running.entries()].map(([name, c]) => stopChild(c, this.specs.get(name)?.stopSignal ?? "SIGTERM")));
    this.running.clear();
  }

  describe(): string {
    return [...this.logs.entries()].map(([name, log]) => `--- ${name}\n${log.tail(15)}`).join("\n");
  }
}

async function stopChild(child: ChildProcess | undefined, signal: NodeJS.Signals): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill(signal);
  const timer = setTimeout(() => child.kill("SIGKILL"), 3000);
  await exited;
  clearTimeout(timer);
}

export interface TestNode {
  ctx: LocalNodeContext;
  runtime: LocalRuntime;
  supervisor: TestSupervisor;
}

/** A node context the way the local backend builds one. */
export function nodeContext(options: {
  topology: string;
  netns: string;
  nodeDir: string;
  node: MessageInitShape<typeof topo.NodeSchema> & { name: string; vendor: topo.Vendor };
  bootConfig?: string;
  supervisor: TestSupervisor;
}): LocalNodeContext {
  return {
    topology: options.topology,
    node: create(topo.NodeSchema, options.node),
    netns: options.netns,
    nodeDir: options.nodeDir,
    ...(options.bootConfig !== undefined ? { bootConfig: new TextEncoder().encode(options.bootConfig) } : {}),
    exec: nsenterExec(options.netns),
    processes: options.supervisor,
  };
}

/** What the backend does to start a node: sysctls, prepare, processes. */
export async function startNode(runtime: LocalRuntime, ctx: LocalNodeContext, supervisor: TestSupervisor): Promise<void> {
  for (const [key, value] of Object.entries(runtime.sysctls(ctx))) {
    const r = await ctx.exec(["sysctl", "-qw", `${key}=${value}`]);
    if (r.code !== 0) throw new Error(`sysctl ${key}: ${r.stderr}`);
  }
  await runtime.prepare(ctx);
  await supervisor.start(runtime.processes(ctx));
}

/** Polls `ready` the way the backend does; returns the milliseconds it took. */
export async function waitReady(runtime: LocalRuntime, ctx: LocalNodeContext, supervisor: TestSupervisor, timeoutMs = 20_000): Promise<number> {
  const started = Date.now();
  let last = "";
  while (Date.now() - started < timeoutMs) {
    const r = await runtime.ready(ctx);
    if (r.ready) return Date.now() - started;
    if (r.failed) throw new Error(`node ${ctx.node.name} failed: ${r.reason}\n${supervisor.describe()}`);
    last = r.reason ?? "";
    await sleep(100);
  }
  throw new Error(`node ${ctx.node.name} not ready after ${timeoutMs} ms: ${last}\n${supervisor.describe()}`);
}

/** Polls `check` until it returns true; returns the milliseconds it took. */
export async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs: number, detail?: () => string): Promise<number> {
  const started = Date.now();
  while (Date.now() - started < timeoutMs) {
    if (await check()) return Date.now() - started;
    await sleep(200);
  }
  throw new Error(`${what}: not within ${timeoutMs} ms${detail ? `\n${detail()}` : ""}`);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Text of a command run in a node; throws when it fails. */
export async function run(ctx: LocalNodeContext, argv: string[]): Promise<string> {
  const r: ExecResult = await ctx.exec(argv);
  if (r.code !== 0) throw new Error(`${argv.join(" ")} exited ${r.code}: ${r.stderr || r.stdout}`);
  return r.stdout;
}

/** Removes what the tests made: stops processes, deletes namespaces and directories. */
export async function cleanupAll(supervisors: readonly TestSupervisor[]): Promise<void> {
  for (const s of supervisors) await s.stopAll().catch(() => undefined);
  for (const ns of namespaces) await execHost(["ip", "netns", "del", ns]).catch(() => undefined);
  namespaces.clear();
  for (const d of directories) await rm(d, { recursive: true, force: true }).catch(() => undefined);
  directories.clear();
}

function cleanupSync(): void {
  for (const c of children) c.kill("SIGKILL");
  for (const ns of namespaces) spawnSync("ip", ["netns", "del", ns]);
  for (const d of directories) spawnSync("rm", ["-rf", "--", d]);
}

process.once("exit", cleanupSync);
