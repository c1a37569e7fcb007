/**
 * The local backend's state directory: what every `kne` process and each topology's
 * supervisor share. Files are JSON, replaced atomically (write, fsync, rename), so a reader
 * sees the old or the new content and a crash never leaves half a file.
 *
 * ```
 * STATE_DIR/
 *   lock                  the mutation lock: one operation that changes the kernel at a time
 *   management.json       management addresses allocated, per topology and node
 *   agent/                the embedded agent's desired wires
 *   topologies/NAME/
 *     state.json          desired spec, link uids, link state, what was made, phase
 *     supervisor.log      the supervisor's own log
 *     nodes/NODE/         the node's directory (vendor files, sockets)
 *       status.json       written by the supervisor: phase, processes, restarts
 *       node.log          output of the node's processes
 *       hostname          the node's host name (network namespaces have no UTS namespace)
 *       control/          restart requests for the supervisor
 * ```
 */
import { closeSync, fsyncSync, openSync, readFileSync, writeSync } from "node:fs";
import { mkdir, readFile, readdir, rename, rm, unlink } from "node:fs/promises";
import { dirname, join } from "node:path";
import { ManagerError } from "../errors.ts";
import { type ProcessIdentity, identify, isAlive } from "./process-identity.ts";

export const DEFAULT_STATE_DIR = "/var/lib/kne";
export const STATE_DIR_ENV = "KNE_STATE_DIR";

/** The state directory: the option, else $KNE_STATE_DIR, else /var/lib/kne. */
export function resolveStateDir(option?: string): string {
  return option ?? (process.env[STATE_DIR_ENV] || DEFAULT_STATE_DIR);
}

export type TopologyPhaseName = "CREATING" | "RUNNING" | "UPDATING" | "DELETING" | "ERROR";
export type NodePhaseName = "PENDING" | "STARTING" | "READY" | "FAILED" | "STOPPED";

/** What was made for one node. */
export interface NodeRecord {
  netns: string;
  nodeDir: string;
  managementAddress?: string;
  /** Host end of the management veth. */
  hostIfname?: string;
  /** Set once its namespace, management interface and files are in place: the supervisor may start it. */
  prepared?: boolean;
  /** Why the node could not be prepared (the supervisor does not start it). */
  failed?: string;
  /**
   * A node without processes, settled without a supervisor (HOST without a command): its
   * status, kept here rather than in a status file of its own (one write for the topology,
   * not one per node). A status file, once the supervisor writes one, wins.
   */
  settled?: { phase: "READY" | "FAILED"; message: string };
}

export interface TopologyState {
  version: 1;
  name: string;
  createTime: string;
  phase: TopologyPhaseName;
  message: string;
  /** Increases with every change of the spec (create is 1). */
  generation: number;
  /** Generation of the wires last sent to the agent. */
  wiresGeneration: number;
  /** The desired topology (proto JSON, config files inline). */
  spec: unknown;
  /** Wire key (see `linkWireKey`) → uid; stable across `apply`. */
  linkUids: Record<string, number>;
  /** Admin state set per endpoint (`node:interface`) after creation. */
  linkState: Record<string, "UP" | "DOWN">;
  /** Egress impairments set per endpoint after creation (topo.Impairments JSON). */
  impairments: Record<string, unknown>;
  nodes: Record<string, NodeRecord>;
  supervisor?: ProcessIdentity;
}

export interface ProcessRecord {
  pid?: number;
  startTime?: number;
  running: boolean;
  restarts: number;
  lastExit?: string;
}

/** Written by the supervisor for each node. */
export interface NodeStatusFile {
  phase: NodePhaseName;
  message: string;
  restarts: number;
  processes: Record<string, ProcessRecord>;
  updated: string;
}

export interface ManagementFile {
  /** address → "topology/node" */
  addresses: Record<string, string>;
}

export class StateStore {
  constructor(readonly root: string) {}

  get topologiesDir(): string {
    return join(this.root, "topologies");
  }
  get agentDir(): string {
    return join(this.root, "agent");
  }
  get managementFile(): string {
    return join(this.root, "management.json");
  }
  topologyDir(name: string): string {
    return join(this.topologiesDir, name);
  }
  stateFile(name: string): string {
    return join(this.topologyDir(name), "state.json");
  }
  nodeDir(topology: string, node: string): string {
    return join(this.topologyDir(topology), "nodes", node);
  }
  nodeStatusFile(topology: string, node: string): string {
    return join(this.nodeDir(topology, node), "status.json");
  }
  nodeLogFile(topology: string, node: string): string {
    return join(this.nodeDir(topology, node), "node.log");
  }
  controlDir(topology: string, node: string): string {
    return join(this.nodeDir(topology, node), "control");
  }
  supervisorLog(topology: string): string {
    return join(this.topologyDir(topology), "supervisor.log");
  }

