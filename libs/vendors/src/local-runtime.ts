/**
 * The contract between a vendor and the local backend. The backend owns namespaces,
 * directories and processes; the vendor says what to write, what to run and how to talk
 * to what runs. Every call gets the node's context; runtimes keep no per-node state in
 * memory beyond a lock, so a new `kne` process can pick up a running node from its files.
 */
import type { topo } from "@kne/proto";

/** The outcome of one command run inside the node's network namespace. */
export interface ExecResult {
  /** Exit code; a process killed by a signal (or the timeout) reports a non-zero code. */
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface ExecOptions {
  /** Kill the command after this long (default: the backend's choice, at least 30 s). */
  readonly timeoutMs?: number;
  readonly env?: Readonly<Record<string, string>>;
}

/** Runs `argv` (no shell) inside the node's network namespace. Never throws for a non-zero exit. */
export type NodeExec = (argv: readonly string[], options?: ExecOptions) => Promise<ExecResult>;

/** The backend's handle on the node's supervised processes, by `ProcessSpec.name`. */
export interface NodeProcessControl {
  /** Sends a signal to the running process (for example SIGHUP to reload). */
  signal(name: string, signal: NodeJS.Signals): Promise<void>;
  /** Stops the process and starts it again from the same spec; resolves once it is started. */
  restart(name: string): Promise<void>;
}

/** What a runtime gets to know about the node it serves. */
export interface LocalNodeContext {
  readonly topology: string;
  /** The node as the topology gives it (vendor defaults may be applied, or not). */
  readonly node: topo.Node;
  /** Network namespace name: `/var/run/netns/<netns>`. */
  readonly netns: string;
  /**
   * Absolute directory of this node only, created by the backend before `prepare`.
   * Runtimes put config files and UNIX sockets here, so keep it short: a socket path must
   * fit in 107 bytes (runtimes check and fail with a clear error).
   */
  readonly nodeDir: string;
  /** The boot config (`config.data`, or the contents of `config.file`). */
  readonly bootConfig?: Uint8Array;
  /** The node's management address (no prefix length), when it has one. */
  readonly managementAddress?: string;
  readonly exec: NodeExec;
  readonly processes: NodeProcessControl;
}

/** One long-running process of a node. */
export interface ProcessSpec {
  /** Unique within the node, for logs, signals and restarts (`zebra`, `gobgpd`). */
  readonly name: string;
  /** Executable (absolute path or a name found on PATH) and its arguments. No shell. */
  readonly argv: readonly string[];
  /** Extra environment on top of the backend's own. */
  readonly env?: Readonly<Record<string, string>>;
  readonly cwd?: string;
  /** How to ask it to stop (default SIGTERM; the backend escalates to SIGKILL). */
  readonly stopSignal?: NodeJS.Signals;
  /**
   * Start (and restart) the process only once every path exists — typically a socket
   * another process of the node creates. FRR daemons wait for zebra's `zserv.api`: a daemon
   * that finds no zebra retries only 10 s later. `prepare` removes stale sockets first.
   */
  readonly waitForPaths?: readonly string[];
}

export interface ReadyResult {
  readonly ready: boolean;
  /** Why not (yet): shown per node when create times out. */
  readonly reason?: string;
  /** The node will not become ready without a change (for example a rejected boot config): stop waiting. */
  readonly failed?: boolean;
}

/**
 * How a vendor runs on the local backend. Call order for a node:
 * `sysctls` (set inside the namespace) → `prepare` → start every `processes` entry (in
 * order; they may start together) → poll `ready` until ready. Afterwards `ready` is also
 * the health check: call it after the supervisor restarts one of the processes (and from
 * time to time); it is level-triggered and brings restarted daemons back to the config in
 * force (FRR daemons start empty and get their config over vty, as `watchfrr` does).
 *
 * `pushConfig`, `resetConfig` and `saveConfig` are absent where the vendor has no such
 * operation; the manager answers UNIMPLEMENTED then (`UnsupportedOperationError`).
 */
export interface LocalRuntime {
  /** Kernel parameters to set inside the node's namespace before anything starts. */
  sysctls(ctx: LocalNodeContext): Readonly<Record<string, string>>;
  /** Writes config files into `nodeDir` and checks what can be checked before starting. Idempotent. */
  prepare(ctx: LocalNodeContext): Promise<void>;
  /** The processes to start and supervise (pure: reads only the context and `nodeDir`). */
  processes(ctx: LocalNodeContext): ProcessSpec[];
  ready(ctx: LocalNodeContext): Promise<ReadyResult>;
  /** Applies a config to the running node (per-vendor semantics: see the README). */
  pushConfig?(ctx: LocalNodeContext, config: Uint8Array): Promise<void>;
  /** Brings the running node back to its boot config. */
  resetConfig?(ctx: LocalNodeContext): Promise<void>;
  /** The config the node runs now. */
  saveConfig?(ctx: LocalNodeContext): Promise<Uint8Array>;
}
