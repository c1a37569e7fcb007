/**
 * The per-topology supervisor: a detached process (`kne-supervisor TOPOLOGY`, started by
 * create) that runs every node's processes inside the node's namespace
 * (`nsenter --net=/var/run/netns/NS -- argv`, argument arrays), restarts them with
 * exponential backoff when they die, appends their output to the node's `node.log`, calls
 * the vendor's `ready()` until the node is ready (and again after every restart, which is
 * how a restarted FRR daemon gets its config back), and writes each node's `status.json`.
 *
 * It follows `state.json`: nodes added by `kne apply` are started once prepared, removed
 * ones are stopped; it runs the topology's host port forwards (`supervisor-forwards.ts`);
 * it stops everything and exits when the topology is being deleted or its state is gone
 * (and on SIGTERM). It signals only the processes it started.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createWriteStream, existsSync, type WriteStream } from "node:fs";
import { mkdir, readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { NODE_CERT_DIR, certificatePlan, takesLocalCertificates, writeNodeCertificate } from "@kne/bootstrap";
import { toolEnvironment } from "@kne/dataplane";
import type { topo } from "@kne/proto";
import type { Logger } from "@kne/telemetry";
import { type LocalNodeContext, type LocalRuntime, type ProcessSpec, requireLocalRuntime, NETNS_RUN_DIR } from "@kne/vendors";
import { nodeContext, nodeEnvironment, topologyFromJson } from "./node-context.ts";
import { type ProcessIdentity, identify } from "./process-identity.ts";
import { TopologyForwards } from "./supervisor-forwards.ts";
import { type NodePhaseName, type NodeRecord, type NodeStatusFile, StateStore, readJson } from "./state-store.ts";

export interface SupervisorOptions {
  stateDir: string;
  topology: string;
  logger: Logger;
  /** How often state.json and control requests are read (default 300 ms). */
  pollMs?: number;
  /** Health check of ready nodes (default 10 s). */
  healthMs?: number;
  backoffMinMs?: number;
  backoffMaxMs?: number;
}

/** A restart request left in a node's control dir by a manager process. */
export interface ControlRequest {
  action: "restart";
  process: string;
}

interface Managed {
  spec: ProcessSpec;
  child?: ChildProcess;
  identity?: ProcessIdentity;
  restarts: number;
  backoffMs: number;
  startedAt: number;
  timer?: NodeJS.Timeout;
  lastExit?: string;
  /** Set while we stop it on purpose (restart, removal): its exit is not a crash. */
  expectedExit?: boolean;
  exited?: Promise<void>;
}

class NodeRunner {
  private readonly procs = new Map<string, Managed>();
  private phase: NodePhaseName = "STARTING";
  private message = "starting processes";
  private stopping = false;
  private log?: WriteStream;
  private readyTimer?: NodeJS.Timeout;
  private checking = false;
  private readonly runtime: LocalRuntime;
  private readonly ctx: LocalNodeContext;

  constructor(
    private readonly topology: string,
    private readonly node: topo.Node,
    private readonly record: NodeRecord,
    private readonly store: StateStore,
    private readonly options: Required<Omit<SupervisorOptions, "logger" | "stateDir" | "topology">>,
    private readonly logger: Logger,
  ) {
    this.runtime = requireLocalRuntime(node);
    this.ctx = nodeContext(topology, node, record, {
      signal: async (name, signal) => {
        this.procs.get(name)?.child?.kill(signal);
      },
      restart: (name) => this.restart(name),
    });
  }

  async start(): Promise<void> {
    this.log = createWriteStream(this.store.nodeLogFile(this.topology, this.node.name), { flags: "a" });
    let specs: ProcessSpec[];
    try {
      specs = this.runtime.processes(this.ctx);
    } catch (err) {
      this.setPhase("FAILED", `cannot tell its processes: ${(err as Error).message}`);
      return;
    }
    for (const spec of specs) {
      const m: Managed = { spec, restarts: 0, backoffMs: this.options.backoffMinMs, startedAt: 0 };
      this.procs.set(spec.name, m);
      void this.launch(m);
    }
    this.scheduleReady(0);
  }

  private writeLog(proc: string, line: string): void {
    this.log?.write(`${new Date().toISOString()} ${proc}: ${line}\n`);
  }

