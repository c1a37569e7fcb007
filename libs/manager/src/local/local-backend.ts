/**
 * The local backend: topologies on this one Linux host, no Kubernetes.
 *
 * - A node is a network namespace (made by the agent, embedded in this process and called
 *   directly) with `lo` up, its data links (veth pairs, also the agent's), and a management
 *   interface `eth0` on the host's management segment (see `management-network.ts`). Its processes run under the topology's supervisor (a detached
 *   process, see `supervisor.ts`).
 * - Host names: `ip netns` gives a node no UTS namespace, so the node's name is written to
 *   `NODE_DIR/hostname` and passed as `HOSTNAME` (with `KNE_NODE`, `KNE_TOPOLOGY`) to its
 *   processes and to `exec`. Routing daemons take their name from their config.
 * - State lives in the state directory (`state-store.ts`); every operation that changes
 *   the kernel holds the directory's lock, so `kne` processes (and a topology-manager) do
 *   not interleave. Delete works from the state directory and, for anything a crash left
 *   behind, from the ownership markers (namespaces `kne.<topology>.*`, the data plane's
 *   interface aliases, the management ports' aliases).
 */
import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { hostname } from "node:os";
import { existsSync } from "node:fs";
import { chmod, mkdir, readFile, readdir, readlink, rm, stat, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { ConnectError, createClient, type Client } from "@connectrpc/connect";
import { createDirectTransport, serviceRegistration } from "@kne/rpc";
import { createAgentService, type AgentService } from "@kne/agent";
import {
  type ObservedInterface,
  listOwnedNamespaces,
  mapLimit,
  nodeNetnsName,
  readInterfaces,
  setSysctls,
  validateNodeName,
  validateTopologyId,
} from "@kne/dataplane";
import { agentv1, managerv1, topo } from "@kne/proto";
import { createLogger, tracingInterceptor, type Logger } from "@kne/telemetry";
import { hostAttachmentNode, interfaceNamesByNode, linkWireKey, planTopology, resolveTopology } from "@kne/topology";
import {
  type LocalNodeContext,
  type LocalRuntime,
  type NodeProcessControl,
  UnsupportedOperationError,
  frrPaths,
  requireLocalRuntime,
  resolveVendor,
  withVendorDefaults,
  applyVendorDefaults,
  applyConfigDefaults,
  mapInterfaceNames,
} from "@kne/vendors";
import { certificatePlan, requireLocalCertificates, writeNodeCertificate } from "@kne/bootstrap";
import type {
  CreateOptions,
  ExecOutcome,
  ExecRequest,
  ExecSession,
  LinkImpairments,
  LogsRequest,
  NodeCertificate,
  ProgressEvent,
  RuntimeBackend,
  TopologyView,
  UpdateResult,
} from "../backend.ts";
import { ManagerError, notFound } from "../errors.ts";
import { endpointRef, endpointSide, findLink, linkId } from "../link-ref.ts";
import { ManagementNetwork, type ManagementOptions, allocateAddresses, defaultManagement, hostIfnameFor } from "./management-network.ts";
import { nodeContext, nodeEnvironment, topologyFromJson, topologyToJson } from "./node-context.ts";
import { identify, isAlive, signalProcess, stopProcesses, type ProcessIdentity } from "./process-identity.ts";
import {
  type HeldLock,
  type NodePhaseName,
  type NodeRecord,
  type NodeStatusFile,
  type TopologyState,
  StateStore,
  SERVER_LOCK_OWNER,
  acquireLock,
  resolveStateDir,
  writeJsonAtomic,
} from "./state-store.ts";
import { type NodeCommandLine, spawnExecSession } from "./exec-session.ts";
import { applyForwards, readForwarding, readForwards, resolveForwarding, waitForwards, wantsForwards, writeForwarding } from "./supervisor-forwards.ts";
import { applyLinkUids, assignLinkUids, endpointEgress, endpointState, impairmentsToJson, wiresRequest } from "./wires.ts";

export interface LocalBackendOptions {
  /** Default: $KNE_STATE_DIR, else /var/lib/kne. */
  stateDir?: string;
  logger?: Logger;
  management?: Partial<ManagementOptions>;
  /** argv that starts a topology's supervisor (the topology name is appended). */
  supervisorCommand?: readonly string[];
  /**
   * Hold the state directory's lock for the backend's life and keep one agent running (a
   * topology-manager server). Otherwise each operation takes the lock and runs its own agent.
   */
  exclusive?: boolean;
  /** How long an operation waits for the state directory's lock (default 10 minutes). */
  lockWaitMs?: number;
}

/**
 * The supervisor's executable. A built app (tools/scripts/build-app.mjs --supervisor) carries
 * its own kne-supervisor.mjs beside the code that runs this; from sources it is found
 * through the package, else beside this file.
 */
function supervisorBin(): string {
  const built = fileURLToPath(new URL("./kne-supervisor.mjs", import.meta.url));
  if (existsSync(built)) return built;
  try {
    return createRequire(import.meta.url).resolve("@kne/manager/supervisor");
  } catch {
    return join(dirname(fileURLToPath(import.meta.url)), "..", "..", "bin", "kne-supervisor.mjs");
  }
}
const DEFAULT_TIMEOUT_MS = 5 * 60_000;
const NETNS_DIR = "/var/run/netns";

const nodePhases: Record<NodePhaseName, managerv1.NodePhase> = {
  PENDING: managerv1.NodePhase.PENDING,
  STARTING: managerv1.NodePhase.STARTING,
  READY: managerv1.NodePhase.READY,
  FAILED: managerv1.NodePhase.FAILED,
  STOPPED: managerv1.NodePhase.STOPPED,
};

const topologyPhases: Record<TopologyState["phase"], managerv1.TopologyPhase> = {
  CREATING: managerv1.TopologyPhase.CREATING,
  RUNNING: managerv1.TopologyPhase.RUNNING,
  UPDATING: managerv1.TopologyPhase.UPDATING,
  DELETING: managerv1.TopologyPhase.DELETING,
  ERROR: managerv1.TopologyPhase.ERROR,
};

function errorMessage(err: unknown): string {
  if (err instanceof ConnectError) return err.rawMessage;
  return err instanceof Error ? err.message : String(err);
}

/** `vtysh` inside an FRR node needs the node's sockets: the same flags its runtime uses. */
export function nodeCommand(node: topo.Node, record: Pick<NodeRecord, "nodeDir">, argv: readonly string[]): string[] {
  const [first, ...rest] = argv;
  if (node.vendor === topo.Vendor.FRR && first !== undefined && (first === "vtysh" || first === frrPaths.vtysh) && !rest.includes("--vty_socket")) {
    const confDir = join(record.nodeDir, "frr");
    return [first, "--vty_socket", join(confDir, "run"), "--config_dir", confDir, ...rest];
  }
  return [...argv];
}

/**
 * The Linux interface the agent knows a link end by: the name as written, unless the node's
 * vendor renames it (the same mapping resolution used when the wires were made).
 */
function agentInterface(spec: topo.Topology, node: string, written: string): string {
  const n = spec.nodes.find((candidate) => candidate.name === node);
  if (!n) return written;
  return mapInterfaceNames(n, interfaceNamesByNode(spec).get(node) ?? [written])?.linux.get(written) ?? written;
}

export class LocalBackend implements RuntimeBackend {
  readonly name = "local";
  readonly store: StateStore;
  readonly management: ManagementNetwork;
  private readonly logger: Logger;
  private readonly options: LocalBackendOptions;
  private queue: Promise<unknown> = Promise.resolve();
  private heldLock?: HeldLock;
  private agent?: AgentService;
  private agentClient?: Client<typeof agentv1.AgentService>;

  constructor(options: LocalBackendOptions = {}) {
    this.options = options;
    this.store = new StateStore(resolveStateDir(options.stateDir));
    this.logger = options.logger ?? createLogger({ name: "kne-local", level: "silent" });
    this.management = new ManagementNetwork({ ...defaultManagement, ...options.management });
  }

  get stateDir(): string {
    return this.store.root;
  }

  /** For an exclusive backend (a server): takes the lock and starts the agent. */
  async start(): Promise<void> {
    if (!this.options.exclusive || this.heldLock) return;
    this.heldLock = await acquireLock(this.store.root, SERVER_LOCK_OWNER, 60_000);
    this.agent = this.newAgent(10_000);
    await this.agent.start();
    this.agentClient = agentClient(this.agent);
  }

  async close(): Promise<void> {
    await this.queue.catch(() => undefined);
    await this.agent?.stop();
    this.agent = undefined;
    await this.heldLock?.release();
    this.heldLock = undefined;
  }

  private newAgent(resyncIntervalMs: number): AgentService {
    return createAgentService({ stateDir: this.store.agentDir, logger: this.logger.child({ component: "agent" }), resyncIntervalMs });
  }

  /**
   * Runs `fn` with an agent: the long-lived one, or one started (state loaded, every
   * topology converged) for this call. `converge: false` skips loading and converging: for
   * a topology's deletion, which needs none of it (the agent removes the topology's objects
   * by their ownership markers and drops its record), and converging a large topology
   * first costs about as much as making it.
   */
  private async withAgent<T>(fn: (client: Client<typeof agentv1.AgentService>) => Promise<T>, options: { converge?: boolean } = {}): Promise<T> {
    if (this.agentClient) return fn(this.agentClient);
    const agent = this.newAgent(0);
    if (options.converge === false) {
      await mkdir(this.store.agentDir, { recursive: true });
    } else {
      await agent.start();
    }
    try {
      await agent.converged();
      return await fn(agentClient(agent));
    } finally {
      await agent.stop();
    }
  }

  /** Serializes operations that change things: in this process, and across processes by the lock. */
  private mutate<T>(what: string, fn: () => Promise<T>): Promise<T> {
    const run = async (): Promise<T> => {
      if (this.options.exclusive) {
        await this.start();
        return fn();
      }
      const lock = await acquireLock(this.store.root, what, this.options.lockWaitMs ?? 600_000);
      try {
        return await fn();
      } finally {
        await lock.release();
      }
    };
    const result = this.queue.then(run, run);
    this.queue = result.catch(() => undefined);
    // Watches wake at once rather than at their next poll.
    void result.then(this.notifyChanged, this.notifyChanged);
    return result;
  }

  /** Counts changes made through this backend; the topology watch waits on it (changes the supervisor makes are still polled). */
  private changes = 0;
  private readonly changeWaiters = new Set<() => void>();
  private readonly notifyChanged = (): void => {
    this.changes++;
    for (const wake of [...this.changeWaiters]) wake();
  };

  /** Resolves at the next change after `seen` (at once if there was one), after `ms`, or on abort. */
  private changedSince(seen: number, ms: number, signal: AbortSignal): Promise<void> {
    if (this.changes !== seen || signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.changeWaiters.delete(done);
        signal.removeEventListener("abort", done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.changeWaiters.add(done);
      signal.addEventListener("abort", done, { once: true });
    });
  }

  // ---- checks -------------------------------------------------------------------------------

  /** What makes a topology impossible on this backend, found before anything is made. */
  private checkRunnable(topology: topo.Topology): void {
    validateTopologyId(topology.name, "topology.name");
    for (const node of topology.nodes) {
      validateNodeName(node.name, `topology.nodes[${node.name}].name`);
      requireLocalRuntime(node);
    }
    for (const link of topology.links) {
      if (link.kind === topo.LinkKind.CROSS_HOST) {
        throw new ManagerError("FAILED_PRECONDITION", `link ${linkId(link)} asks for a cross-host wire; the local backend runs every node on this host`, [
          { field: `topology.links[${linkId(link)}].kind`, description: "LINK_KIND_CROSS_HOST needs several hosts (the kubernetes backend)" },
        ]);
      }
    }
  }

  /** `inPlace`: `spec` is the caller's own copy (saves a deep copy per call). */
  private resolved(spec: topo.Topology, uids: Record<string, number>, inPlace = false): topo.Topology {
    const resolved = resolveTopology(spec, { inPlace, interfaceNames: mapInterfaceNames });
    applyLinkUids(resolved, uids);
    return resolved;
  }

  // ---- create -------------------------------------------------------------------------------

  async createTopology(topology: topo.Topology, options: CreateOptions = {}): Promise<TopologyView> {
    this.checkRunnable(topology);
    const forwarding = resolveForwarding(options.forwarding);
    const name = topology.name;
    const uids = assignLinkUids(topology.links);
    if (options.dryRun) {
      const resolved = this.resolved(topology, uids);
      return {
        topology: resolved,
        status: create(managerv1.TopologyStatusSchema, {
          phase: managerv1.TopologyPhase.UNSPECIFIED,
          backend: this.name,
          nodes: resolved.nodes.map((n) => create(managerv1.NodeStatusSchema, { name: n.name, phase: managerv1.NodePhase.PENDING, message: "dry run: nothing made" })),
        }),
      };
    }
    const progress = (node: string | undefined, phase: string, message?: string): void =>
      options.onProgress?.({ topology: name, ...(node ? { node } : {}), phase, ...(message ? { message } : {}) });

    return this.mutate(`create ${name}`, async () => {
      // The management segment (a few processes) is made while the state is read and written.
      const network = this.management.ensureNetwork();
      network.catch(() => undefined);
      if (await this.store.readState(name)) throw new ManagerError("ALREADY_EXISTS", `topology ${name} already exists; delete it first or use apply to change it`);
      const started = Date.now();
      await this.openStateDir();
      const addresses = await this.allocateAddresses(name, topology.nodes.map((n) => n.name));
      const state: TopologyState = {
        version: 1,
        name,
        createTime: new Date().toISOString(),
        phase: "CREATING",
        message: "creating",
        generation: 1,
        wiresGeneration: 0,
        spec: topologyToJson(topology),
        linkUids: uids,
        linkState: {},
        impairments: {},
        nodes: {},
      };
      for (const node of topology.nodes) state.nodes[node.name] = this.newNodeRecord(name, node.name, addresses.get(node.name)!);
      await this.store.writeState(state);
      await writeForwarding(this.store, name, forwarding);
      const forwarded = wantsForwards(topology, forwarding);
      for (const node of topology.nodes) progress(node.name, "PENDING");
      try {
        // Started first when some node will run processes: it takes a moment to load, and
        // starts each node once it is prepared. Nodes that run nothing need no supervisor,
        // unless their services are forwarded (the supervisor runs the forwards).
        if (forwarded || this.mayRunProcesses(state, topology.nodes)) await this.ensureSupervisor(state);
        await this.makeNodes(state, topology, topology.nodes, progress, network);
        const made = Date.now();
        await this.settleUnsupervised(state, topology.nodes);
        const settled = Date.now();
        await this.waitReady(state, topology.nodes.map((n) => n.name), options.timeoutMs ?? DEFAULT_TIMEOUT_MS, progress, options.signal);
        if (forwarded) {
          await waitForwards(this.store, state, topology, { deadline: started + (options.timeoutMs ?? DEFAULT_TIMEOUT_MS), supervisorAlive: () => isAlive(state.supervisor) });
        }
        state.phase = "RUNNING";
        state.message = `ready in ${((Date.now() - started) / 1000).toFixed(1)} s`;
        await this.store.writeState(state);
        this.logger.info({ topology: name, nodes: topology.nodes.length, elapsedMs: Date.now() - started, madeMs: made - started, settleMs: settled - made, readyMs: Date.now() - settled }, "topology created");
        progress(undefined, "RUNNING", state.message);
      } catch (err) {
        state.phase = "ERROR";
        state.message = errorMessage(err);
        await this.store.writeState(state);
        progress(undefined, "ERROR", state.message);
        throw err;
      }
      return this.view(state);
    });
  }

  /**
   * Daemons that drop root (FRR runs as `frr`) reach their sockets under node directories:
   * the state dir must be searchable (not listable) by others, even when made 0700 (mktemp).
   */
  private async openStateDir(): Promise<void> {
    for (const dir of [this.store.root, this.store.topologiesDir]) {
      await mkdir(dir, { recursive: true });
      const mode = (await stat(dir)).mode & 0o7777;
      if ((mode & 0o001) === 0) await chmod(dir, mode | 0o001);
    }
  }

  private newNodeRecord(topology: string, node: string, address: string): NodeRecord {
    return {
      netns: nodeNetnsName(topology, node),
      nodeDir: this.store.nodeDir(topology, node),
      managementAddress: address,
      hostIfname: hostIfnameFor(topology, node),
    };
  }

  /** Namespaces and wires (agent), management interfaces, node files and sysctls: everything before processes. */
  private async makeNodes(
    state: TopologyState,
    spec: topo.Topology,
    nodes: readonly topo.Node[],
    progress: (node: string | undefined, phase: string, message?: string) => void,
    networkReady?: Promise<void>,
  ): Promise<void> {
    const t0 = performance.now();
    const mark = (stage: string): void => {
      stageMs[stage] = Math.round(performance.now() - t0);
    };
    const stageMs: Record<string, number> = {};
    state.wiresGeneration += 1;
    const request = wiresRequest(this.resolved(spec, state.linkUids), state, state.wiresGeneration, (node) => {
      const r = state.nodes[node];
      return r?.managementAddress ? this.management.bridgePort(state.name, node, r.managementAddress) : undefined;
    });
    // The nodes' management interfaces join the segment as the agent makes them: it must
    // exist by then. Made while the agent starts (outside a server, one is started per call).
    const network = (networkReady ?? this.management.ensureNetwork()).then(() => mark("network"));
    network.catch(() => undefined);
    // Node directories are written while the agent's pass waits for the kernel (started with
    // the call: before it, they delayed the agent's start by ~50 ms; written synchronously
    // they held the event loop as long, and the loop is the critical path between phases).
    let nodeDirs: Promise<void> = Promise.resolve();
    const writeNodeDirs = async (): Promise<void> => {
      await mkdir(join(this.store.topologyDir(state.name), "nodes"), { recursive: true });
      // Few at a time: they share libuv's four threads with the agent's state writes.
      await mapLimit(nodes, 3, async (node) => {
        const record = state.nodes[node.name]!;
        await mkdir(record.nodeDir, { recursive: true });
        await writeFile(join(record.nodeDir, "hostname"), `${node.name}\n`);
      });
      mark("nodeDirs");
    };
    await Promise.all([
      this.withAgent(async (agent) => {
        await network;
        const wired = agent.applyWires(request);
        nodeDirs = writeNodeDirs();
        nodeDirs.catch(() => undefined); // awaited below when the wires are made
        return wired;
      }).then(() => mark("wires")),
      network,
    ]);
    await nodeDirs;
    await mapLimit(nodes, 8, async (node) => {
      const record = state.nodes[node.name]!;
      progress(node.name, "STARTING", "preparing");
      try {
        const runtime = requireLocalRuntime(node);
        const ctx = this.context(state.name, node, record);
        await setSysctls(record.netns, runtime.sysctls(ctx));
        await runtime.prepare(ctx);
        record.prepared = true;
      } catch (err) {
        record.failed = `preparing failed: ${errorMessage(err)}`;
        await this.store.writeNodeStatus(state.name, node.name, { phase: "FAILED", message: record.failed, restarts: 0, processes: {}, updated: new Date().toISOString() });
        progress(node.name, "FAILED", record.failed);
      }
    });
    mark("prepare");
    await this.store.writeState(state);
    mark("state");
    this.logger.info({ topology: state.name, nodes: nodes.length, stageMs }, "nodes made");
  }

  /** Whether any of the nodes may run processes (asked before `prepare`; unsure counts as yes). */
  private mayRunProcesses(state: TopologyState, nodes: readonly topo.Node[]): boolean {
    return nodes.some((node) => {
      try {
        return requireLocalRuntime(node).processes(this.context(state.name, node, state.nodes[node.name]!)).length > 0;
      } catch {
        return true;
      }
    });
  }

  /**
   * Without a supervisor, nodes that run no process and are ready at once get their status
   * here; any other prepared node (processes to run, readiness to wait for) needs the
   * supervisor, which is started then.
   */
  private async settleUnsupervised(state: TopologyState, nodes: readonly topo.Node[]): Promise<void> {
    if (isAlive(state.supervisor)) return;
    const settled: Array<{ record: NodeRecord; status: NonNullable<NodeRecord["settled"]> }> = [];
    let needed = false;
    for (const node of nodes) {
      const record = state.nodes[node.name]!;
      if (!record.prepared || record.failed) continue;
      try {
        const runtime = requireLocalRuntime(node);
        const ctx = this.context(state.name, node, record);
        if (runtime.processes(ctx).length > 0) {
          needed = true;
          break;
        }
        const r = await runtime.ready(ctx);
        if (!r.ready && !r.failed) {
          needed = true;
          break;
        }
        settled.push({ record, status: { phase: r.ready ? "READY" : "FAILED", message: r.ready ? "ready" : (r.reason ?? "failed") } });
      } catch {
        needed = true;
        break;
      }
    }
    if (needed) {
      await this.ensureSupervisor(state);
      return;
    }
    // Persisted with the topology's next state write (RUNNING or ERROR), which follows.
    for (const { record, status } of settled) record.settled = status;
  }

  /** Starts the topology's supervisor unless it runs. */
  private async ensureSupervisor(state: TopologyState): Promise<void> {
    if (isAlive(state.supervisor)) return;
    const argv = [...(this.options.supervisorCommand ?? [process.execPath, supervisorBin()]), state.name];
    const child = spawn(argv[0]!, argv.slice(1), {
      detached: true,
      stdio: "ignore",
      cwd: "/",
      env: { ...process.env, KNE_STATE_DIR: this.store.root },
    });
    child.unref();
    const id = child.pid !== undefined ? identify(child.pid) : undefined;
    if (!id) throw new ManagerError("INTERNAL", `the supervisor of ${state.name} did not start (${argv.join(" ")})`);
    state.supervisor = id;
    await this.store.writeState(state);
  }

  /** Polls node status until every node is ready; fails at the first failed node or at the deadline. */
  private async waitReady(state: TopologyState, names: readonly string[], timeoutMs: number, progress: (node: string | undefined, phase: string, message?: string) => void, signal?: AbortSignal): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const last = new Map<string, string>();
    for (;;) {
      // The caller went away: stop waiting; what was made stays, like after a timeout.
      if (signal?.aborted) {
        throw new ManagerError("CANCELLED", `the caller cancelled the create of ${state.name} while its nodes were starting; what was made stays ('kne show ${state.name}', 'kne delete ${state.name}')`);
      }
      const statuses = names.map((n) => ({ name: n, status: this.nodeStatus(state, n) }));
      for (const { name, status } of statuses) {
        const key = `${status.phase}\u0000${status.message}`;
        if (last.get(name) !== key) {
          last.set(name, key);
          progress(name, status.phase, status.message);
        }
      }
      const failed = statuses.filter((s) => s.status.phase === "FAILED");
      if (failed.length > 0) {
        throw new ManagerError("FAILED_PRECONDITION", `${failed.length} of ${names.length} nodes failed: ${failed.map((s) => `${s.name}: ${s.status.message}`).join("; ")}`);
      }
      if (statuses.every((s) => s.status.phase === "READY")) return;
      if (!isAlive(state.supervisor)) {
        throw new ManagerError("INTERNAL", `the supervisor of ${state.name} exited; see ${this.store.supervisorLog(state.name)}`);
      }
      if (Date.now() >= deadline) {
        const waiting = statuses.filter((s) => s.status.phase !== "READY");
        throw new ManagerError(
          "DEADLINE_EXCEEDED",
          `${waiting.length} of ${names.length} nodes not ready after ${Math.round(timeoutMs / 1000)} s: ${waiting.map((s) => `${s.name}: ${s.status.phase.toLowerCase()}: ${s.status.message}`).join("; ")}`,
        );
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  private nodeStatus(state: TopologyState, node: string): { phase: NodePhaseName; message: string; file?: NodeStatusFile } {
    const record = state.nodes[node];
    if (!record) return { phase: "PENDING", message: "not made" };
    if (record.failed) return { phase: "FAILED", message: record.failed };
    let file: NodeStatusFile | undefined;
    try {
      file = this.store.readNodeStatusSync(state.name, node);
    } catch {
      file = undefined; // half-written or unreadable: as if not there yet
    }
    if (!file) {
      if (state.phase === "DELETING") return { phase: "STOPPED", message: "deleted" };
      if (record.settled) return { ...record.settled };
      return { phase: record.prepared ? "STARTING" : "PENDING", message: record.prepared ? "waiting for the supervisor" : "being made" };
    }
    return { phase: file.phase, message: file.message, file };
  }

  private async allocateAddresses(topology: string, nodes: readonly string[]): Promise<Map<string, string>> {
    const m = await this.store.readManagement();
    const taken = new Set(Object.keys(m.addresses));
    const free = allocateAddresses(this.management.options.gateway, taken, nodes.length);
    const out = new Map<string, string>();
    nodes.forEach((n, i) => {
      out.set(n, free[i]!);
      m.addresses[free[i]!] = `${topology}/${n}`;
    });
    await this.store.writeManagement(m);
    return out;
  }

  private async releaseAddresses(topology: string, nodes?: readonly string[]): Promise<void> {
    const m = await this.store.readManagement();
    for (const [address, owner] of Object.entries(m.addresses)) {
      const [t, n] = owner.split("/");
      if (t === topology && (nodes === undefined || nodes.includes(n!))) delete m.addresses[address];
    }
    await this.store.writeManagement(m);
  }

  // ---- delete -------------------------------------------------------------------------------

  async deleteTopology(name: string, options: { onProgress?: (event: ProgressEvent) => void } = {}): Promise<void> {
    validateTopologyId(name, "name");
    const progress = (node: string | undefined, phase: string, message?: string): void =>
      options.onProgress?.({ topology: name, ...(node ? { node } : {}), phase, ...(message ? { message } : {}) });
    await this.mutate(`delete ${name}`, async () => {
      const started = Date.now();
      const [state, owned, ports0] = await Promise.all([this.store.readState(name).catch(() => undefined), listOwnedNamespaces(name), this.management.topologyPorts(name)]);
      if (!state && owned.length === 0 && ports0.length === 0) throw notFound(`topology ${name} does not exist (state dir ${this.store.root})`);
      if (state) {
        state.phase = "DELETING";
        state.message = "deleting";
        await this.store.writeState(state);
      }
      progress(undefined, "DELETING");
      const stageMs: Record<string, number> = { read: Date.now() - started };
      await this.stopTopologyProcesses(name, state, owned.map((o) => o.name));
      stageMs["processes"] = Date.now() - started;
      for (const node of Object.keys(state?.nodes ?? {})) progress(node, "STOPPED");
      // The agent removes every object of the topology by the kernel's ownership markers
      // (its namespace scope is "topology"), whether it recorded the wires or a crash came first.
      await this.withAgent((agent) => agent.deleteTopology({ topology: name }), { converge: false });
      stageMs["agent"] = Date.now() - started;
      // Management interfaces go with their namespaces. Host-side ports of an earlier
      // version: a namespace's deletion takes its veth along (once the kernel gets to it);
      // ports without one of our namespaces (left by a crash) are deleted at once.
      const ports = ports0.length === 0 ? Promise.resolve() : owned.length === 0 ? this.management.removeTopologyPorts(name) : this.management.awaitPortsGone(name);
      await Promise.all([
        ports.then(() => this.management.removeNetworkIfUnused()),
        this.releaseAddresses(name),
        this.store.removeTopology(name),
      ]);
      this.logger.info({ topology: name, elapsedMs: Date.now() - started, stageMs }, "topology deleted");
      progress(undefined, "DELETED");
    });
  }

  /** Stops the supervisor, then any recorded process still alive, then whatever still runs in the namespaces. */
  private async stopTopologyProcesses(name: string, state: TopologyState | undefined, namespaces: readonly string[], nodes?: readonly string[]): Promise<void> {
    if (state?.supervisor && nodes === undefined) {
      await stopProcesses([state.supervisor], 10_000);
    }
    const ids: ProcessIdentity[] = [];
    const statuses = await mapLimit(nodes ?? Object.keys(state?.nodes ?? {}), 32, (node) => this.store.readNodeStatus(name, node).catch(() => undefined));
    for (const status of statuses) {
      for (const p of Object.values(status?.processes ?? {})) if (p.pid && p.startTime) ids.push({ pid: p.pid, startTime: p.startTime });
    }
    await stopProcesses(ids, 2000);
    // Processes in namespaces we made (a command started by `kne exec`, or a daemon whose
    // record a crash lost): they would keep the namespace's devices alive.
    const leftovers: ProcessIdentity[] = [];
    for (const pid of await namespacePids(namespaces)) {
      const id = identify(pid);
      if (id) leftovers.push(id);
    }
    if (leftovers.length > 0) {
      this.logger.warn({ topology: name, pids: leftovers.map((l) => l.pid) }, "processes left in the topology's namespaces were stopped");
      await stopProcesses(leftovers, 1000);
    }
  }

  // ---- read ---------------------------------------------------------------------------------

  async getTopology(name: string): Promise<TopologyView> {
    validateTopologyId(name, "name");
    return this.view(await this.store.requireState(name));
  }

  async listTopologies(): Promise<TopologyView[]> {
    const out: TopologyView[] = [];
    for (const name of await this.store.listTopologyNames()) {
      const state = await this.store.readState(name).catch(() => undefined);
      if (state) out.push(await this.view(state));
    }
    return out;
  }

  private async view(state: TopologyState): Promise<TopologyView> {
    // Made here and changed here only: resolved and given defaults in place.
    const resolved = this.resolved(topologyFromJson(state.spec), state.linkUids, true);
    const supervising = isAlive(state.supervisor);
    // A topology whose nodes run no process never had a supervisor: nothing to supervise.
    const unsupervised = state.supervisor === undefined;
    // Host port forwards run in the supervisor: reported only while it runs.
    const forwards = supervising ? ((await readForwards(this.store, state.name))?.forwards ?? []) : [];
    // One status file per node, read synchronously (see readNodeStatusSync).
    const statuses = resolved.nodes.map((node) => this.nodeStatus(state, node.name));
    const host = hostname();
    const nodes: managerv1.NodeStatus[] = [];
    for (let i = 0; i < resolved.nodes.length; i++) {
      const node = resolved.nodes[i]!;
      const record = state.nodes[node.name];
      // Shown as upstream fills a node (image, command, config path...): the view only, never the stored spec.
      const withDefaults = applyConfigDefaults(safeDefaults(node, true));
      const address = record?.managementAddress ?? "";
      for (const [port, service] of Object.entries(withDefaults.services)) {
        service.outside = service.outside || Number(port);
        service.outsideIp = address;
        service.insideIp = address;
      }
      applyForwards(withDefaults, forwards);
      withDefaults.podIp = address;
      resolved.nodes[i] = withDefaults;
      const s = statuses[i]!;
      let phase = s.phase;
      let message = s.message;
      if (!supervising && (state.phase === "RUNNING" || state.phase === "UPDATING") && phase !== "FAILED" && Object.keys(s.file?.processes ?? {}).length > 0) {
        phase = "STOPPED";
        message = `the topology's supervisor is not running: processes are not watched (${message})`;
      }
      nodes.push(
        create(managerv1.NodeStatusSchema, {
          name: node.name,
          phase: nodePhases[phase],
          message,
          managementAddress: address,
          host,
          restarts: s.file?.restarts ?? 0,
        }),
      );
    }
    const ready = nodes.every((n) => n.phase === managerv1.NodePhase.READY);
    const status = create(managerv1.TopologyStatusSchema, {
      phase: topologyPhases[state.phase],
      generation: BigInt(state.generation),
      observedGeneration: BigInt(state.phase === "RUNNING" ? state.generation : Math.max(0, state.generation - 1)),
      backend: this.name,
      createTime: timestampFromDate(new Date(state.createTime)),
      nodes,
      conditions: [
        create(managerv1.ConditionSchema, { type: "Ready", status: ready, reason: ready ? "AllNodesReady" : "NodesNotReady", message: state.message, observedGeneration: BigInt(state.generation) }),
        create(managerv1.ConditionSchema, {
          type: "Supervised",
          status: supervising || unsupervised,
          reason: supervising ? "SupervisorRunning" : unsupervised ? "NothingToSupervise" : "SupervisorNotRunning",
          message: state.supervisor ? `supervisor pid ${state.supervisor.pid}` : "no node runs processes: no supervisor",
        }),
      ],
    });
    return { topology: resolved, status };
  }

  // ---- update -------------------------------------------------------------------------------

  async updateTopology(desired: topo.Topology, options: { dryRun?: boolean; timeoutMs?: number; onProgress?: (event: ProgressEvent) => void } = {}): Promise<UpdateResult> {
    this.checkRunnable(desired);
    const name = desired.name;
    const progress = (node: string | undefined, phase: string, message?: string): void =>
      options.onProgress?.({ topology: name, ...(node ? { node } : {}), phase, ...(message ? { message } : {}) });
    const compute = async () => {
      const state = await this.store.requireState(name);
      const current = topologyFromJson(state.spec);
      const plan = planTopology(current, desired);
      const modified = [
        ...plan.nodes.modify.map((c) => `node ${c.desired.name}`),
        ...plan.links.modify.map((c) => `link ${linkId(c.desired)}`),
        ...plan.segments.add.map((s) => `segment ${s.name}`),
        ...plan.segments.remove.map((s) => `segment ${s.name}`),
        ...plan.segments.modify.map((c) => `segment ${c.desired.name}`),
      ];
      if (modified.length > 0) {
        throw new ManagerError(
          "FAILED_PRECONDITION",
          `apply adds and removes nodes and links; these changed in place: ${modified.join(", ")}. Remove them in one apply and add them back in the next, ` +
            "or use 'kne link set' and 'kne link impair' for link state and impairments",
        );
      }
      const changes: managerv1.Change[] = [
        ...plan.nodes.add.map((n) => change(managerv1.Change_Action.ADD, "node", n.name, resolveVendorName(n))),
        ...plan.nodes.remove.map((n) => change(managerv1.Change_Action.REMOVE, "node", n.name, resolveVendorName(n))),
        ...plan.links.add.map((l) => change(managerv1.Change_Action.ADD, "link", linkId(l), "")),
        ...plan.links.remove.map((l) => change(managerv1.Change_Action.REMOVE, "link", linkId(l), "")),
      ];
      return { state, plan, changes };
    };
    if (options.dryRun) {
      const { state, changes } = await compute();
      return { view: await this.view(state), changes };
    }
    return this.mutate(`apply ${name}`, async () => {
      const { state, plan, changes } = await compute();
      if (plan.empty) return { view: await this.view(state), changes };
      const removedNodes = plan.nodes.remove.map((n) => n.name);
      const removedRecords = removedNodes.map((n) => ({ name: n, record: state.nodes[n]! }));
      state.spec = topologyToJson(desired);
      state.linkUids = assignLinkUids(desired.links, state.linkUids);
      // Keep the uids of removed links out of reuse: only the desired keys stay, numbering continues above them.
      const removedEndpoints = new Set(plan.links.remove.flatMap((l) => [endpointRef(l.aNode, l.aInt), endpointRef(l.zNode, l.zInt)]));
      for (const ref of removedEndpoints) {
        delete state.linkState[ref];
        delete state.impairments[ref];
      }
      state.generation += 1;
      state.phase = "UPDATING";
      state.message = `applying ${changes.length} changes`;
      for (const n of removedNodes) delete state.nodes[n];
      const added = plan.nodes.add;
      const addresses = await this.allocateAddresses(name, added.map((n) => n.name));
      for (const node of added) state.nodes[node.name] = this.newNodeRecord(name, node.name, addresses.get(node.name)!);
      await this.store.writeState(state);
      try {
        // The supervisor stops removed nodes when it sees them gone from the state.
        if (state.supervisor || this.mayRunProcesses(state, added) || wantsForwards(desired, await readForwarding(this.store, name))) await this.ensureSupervisor(state);
        await this.waitStopped(name, removedRecords);
        await this.stopTopologyProcesses(name, state, removedRecords.map((r) => r.record.netns), removedNodes);
        await this.makeNodes(state, desired, added, progress);
        await this.settleUnsupervised(state, added);
        await this.releaseAddresses(name, removedNodes);
        for (const r of removedRecords) await rm(r.record.nodeDir, { recursive: true, force: true });
        await this.waitReady(state, added.map((n) => n.name), options.timeoutMs ?? DEFAULT_TIMEOUT_MS, progress);
        state.phase = "RUNNING";
        state.message = `applied ${changes.length} changes`;
        await this.store.writeState(state);
      } catch (err) {
        state.phase = "ERROR";
        state.message = errorMessage(err);
        await this.store.writeState(state);
        throw err;
      }
      return { view: await this.view(state), changes };
    });
  }

  private async waitStopped(topology: string, removed: ReadonlyArray<{ name: string; record: NodeRecord }>): Promise<void> {
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      let running = 0;
      for (const r of removed) {
        const status = await this.store.readNodeStatus(topology, r.name).catch(() => undefined);
        if (status && status.phase !== "STOPPED" && Object.values(status.processes).some((p) => p.pid && isAlive({ pid: p.pid, startTime: p.startTime ?? -1 }))) running++;
      }
      if (running === 0) return;
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  // ---- links --------------------------------------------------------------------------------

  async listLinks(topology: string, node?: string): Promise<managerv1.LinkInfo[]> {
    const state = await this.store.requireState(topology);
    const spec = topologyFromJson(state.spec);
    if (node && !spec.nodes.some((n) => n.name === node)) throw notFound(`topology ${topology} has no node ${node}`);
    const links = spec.links.filter((l) => !node || l.aNode === node || l.zNode === node);
    const observed = await this.observe(state, new Set(links.flatMap((l) => [l.aNode, l.zNode])));
    return links.map((l) => this.linkInfo(state, l, observed));
  }

  private async observe(state: TopologyState, nodes: ReadonlySet<string>): Promise<Map<string, Map<string, ObservedInterface>>> {
    const out = new Map<string, Map<string, ObservedInterface>>();
    await mapLimit([...nodes].filter((n) => state.nodes[n]), 8, async (n) => {
      const list = await readInterfaces(state.nodes[n]!.netns).catch(() => [] as ObservedInterface[]);
      out.set(n, new Map(list.map((i) => [i.ifname, i])));
    });
    return out;
  }

  private linkInfo(state: TopologyState, link: topo.Link, observed: Map<string, Map<string, ObservedInterface>>): managerv1.LinkInfo {
    const endpoint = (side: "a" | "z"): managerv1.EndpointStatus => {
      const nodeName = side === "a" ? link.aNode : link.zNode;
      const iface = side === "a" ? link.aInt : link.zInt;
      const isNode = side === "a" || (link.kind !== topo.LinkKind.LAN_SEGMENT && link.kind !== topo.LinkKind.HOST_ATTACHMENT && link.zNode !== hostAttachmentNode);
      const obs = isNode ? observed.get(nodeName)?.get(iface) : undefined;
      const oper = !obs
        ? managerv1.OperState.ABSENT
        : obs.adminUp && obs.carrier
          ? managerv1.OperState.UP
          : obs.adminUp
            ? managerv1.OperState.LOWER_LAYER_DOWN
            : managerv1.OperState.DOWN;
      return create(managerv1.EndpointStatusSchema, {
        endpoint: { node: nodeName, interface: iface },
        adminState: isNode ? endpointState(link, side, state) : topo.LinkState.UNSPECIFIED,
        operState: oper,
        ...(obs
          ? {
              counters: {
                rxPackets: BigInt(obs.counters.rxPackets),
                txPackets: BigInt(obs.counters.txPackets),
                rxBytes: BigInt(obs.counters.rxBytes),
                txBytes: BigInt(obs.counters.txBytes),
                rxDropped: BigInt(obs.counters.rxDropped),
                txDropped: BigInt(obs.counters.txDropped),
              },
            }
          : {}),
        ...(isNode ? { impairments: endpointEgress(link, side, state) } : {}),
      });
    };
    return create(managerv1.LinkInfoSchema, {
      id: linkId(link),
      topology: state.name,
      spec: link,
      uid: BigInt(state.linkUids[linkWireKey(link)] ?? 0),
      a: endpoint("a"),
      z: endpoint("z"),
    });
  }

  private async oneLink(state: TopologyState, link: topo.Link): Promise<managerv1.LinkInfo> {
    return this.linkInfo(state, link, await this.observe(state, new Set([link.aNode, link.zNode])));
  }

  private localSides(link: topo.Link, side: "a" | "z" | undefined): Array<"a" | "z"> {
    const zLocal = link.kind !== topo.LinkKind.LAN_SEGMENT && link.kind !== topo.LinkKind.HOST_ATTACHMENT && link.zNode !== hostAttachmentNode;
    return (side ? [side] : (["a", "z"] as const)).filter((s) => s === "a" || zLocal);
  }

  async setLinkState(topology: string, ref: string, linkState: topo.LinkState, endpoint?: string): Promise<managerv1.LinkInfo> {
    if (linkState !== topo.LinkState.UP && linkState !== topo.LinkState.DOWN) {
      throw new ManagerError("INVALID_ARGUMENT", "state must be LINK_STATE_UP or LINK_STATE_DOWN", [{ field: "state", description: "must be LINK_STATE_UP or LINK_STATE_DOWN" }]);
    }
    return this.mutate(`link set ${topology}`, async () => {
      const state = await this.store.requireState(topology);
      const spec = topologyFromJson(state.spec);
      const link = findLink(spec, ref);
      const sides = this.localSides(link, endpointSide(link, endpoint));
      for (const side of sides) state.linkState[side === "a" ? endpointRef(link.aNode, link.aInt) : endpointRef(link.zNode, link.zInt)] = linkState === topo.LinkState.DOWN ? "DOWN" : "UP";
      await this.store.writeState(state);
      await this.withAgent(async (agent) => {
        for (const side of sides) {
          const node = side === "a" ? link.aNode : link.zNode;
          await agent.setLinkState({ topology, node, interface: agentInterface(spec, node, side === "a" ? link.aInt : link.zInt), state: linkState });
        }
      });
      this.logger.info({ topology, link: linkId(link), state: topo.LinkState[linkState] }, "link state set");
      return this.oneLink(state, link);
    });
  }

  async setLinkImpairments(topology: string, ref: string, impairments: LinkImpairments): Promise<managerv1.LinkInfo> {
    return this.mutate(`link impair ${topology}`, async () => {
      const state = await this.store.requireState(topology);
      const spec = topologyFromJson(state.spec);
      const link = findLink(spec, ref);
      const sides = this.localSides(link, undefined);
      await this.withAgent(async (agent) => {
        for (const side of sides) {
          const value = (side === "a" ? impairments.aToZ : impairments.zToA) ?? create(topo.ImpairmentsSchema);
          const node = side === "a" ? link.aNode : link.zNode;
          await agent.setImpairments({ topology, node, interface: agentInterface(spec, node, side === "a" ? link.aInt : link.zInt), impairments: value });
        }
      });
      for (const side of sides) {
        const value = side === "a" ? impairments.aToZ : impairments.zToA;
        state.impairments[side === "a" ? endpointRef(link.aNode, link.aInt) : endpointRef(link.zNode, link.zInt)] = impairmentsToJson(value);
      }
      await this.store.writeState(state);
      return this.oneLink(state, link);
    });
  }

  // ---- nodes --------------------------------------------------------------------------------

  private async nodeOf(topology: string, nodeName: string): Promise<{ state: TopologyState; node: topo.Node; record: NodeRecord }> {
    const state = await this.store.requireState(topology);
    const spec = topologyFromJson(state.spec);
    const node = spec.nodes.find((n) => n.name === nodeName);
    const record = state.nodes[nodeName];
    if (!node || !record) {
      throw notFound(`topology ${topology} has no node ${JSON.stringify(nodeName)}; its nodes: ${spec.nodes.map((n) => n.name).join(", ")}`);
    }
    return { state, node, record };
  }

  async listNodes(topology: string): Promise<Array<{ node: topo.Node; status: managerv1.NodeStatus }>> {
    const view = await this.getTopology(topology);
    return view.topology.nodes.map((node, i) => ({ node, status: view.status.nodes[i]! }));
  }

  async execCommand(topology: string, nodeName: string, request: ExecRequest): Promise<ExecOutcome> {
    const { node, record } = await this.nodeOf(topology, nodeName);
    if (request.argv.length === 0 || request.argv[0] === "") {
      throw new ManagerError("INVALID_ARGUMENT", "a command is required", [{ field: "command", description: "is required" }]);
    }
    const argv = nodeCommand(node, record, request.argv);
    return runInNode(record, argv, { ...nodeEnvironment(topology, nodeName) }, request.stdin, request.timeoutMs ?? 60_000, request.signal);
  }

  async nodeLogs(topology: string, nodeName: string, request: LogsRequest = {}): Promise<string> {
    await this.nodeOf(topology, nodeName);
    const text = await readFile(this.store.nodeLogFile(topology, nodeName), "utf8").catch(() => "");
    if (!request.tailLines) return text;
    const lines = text.split("\n");
    if (lines[lines.length - 1] === "") lines.pop();
    return lines.slice(-request.tailLines).join("\n") + (lines.length > 0 ? "\n" : "");
  }

  /** Process control for runtimes called in this process: signals to recorded pids, restarts through the supervisor. */
  private processControl(topology: string, node: string): NodeProcessControl {
    return {
      signal: async (name, signal) => {
        const status = await this.store.readNodeStatus(topology, node);
        const p = status?.processes[name];
        if (!p?.pid || !p.startTime || !signalProcess({ pid: p.pid, startTime: p.startTime }, signal)) {
          throw new ManagerError("UNAVAILABLE", `node ${node}: process ${name} is not running`);
        }
      },
      restart: async (name) => {
        const dir = this.store.controlDir(topology, node);
        const path = join(dir, `${Date.now()}-${process.pid}-restart.json`);
        await writeJsonAtomic(path, { action: "restart", process: name });
        const deadline = Date.now() + 30_000;
        for (;;) {
          try {
            await readFile(path);
          } catch {
            return;
          }
          if (Date.now() > deadline) {
            await rm(path, { force: true });
            throw new ManagerError("UNAVAILABLE", `node ${node}: the supervisor did not restart ${name} within 30 s`);
          }
          await new Promise((r) => setTimeout(r, 50));
        }
      },
    };
  }

  private context(topology: string, node: topo.Node, record: NodeRecord): LocalNodeContext {
    return nodeContext(topology, node, record, this.processControl(topology, node.name));
  }

  private runtimeFor(node: topo.Node): LocalRuntime {
    return requireLocalRuntime(node);
  }

  async pushConfig(topology: string, nodeName: string, config: Uint8Array): Promise<void> {
    await this.mutate(`push ${topology}/${nodeName}`, async () => {
      const { node, record } = await this.nodeOf(topology, nodeName);
      const runtime = this.runtimeFor(node);
      if (!runtime.pushConfig) throw new UnsupportedOperationError(resolveVendorName(node), "config push");
      await runtime.pushConfig(this.context(topology, node, record), config);
      this.logger.info({ topology, node: nodeName, bytes: config.length }, "config pushed");
    });
  }

  async resetConfig(topology: string, nodeName: string | undefined, push: boolean): Promise<void> {
    await this.mutate(`reset ${topology}`, async () => {
      const state = await this.store.requireState(topology);
      const spec = topologyFromJson(state.spec);
      const targets = nodeName === undefined ? spec.nodes : [(await this.nodeOf(topology, nodeName)).node];
      for (const node of targets) {
        const runtime = this.runtimeFor(node);
        const record = state.nodes[node.name]!;
        if (!runtime.resetConfig) {
          if (nodeName !== undefined) throw new UnsupportedOperationError(resolveVendorName(node), "config reset");
          continue;
        }
        const ctx = this.context(topology, node, record);
        await runtime.resetConfig(ctx);
        if (push && ctx.bootConfig && runtime.pushConfig) await runtime.pushConfig(ctx, ctx.bootConfig);
        this.logger.info({ topology, node: node.name, push }, "config reset");
      }
    });
  }

  async saveConfig(topology: string, nodeName: string): Promise<Uint8Array> {
    const { node, record } = await this.nodeOf(topology, nodeName);
    const runtime = this.runtimeFor(node);
    if (!runtime.saveConfig) throw new UnsupportedOperationError(resolveVendorName(node), "config save");
    return runtime.saveConfig(this.context(topology, node, record));
  }

  /**
   * Generates the node's certificate from its `config.cert.self_signed` into its `certs/`
   * directory (where its command reads it); UNIMPLEMENTED naming the vendor for vendors
   * that take none.
   */
  async generateCertificate(topology: string, nodeName: string): Promise<NodeCertificate> {
    const { node, record } = await this.nodeOf(topology, nodeName);
    requireLocalCertificates(node, resolveVendorName(node));
    const plan = certificatePlan(node, record.managementAddress ? { managementAddress: record.managementAddress } : {});
    const written = await writeNodeCertificate(record.nodeDir, plan);
    this.logger.info({ topology, node: nodeName, certificate: written.certificatePath }, "certificate generated");
    return { certificatePem: new TextEncoder().encode(written.certificatePem), certificatePath: written.certificatePath, keyPath: written.keyPath };
  }

  /**
   * What `kne exec -it` runs: the command in the node's namespace, from its directory, with
   * its environment, for the caller to start with its own terminal (stdin, stdout, stderr).
   */
  async interactiveCommand(topology: string, nodeName: string, argv: readonly string[]): Promise<NodeCommandLine> {
    const { node, record } = await this.nodeOf(topology, nodeName);
    if (argv.length === 0 || argv[0] === "") throw new ManagerError("INVALID_ARGUMENT", "a command is required", [{ field: "command", description: "is required" }]);
    return { file: "nsenter", args: [`--net=${join(NETNS_DIR, record.netns)}`, "--", ...nodeCommand(node, record, argv)], cwd: record.nodeDir, env: nodeEnvironment(topology, nodeName) };
  }

  /** A command in the node with pipes for its standard streams, killed when the signal aborts or at the timeout. */
  async execStream(topology: string, nodeName: string, request: { argv: string[]; timeoutMs?: number }, signal: AbortSignal): Promise<ExecSession> {
    const line = await this.interactiveCommand(topology, nodeName, request.argv);
    return spawnExecSession(line, request.timeoutMs, signal);
  }

  async listServices(topology: string): Promise<managerv1.ServiceEndpoint[]> {
    const view = await this.getTopology(topology);
    const out: managerv1.ServiceEndpoint[] = [];
    for (const node of view.topology.nodes) {
      for (const [port, service] of Object.entries(node.services).sort((a, b) => Number(a[0]) - Number(b[0]))) {
        out.push(
          create(managerv1.ServiceEndpointSchema, {
            node: node.name,
            service,
            address: node.podIp,
            port: service.inside || Number(port),
          }),
        );
      }
    }
    return out;
  }

  // ---- watch --------------------------------------------------------------------------------

  async *watchTopologies(name: string | undefined, signal: AbortSignal): AsyncIterable<managerv1.TopologyEvent> {
    let revision = 0n;
    const seen = new Map<string, { phase: string; nodes: Map<string, string> }>();
    const event = (type: managerv1.TopologyEvent_Type, topology: string, status: managerv1.TopologyStatus | undefined, extra: { node?: managerv1.NodeStatus; message?: string } = {}) =>
      create(managerv1.TopologyEventSchema, { revision: ++revision, type, topology, ...(status ? { status } : {}), time: timestampFromDate(new Date()), ...extra });
    while (!signal.aborted) {
      const changesBefore = this.changes;
      const views = name ? await this.getTopology(name).then((v) => [v], () => [] as TopologyView[]) : await this.listTopologies();
      const present = new Set<string>();
      for (const v of views) {
        const t = v.topology.name;
        present.add(t);
        const before = seen.get(t);
        const phase = managerv1.TopologyPhase[v.status.phase] ?? String(v.status.phase);
        const nodes = new Map(v.status.nodes.map((n) => [n.name, `${n.phase}\u0000${n.message}\u0000${n.restarts}`]));
        if (!before) {
          yield event(managerv1.TopologyEvent_Type.CREATED, t, v.status, { message: phase });
          for (const n of v.status.nodes) yield event(managerv1.TopologyEvent_Type.NODE_CHANGED, t, undefined, { node: n });
        } else {
          if (before.phase !== phase) yield event(managerv1.TopologyEvent_Type.UPDATED, t, v.status, { message: phase });
          for (const n of v.status.nodes) {
            if (before.nodes.get(n.name) !== nodes.get(n.name)) yield event(managerv1.TopologyEvent_Type.NODE_CHANGED, t, undefined, { node: n });
          }
        }
        seen.set(t, { phase, nodes });
      }
      for (const t of [...seen.keys()]) {
        if (!present.has(t)) {
          seen.delete(t);
          yield event(managerv1.TopologyEvent_Type.DELETED, t, undefined, { message: "deleted" });
        }
      }
      await this.changedSince(changesBefore, 250, signal);
    }
  }

  async *watchLinks(topology: string, link: string | undefined, signal: AbortSignal): AsyncIterable<managerv1.LinkInfo> {
    const seen = new Map<string, string>();
    while (!signal.aborted) {
      const state = await this.store.readState(topology);
      if (!state) return;
      let links = await this.listLinks(topology);
      if (link) {
        const wanted = linkId(findLink(topologyFromJson(state.spec), link));
        links = links.filter((l) => l.id === wanted);
      }
      for (const l of links) {
        const key = [l.a, l.z].map((e) => `${e?.adminState}/${e?.operState}/${JSON.stringify(impairmentsToJson(e?.impairments))}`).join("|");
        if (seen.get(l.id) !== key) {
          seen.set(l.id, key);
          yield l;
        }
      }
      // Each pass runs `ip` in every node of the topology, and waking it after every change
      // made here slowed link flips threefold: the manager's services publish the links they
      // set themselves, so this pass only catches what changed elsewhere (carrier of the far
      // end, a node's own daemons, links added by an update).
      await sleep(1000, signal);
    }
  }
}

function agentClient(agent: AgentService): Client<typeof agentv1.AgentService> {
  // Traced on both sides, as if the agent were remote: its spans join the manager call's
  // trace. Messages pass by reference (each request is built anew and not touched after).
  return createClient(
    agentv1.AgentService,
    createDirectTransport([serviceRegistration(agentv1.AgentService, agent.impl)], {
      clientInterceptors: [tracingInterceptor({ side: "client" })],
      serverInterceptors: [tracingInterceptor({ side: "server" })],
    }),
  );
}

function change(action: managerv1.Change_Action, kind: string, name: string, detail: string): managerv1.Change {
  return create(managerv1.ChangeSchema, { action, kind, name, detail });
}

function resolveVendorName(node: topo.Node): string {
  try {
    return resolveVendor(node).name;
  } catch {
    return topo.Vendor[node.vendor] ?? String(node.vendor);
  }
}

function safeDefaults(node: topo.Node, inPlace = false): topo.Node {
  try {
    return inPlace ? applyVendorDefaults(node) : withVendorDefaults(node);
  } catch {
    return node;
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}

/**
 * Pids of the processes inside any of the named network namespaces (what `ip netns pids`
 * finds, for all of them in one pass over /proc: a process is in a namespace when its
 * `/proc/PID/ns/net` is the namespace's inode).
 */
async function namespacePids(namespaces: readonly string[]): Promise<number[]> {
  if (namespaces.length === 0) return [];
  const inodes = new Set<string>();
  for (const ns of namespaces) {
    const st = await stat(join(NETNS_DIR, ns)).catch(() => undefined);
    if (st) inodes.add(`net:[${st.ino}]`);
  }
  if (inodes.size === 0) return [];
  const out: number[] = [];
  for (const entry of await readdir("/proc").catch(() => [] as string[])) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === process.pid) continue;
    const link = await readlink(`/proc/${entry}/ns/net`).catch(() => undefined);
    if (link !== undefined && inodes.has(link)) out.push(pid);
  }
  return out;
}

/** Runs argv in the node's namespace, collecting its output (stdin optional, killed at the timeout). */
function runInNode(record: NodeRecord, argv: readonly string[], env: Record<string, string>, stdin: Uint8Array | undefined, timeoutMs: number, signal?: AbortSignal): Promise<ExecOutcome> {
  return new Promise((resolve, reject) => {
    const child = spawn("nsenter", [`--net=/var/run/netns/${record.netns}`, "--", ...argv], {
      cwd: record.nodeDir,
      env: { ...process.env, ...env },
      stdio: ["pipe", "pipe", "pipe"],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    // Nobody waits for the output any more: the command stops too.
    const cancel = (): void => void child.kill("SIGKILL");
    signal?.addEventListener("abort", cancel, { once: true });
    child.once("close", () => signal?.removeEventListener("abort", cancel));
    child.stdout.on("data", (b: Buffer) => out.push(b));
    child.stderr.on("data", (b: Buffer) => err.push(b));
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on("close", (code, sig) => {
      clearTimeout(timer);
      const stderr = Buffer.concat(err);
      resolve({
        exitCode: code ?? 128 + (sig === "SIGKILL" ? 9 : 15),
        stdout: new Uint8Array(Buffer.concat(out)),
        stderr: new Uint8Array(sig ? Buffer.concat([stderr, Buffer.from(`\nkilled (${sig}${sig === "SIGKILL" ? ": timeout" : ""})\n`)]) : stderr),
      });
    });
    child.stdin.on("error", () => undefined);
    child.stdin.end(stdin ? Buffer.from(stdin) : undefined);
  });
}

