/**
 * The fast path for link state. Where it can (Linux, root, the FFI loads), a netlink socket
 * of this process per namespace (`RouteNetlink`, @kne/dataplane): ~0.08 ms per request at
 * the median and ~0.2 ms at p99, with no other process to wake. Otherwise, and for other
 * single `ip` lines: one long-lived `ip -force -batch -` per namespace, fed one
 * line per request. Spawning `nsenter … ip link set` per call costs 6 ms at the median and
 * 70 ms at p99 on a loaded 2-core VM (fork of a large process plus exec); a line written to a
 * waiting `ip` is applied in well under a millisecond.
 *
 * Completion: after each command line we send a line `ip` cannot parse (`kneack`). `ip` reports
 * every failed line on stderr as `Command failed -:N`, and stderr is unbuffered, so the report
 * of the marker (an even line number) tells that the command before it has run, and any text
 * reported for the command's own line (odd) is its error.
 *
 * A session keeps its namespace alive while it runs (it is a process inside it): callers
 * close the sessions of namespaces before deleting them. Idle sessions close themselves.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { type DataplaneError, RouteNetlink, batchLine, routeNetlinkUnavailable, toolArgv, toolEnvironment, translateCommandFailure, trySetNice, validateNetnsName } from "@kne/dataplane";

const MARKER = "kneack";

/**
 * The session's `ip` sleeps until a line arrives; on a busy host its wake-up waits behind
 * CPU-bound processes, which is most of the latency tail (p99 of the handler 15.7 ms at nice
 * 0, 6.2 ms at -15, load 4 on 2 cores). It does nothing but apply the lines we send, so it
 * runs at a higher priority when we may give it one (root); otherwise as it is.
 */
const SESSION_NICE = -10;

interface Pending {
  args: readonly string[];
  object: string;
  error?: string;
  resolve: () => void;
  reject: (err: DataplaneError | Error) => void;
}

class Session {
  private readonly child: ChildProcess;
  private readonly pending = new Map<number, Pending>();
  private lineNo = 0;
  private errorText: string[] = [];
  private idleTimer?: NodeJS.Timeout;
  readonly exited: Promise<void>;
  private dead = false;

  constructor(
    readonly netns: string,
    private readonly idleMs: number,
    private readonly onIdle: (s: Session) => void,
  ) {
    const argv = toolArgv(netns, "ip", ["-force", "-batch", "-"]);
    this.child = spawn(argv[0]!, argv.slice(1), { stdio: ["pipe", "ignore", "pipe"], env: toolEnvironment() });
    trySetNice(this.child.pid, SESSION_NICE);
    this.exited = new Promise((resolve) => this.child.once("close", () => resolve()));
    this.child.once("error", (err) => this.fail(err));
    // After stderr is drained: what the tool said last (nsenter: no such namespace) is the reason.
    this.child.once("close", (code) => {
      const stderr = this.errorText.join("\n") || `ip -batch in netns ${netns || "(host)"} exited`;
      this.fail(translateCommandFailure({ command: argv, stderr, exitCode: code ?? undefined, object: `netns ${netns || "(host)"}` }));
    });
    this.child.stdin!.on("error", (err) => this.fail(err));
    createInterface({ input: this.child.stderr! }).on("line", (line) => this.onLine(line));
    this.armIdle();
  }

  get alive(): boolean {
    return !this.dead;
  }