  private async launch(m: Managed): Promise<void> {
    for (const path of m.spec.waitForPaths ?? []) {
      while (!this.stopping && !existsSync(path)) await new Promise((r) => setTimeout(r, 50));
    }
    if (this.stopping) return;
    const argv = ["--net=" + join(NETNS_RUN_DIR, this.record.netns), "--", ...m.spec.argv];
    const env = { ...toolEnvironment(), ...nodeEnvironment(this.topology, this.node.name), ...m.spec.env };
    const child = spawn("nsenter", argv, { cwd: m.spec.cwd ?? this.record.nodeDir, env, stdio: ["ignore", "pipe", "pipe"] });
    m.child = child;
    m.startedAt = Date.now();
    m.expectedExit = false;
    m.identity = child.pid !== undefined ? identify(child.pid) : undefined;
    this.writeLog("kne", `started ${m.spec.name} (pid ${child.pid ?? "?"}): ${m.spec.argv.join(" ")}`);
    for (const stream of [child.stdout!, child.stderr!]) {
      createInterface({ input: stream }).on("line", (line) => this.writeLog(m.spec.name, line));
    }
    m.exited = new Promise<void>((resolve) => {
      child.on("error", (err) => {
        this.writeLog("kne", `${m.spec.name} could not start: ${err.message}`);
      });
      child.on("close", (code, signal) => {
        m.child = undefined;
        m.identity = undefined;
        m.lastExit = signal ? `killed by ${signal}` : `exited with code ${code}`;
        this.writeLog("kne", `${m.spec.name} ${m.lastExit}`);
        resolve();
        if (this.stopping || m.expectedExit) return;
        // A crash: back off (reset after a long enough run), start again, re-check readiness.
        const ran = Date.now() - m.startedAt;
        if (ran > 30_000) m.backoffMs = this.options.backoffMinMs;
        const delay = m.backoffMs;
        m.backoffMs = Math.min(m.backoffMs * 2, this.options.backoffMaxMs);
        m.restarts++;
        this.logger.warn({ topology: this.topology, node: this.node.name, process: m.spec.name, exit: m.lastExit, restartInMs: delay }, "process exited");
        this.writeStatus();
        m.timer = setTimeout(() => {
          m.timer = undefined;
          void this.launch(m).then(() => this.scheduleReady(500));
        }, delay);
      });
    });
    void this.writeStatus();
  }

  /** Stops one process and starts it again at once (a vendor's reload that needs a restart). */
  async restart(name: string): Promise<void> {
    const m = this.procs.get(name);
    if (!m) throw new Error(`node ${this.node.name} has no process ${name}`);
    if (m.timer) clearTimeout(m.timer);
    m.timer = undefined;
    await this.stopOne(m);
    m.restarts++;
    await this.launch(m);
    this.scheduleReady(200);
  }

  private async stopOne(m: Managed): Promise<void> {
    const child = m.child;
    if (!child) return;
    m.expectedExit = true;
    child.kill(m.spec.stopSignal ?? "SIGTERM");
    const killer = setTimeout(() => child.kill("SIGKILL"), 3000);
    await m.exited;
    clearTimeout(killer);
  }

  async stop(): Promise<void> {
    this.stopping = true;
    if (this.readyTimer) clearTimeout(this.readyTimer);
    for (const m of this.procs.values()) if (m.timer) clearTimeout(m.timer);
    await Promise.all([...this.procs.values()].map((m) => this.stopOne(m)));
    this.phase = "STOPPED";
    this.message = "stopped";
    await this.writeStatus();
    await new Promise<void>((r) => (this.log ? this.log.end(r) : r()));
  }

  private scheduleReady(delayMs: number): void {
    if (this.stopping) return;
    if (this.readyTimer) clearTimeout(this.readyTimer);
    this.readyTimer = setTimeout(() => void this.checkReady(), delayMs);
  }

  private async checkReady(): Promise<void> {
    if (this.stopping || this.checking) return;
    this.checking = true;
    let next = this.options.healthMs;
    try {
      const down = [...this.procs.values()].filter((m) => !m.child);
      const r = await this.runtime.ready(this.ctx);
      if (this.stopping) return;
      if (r.ready && down.length === 0) {
        this.setPhase("READY", "ready");
      } else if (r.failed) {
        this.setPhase("FAILED", r.reason ?? "failed");
      } else {
        const why = down.length > 0 ? `waiting for ${down.map((m) => `${m.spec.name} (${m.lastExit ?? "not started"})`).join(", ")}` : (r.reason ?? "not ready");
        this.setPhase(this.phase === "FAILED" ? "FAILED" : "STARTING", why);
        next = 250;
      }
    } catch (err) {
      this.setPhase("STARTING", `readiness check failed: ${(err as Error).message}`);
      next = 1000;
    } finally {
      this.checking = false;
    }
    this.scheduleReady(next);
  }

  private setPhase(phase: NodePhaseName, message: string): void {
    if (phase === this.phase && message === this.message) return;
    if (phase !== this.phase) this.logger.info({ topology: this.topology, node: this.node.name, phase, message }, "node phase changed");
    this.phase = phase;
    this.message = message;
    void this.writeStatus();
  }

  private writing = Promise.resolve();

  writeStatus(): Promise<void> {
    const status: NodeStatusFile = {
      phase: this.phase,
      message: this.message,
      restarts: [...this.procs.values()].reduce((s, m) => s + m.restarts, 0),
      processes: Object.fromEntries(
        [...this.procs.values()].map((m) => [
          m.spec.name,
          {
            ...(m.identity ? { pid: m.identity.pid, startTime: m.identity.startTime } : {}),
            running: m.child !== undefined,
            restarts: m.restarts,
            ...(m.lastExit ? { lastExit: m.lastExit } : {}),
          },
        ]),
      ),
      updated: new Date().toISOString(),
    };
    this.writing = this.writing
      .then(() => (existsSync(this.record.nodeDir) ? this.store.writeNodeStatus(this.topology, this.node.name, status) : undefined))
      .catch(() => undefined);
    return this.writing;
  }