  async listTopologyNames(): Promise<string[]> {
    const names = await readdir(this.topologiesDir).catch(() => [] as string[]);
    return names.filter((n) => !n.startsWith(".")).sort();
  }

  async readState(name: string): Promise<TopologyState | undefined> {
    return readJson<TopologyState>(this.stateFile(name));
  }

  async requireState(name: string): Promise<TopologyState> {
    const state = await this.readState(name);
    if (!state) throw new ManagerError("NOT_FOUND", `topology ${name} does not exist (state dir ${this.root})`);
    return state;
  }

  async writeState(state: TopologyState): Promise<void> {
    await writeJsonAtomic(this.stateFile(state.name), state);
  }

  async removeTopology(name: string): Promise<void> {
    await rm(this.topologyDir(name), { recursive: true, force: true });
  }

  async readNodeStatus(topology: string, node: string): Promise<NodeStatusFile | undefined> {
    return readJson<NodeStatusFile>(this.nodeStatusFile(topology, node));
  }

  /**
   * The same, read synchronously: a view reads one small file per node, and the promise
   * API's open/read/close round trips through the thread pool cost ~60 ms for 200 nodes
   * (kne show, loaded machine, --cpu-prof) where reading them in turn costs a few.
   */
  readNodeStatusSync(topology: string, node: string): NodeStatusFile | undefined {
    let text: string;
    try {
      text = readFileSync(this.nodeStatusFile(topology, node), "utf8");
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw e;
    }
    return JSON.parse(text) as NodeStatusFile;
  }

  async writeNodeStatus(topology: string, node: string, status: NodeStatusFile): Promise<void> {
    // Not fsynced: a status is rewritten by the supervisor whenever it changes, and a crash
    // of the machine takes the namespaces and processes it describes along.
    await writeJsonAtomic(this.nodeStatusFile(topology, node), status, { fsync: false });
  }

  async readManagement(): Promise<ManagementFile> {
    return (await readJson<ManagementFile>(this.managementFile)) ?? { addresses: {} };
  }

  async writeManagement(m: ManagementFile): Promise<void> {
    await writeJsonAtomic(this.managementFile, m);
  }
}

export async function readJson<T>(path: string): Promise<T | undefined> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw e;
  }
  return JSON.parse(text) as T;
}

let tmpCounter = 0;

/** Writes JSON through a temporary file, fsync (unless turned off) and rename. */
export async function writeJsonAtomic(path: string, value: unknown, options: { fsync?: boolean } = {}): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.${++tmpCounter}.tmp`;
  const fd = openSync(tmp, "w", 0o644);
  try {
    writeSync(fd, `${JSON.stringify(value, null, 2)}\n`);
    if (options.fsync !== false) fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  await rename(tmp, path);
}

/** The lock file's content: who holds it. */
interface LockOwner extends ProcessIdentity {
  what: string;
}

/** The lock owner name of a topology-manager server, which holds the lock for its whole life. */
export const SERVER_LOCK_OWNER = "topology-manager";

export interface HeldLock {
  release(): Promise<void>;
}

/**
 * Takes the state directory's mutation lock (an O_EXCL file naming its holder by pid and
 * start time; a holder that died leaves a lock that the next taker removes). Waits up to
 * `waitMs`, then fails with UNAVAILABLE naming the holder.
 */
export async function acquireLock(root: string, what: string, waitMs = 600_000): Promise<HeldLock> {
  const path = join(root, "lock");
  await mkdir(root, { recursive: true });
  const me = identify(process.pid)!;
  const deadline = Date.now() + waitMs;
  for (;;) {
    try {
      const fd = openSync(path, "wx", 0o644);
      writeSync(fd, JSON.stringify({ ...me, what } satisfies LockOwner));
      closeSync(fd);
      let released = false;
      return {
        async release() {
          if (released) return;
          released = true;
          const owner = await readJson<LockOwner>(path).catch(() => undefined);
          if (owner && owner.pid === me.pid && owner.startTime === me.startTime) await unlink(path).catch(() => undefined);
        },
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    }
    const owner = await readJson<LockOwner>(path).catch(() => undefined);
    if (!owner || !isAlive(owner)) {
      // The holder is gone (or the file is torn): take it over.
      await unlink(path).catch(() => undefined);
      continue;
    }
    if (owner.what === SERVER_LOCK_OWNER && what !== SERVER_LOCK_OWNER) {
      throw new ManagerError(
        "FAILED_PRECONDITION",
        `a topology-manager (pid ${owner.pid}) serves the state dir ${root}: talk to it (kne --server ADDR, or KNE_SERVER) instead of running the manager in this process`,
      );
    }
    if (Date.now() >= deadline) {
      throw new ManagerError("UNAVAILABLE", `the state dir ${root} is locked by process ${owner.pid} (${owner.what}); try again when it is done`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