  private armIdle(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => {
      if (this.pending.size === 0) this.onIdle(this);
      else this.armIdle();
    }, this.idleMs);
    this.idleTimer.unref();
  }

  private onLine(line: string): void {
    const m = /^Command failed -:(\d+)$/.exec(line);
    if (!m) {
      this.errorText.push(line);
      return;
    }
    const n = Number(m[1]);
    const text = this.errorText.join("\n");
    this.errorText = [];
    if (n % 2 === 1) {
      const p = this.pending.get(n + 1);
      if (p) p.error = text;
      return;
    }
    const p = this.pending.get(n);
    if (!p) return;
    this.pending.delete(n);
    if (p.error === undefined) p.resolve();
    else p.reject(translateCommandFailure({ command: ["ip", "-batch", "-"], stderr: p.error, object: p.object, line: p.args.join(" ") }));
  }

  private fail(err: Error): void {
    if (this.dead) return;
    this.dead = true;
    if (this.idleTimer) clearTimeout(this.idleTimer);
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }

  run(args: readonly string[], object: string): Promise<void> {
    if (this.dead) return Promise.reject(new Error("session closed"));
    const text = `${batchLine(args)}\n${MARKER}\n`;
    this.lineNo += 2;
    const key = this.lineNo;
    this.armIdle();
    return new Promise<void>((resolve, reject) => {
      this.pending.set(key, { args, object, resolve, reject });
      this.child.stdin!.write(text);
    });
  }

  async close(): Promise<void> {
    this.fail(new Error("session closed"));
    this.child.stdin!.end();
    const timer = setTimeout(() => this.child.kill("SIGKILL"), 2000);
    await this.exited;
    clearTimeout(timer);
  }
}

export interface LinkStateSessionsOptions {
  /** Close a session after this long without requests (default 30 s). */
  idleMs?: number;
  /** Most sessions kept open; the least recently used one closes beyond it (default 64). */
  maxSessions?: number;
  /**
   * Set link state on netlink sockets of this process when possible (default true); false:
   * always through `ip` sessions.
   */
  netlink?: boolean;
}

/** Long-lived `ip -batch` processes, one per namespace, for single fast commands. */
export class LinkStateSessions {
  private readonly sessions = new Map<string, Session>();
  private readonly idleMs: number;
  private readonly maxSessions: number;
  private readonly netlink?: RouteNetlink;
  /** Why link state goes through `ip` sessions rather than netlink sockets, if it does. */
  readonly netlinkUnavailable?: string;

  constructor(options: LinkStateSessionsOptions = {}) {
    this.idleMs = options.idleMs ?? 30_000;
    this.maxSessions = options.maxSessions ?? 64;
    this.netlinkUnavailable = options.netlink === false ? "disabled" : routeNetlinkUnavailable();
    if (this.netlinkUnavailable === undefined) this.netlink = new RouteNetlink({ idleMs: this.idleMs });
  }

  /** Sets the admin state of `ifname` inside `netns`; resolves once the kernel has applied it. */
  setLinkState(netns: string, ifname: string, up: boolean): Promise<void> {
    if (this.netlink) return this.netlink.setLinkAdmin(netns, ifname, up);
    return this.run(netns, ["link", "set", "dev", ifname, up ? "up" : "down"], `netns ${netns || "(host)"} dev ${ifname}`);
  }

  /** Runs one `ip` batch line in the namespace's session (started on first use). */
  async run(netns: string, args: readonly string[], object: string): Promise<void> {
    validateNetnsName(netns);
    let s = this.sessions.get(netns);
    if (s && !s.alive) {
      this.sessions.delete(netns);
      s = undefined;
    }
    if (!s) {
      s = new Session(netns, this.idleMs, (idle) => void this.closeSession(idle));
      this.sessions.set(netns, s);
      this.evict();
    } else {
      // Most recently used last, for eviction.
      this.sessions.delete(netns);
      this.sessions.set(netns, s);
    }
    return s.run(args, object);
  }

  private evict(): void {
    while (this.sessions.size > this.maxSessions) {
      const oldest = this.sessions.values().next().value as Session;
      void this.closeSession(oldest);
    }
  }

  private async closeSession(s: Session): Promise<void> {
    if (this.sessions.get(s.netns) === s) this.sessions.delete(s.netns);
    await s.close();
  }

  /** Closes the sessions and sockets of these namespaces (before they are deleted). */
  async closeNamespaces(names: Iterable<string>): Promise<void> {
    const list = [...names];
    const closing: Promise<void>[] = [this.netlink?.closeNamespaces(list) ?? Promise.resolve()];
    for (const n of list) {
      const s = this.sessions.get(n);
      if (s) closing.push(this.closeSession(s));
    }
    await Promise.all(closing);
  }

  /** Namespaces with an open session or socket. */
  openNamespaces(): string[] {
    return [...new Set([...this.sessions.keys(), ...(this.netlink?.openNamespaces() ?? [])])];
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.sessions.values()].map((s) => this.closeSession(s)));
    await this.netlink?.closeAll();
  }
}