  /** Serves restart requests left in the node's control dir. */
  async serveControl(): Promise<void> {
    const dir = this.store.controlDir(this.topology, this.node.name);
    const names = await readdir(dir).catch(() => [] as string[]);
    for (const name of names.filter((n) => n.endsWith(".json")).sort()) {
      const path = join(dir, name);
      const req = await readJson<ControlRequest>(path).catch(() => undefined);
      if (req?.action === "restart") {
        await this.restart(req.process).catch((err: unknown) => this.writeLog("kne", `restart of ${req.process} failed: ${(err as Error).message}`));
      }
      await rm(path, { force: true });
    }
  }
}

/**
 * As upstream does at create, a node whose topology asks for a certificate
 * (`config.cert`) and whose vendor takes one gets it before its command starts, unless an
 * earlier run made it. Returns why it could not be made.
 */
async function prepareCertificate(topology: string, node: topo.Node, record: NodeRecord, logger: Logger): Promise<string | undefined> {
  if (node.config?.cert?.config.case === undefined) return undefined;
  if (!takesLocalCertificates(node)) {
    logger.info({ topology, node: node.name }, "certificate settings ignored: the vendor takes no certificate");
    return undefined;
  }
  try {
    const plan = certificatePlan(node, record.managementAddress ? { managementAddress: record.managementAddress } : {});
    if (existsSync(join(record.nodeDir, NODE_CERT_DIR, plan.certName)) && existsSync(join(record.nodeDir, NODE_CERT_DIR, plan.keyName))) return undefined;
    const written = await writeNodeCertificate(record.nodeDir, plan);
    logger.info({ topology, node: node.name, certificate: written.certificatePath }, "certificate generated");
    return undefined;
  } catch (err) {
    const message = (err as Error & { rawMessage?: string }).rawMessage ?? (err as Error).message;
    return `certificate: ${message}`;
  }
}

/** Runs until the topology is deleted (or SIGTERM). */
export async function runSupervisor(options: SupervisorOptions): Promise<void> {
  const { topology, logger } = options;
  const store = new StateStore(options.stateDir);
  const opts = {
    pollMs: options.pollMs ?? 200,
    healthMs: options.healthMs ?? 10_000,
    backoffMinMs: options.backoffMinMs ?? 250,
    backoffMaxMs: options.backoffMaxMs ?? 30_000,
  };
  const runners = new Map<string, NodeRunner>();
  const forwards = new TopologyForwards(store, topology, logger);
  const certificateFailed = new Set<string>();
  let stopping = false;
  let wake: (() => void) | undefined;
  const stopAll = async (): Promise<void> => {
    await Promise.all([...runners.values()].map((r) => r.stop()));
    runners.clear();
  };
  const onSignal = (): void => {
    stopping = true;
    wake?.();
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
  logger.info({ topology, pid: process.pid }, "supervisor started");

  while (!stopping) {
    const state = await store.readState(topology).catch(() => undefined);
    if (!state || state.phase === "DELETING") break;
    const spec = topologyFromJson(state.spec);
    const nodes = new Map(spec.nodes.map((n) => [n.name, n]));
    for (const [name, runner] of runners) {
      if (!state.nodes[name] || !nodes.has(name)) {
        runners.delete(name);
        await runner.stop();
        logger.info({ topology, node: name }, "node stopped (removed from the topology)");
      }
    }
    for (const [name, record] of Object.entries(state.nodes)) {
      const node = nodes.get(name);
      if (runners.has(name) || !node || !record.prepared || record.failed) continue;
      await mkdir(record.nodeDir, { recursive: true });
      // A node whose certificate cannot be made stays FAILED, not retried on every pass.
      if (certificateFailed.has(name)) continue;
      const certificateProblem = await prepareCertificate(topology, node, record, logger);
      if (certificateProblem !== undefined) {
        certificateFailed.add(name);
        await store.writeNodeStatus(topology, name, { phase: "FAILED", message: certificateProblem, restarts: 0, processes: {}, updated: new Date().toISOString() });
        continue;
      }
      const runner = new NodeRunner(topology, node, record, store, opts, logger);
      runners.set(name, runner);
      await runner.start();
    }
    for (const runner of runners.values()) await runner.serveControl();
    await forwards.reconcile(state, spec).catch((err: unknown) => logger.error({ topology, err }, "service forwards could not be reconciled"));
    await new Promise<void>((r) => {
      wake = r;
      setTimeout(r, opts.pollMs);
    });
  }
  await Promise.all([stopAll(), forwards.close()]);
  logger.info({ topology }, "supervisor stopped");
  process.off("SIGTERM", onSignal);
  process.off("SIGINT", onSignal);
}
