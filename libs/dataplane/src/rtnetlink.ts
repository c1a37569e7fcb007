/**
 * rtnetlink from inside this process, for the one request that must be fast: a link's admin
 * state. The `ip -batch` session it replaces costs a pipe write, a wake-up of another process
 * and its answer on stderr: 0.5 ms at the median and ~4 ms at p99 on 2 busy cores. A request
 * on a netlink socket of our own is ~0.08 ms at the median and ~0.2 ms at p99.
 *
 * Node has no netlink sockets, so the few libc calls needed (`socket`, `setns`, `send`,
 * `recv`, `setsockopt`, `close`) go through a foreign-function interface (the `koffi`
 * package, whose prebuilt binary ships in npm). Without it, or without root,
 * `routeNetlinkUnavailable()` says why and callers use `ip`.
 *
 * - One socket per namespace, made by entering the namespace on this thread for the
 *   `socket()` call only (a netlink socket stays in the namespace it was made in) and
 *   returning at once. Close-on-exec, so no child process inherits it.
 * - A socket holds its namespace alive: callers close the sockets of namespaces they are
 *   about to delete (`closeNamespaces`). A namespace deleted and made again under the same
 *   name is noticed (its inode changes) and gets a fresh socket. Idle sockets close.
 * - The kernel applies the request inside `send`, under the RTNL lock, and queues its
 *   answer before `send` returns. So `send` is called right on the event loop: ~0.1 ms, no
 *   thread to wake (through libuv's thread pool the p99 of a flip in the agent was ~2 ms,
 *   on the event loop ~0.3 ms). But another process may hold the RTNL lock for a while (a
 *   namespace being deleted): a `send` that took longer than `slowSendMs` moves the next
 *   ones to the thread pool for `offLoopMs`, so a busy kernel does not stall the event loop
 *   more than once in a row.
 * - Requests on one socket are serialized; the answer is matched by sequence number and
 *   its error (with the kernel's extended message, when it gives one) becomes a typed error
 *   naming the namespace and the device.
 */
import { closeSync, fstatSync, openSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { getSystemErrorMap } from "node:util";
import { DataplaneError, KernelCommandError, KernelObjectNotFoundError, KernelPermissionError } from "./errors.ts";
import { HOST_NETNS, validateIfname, validateNetnsName } from "./names.ts";

const AF_NETLINK = 16;
const SOCK_RAW = 3;
const SOCK_CLOEXEC = 0o2000000;
const NETLINK_ROUTE = 0;
const CLONE_NEWNET = 0x40000000;
const SOL_SOCKET = 1;
const SO_RCVTIMEO = 20;
const SOL_NETLINK = 270;
const NETLINK_CAP_ACK = 10;
const NETLINK_EXT_ACK = 11;
const MSG_DONTWAIT = 0x40;
const EAGAIN = 11;
const EINTR = 4;

export const NLMSG_HDRLEN = 16;
const NLMSG_ERROR = 2;
const NLMSG_DONE = 3;
const NLM_F_ACK_TLVS = 0x200;
const NLMSGERR_ATTR_MSG = 1;
export const IFINFOMSG_LEN = 16;
const IFLA_IFNAME = 3;
const IFF_UP = 0x1;

/** How long a request waits for the kernel's answer before it is an error. */
const ANSWER_TIMEOUT_S = 5;
const SLOW_SEND_MS = 10;
const OFF_LOOP_MS = 1000;

export const align4 = (n: number) => (n + 3) & ~3;

export const NLM_F_REQUEST = 0x1;
export const NLM_F_ACK = 0x4;
export const NLM_F_DUMP = 0x300; // NLM_F_ROOT | NLM_F_MATCH
export const RTM_NEWLINK = 16;
export const RTM_GETLINK = 18;
const RTM_SETLINK = 19;
const IFLA_EXT_MASK = 29;

/** What a link request (RTM_*LINK) carries besides its header. */
export interface LinkRequest {
  type: number;
  flags: number;
  /** The device, by name (IFLA_IFNAME); the ifinfomsg index stays 0. */
  ifname?: string;
  /** ifinfomsg flags and the mask of those to change. */
  ifiFlags?: number;
  ifiChange?: number;
  /** IFLA_EXT_MASK (0: no VF details, and statistics are not skipped). */
  extMask?: number;
}

/** One rtnetlink link request: header, struct ifinfomsg (family AF_UNSPEC), attributes. */
export function encodeLinkRequest(r: LinkRequest, seq: number): Buffer {
  const name = r.ifname === undefined ? undefined : Buffer.from(`${r.ifname}\0`, "utf8");
  const nameLen = name ? 4 + name.length : 0;
  const len = NLMSG_HDRLEN + IFINFOMSG_LEN + align4(nameLen) + (r.extMask === undefined ? 0 : 8);
  const msg = Buffer.alloc(len);
  msg.writeUInt32LE(len, 0);
  msg.writeUInt16LE(r.type, 4);
  msg.writeUInt16LE(r.flags, 6);
  msg.writeUInt32LE(seq >>> 0, 8);
  // struct ifinfomsg { u8 family; u8 pad; u16 type; s32 index; u32 flags; u32 change }
  msg.writeUInt32LE((r.ifiFlags ?? 0) >>> 0, 24);
  msg.writeUInt32LE((r.ifiChange ?? 0) >>> 0, 28);
  let a = NLMSG_HDRLEN + IFINFOMSG_LEN;
  if (name) {
    msg.writeUInt16LE(nameLen, a);
    msg.writeUInt16LE(IFLA_IFNAME, a + 2);
    name.copy(msg, a + 4);
    a += align4(nameLen);
  }
  if (r.extMask !== undefined) {
    msg.writeUInt16LE(8, a);
    msg.writeUInt16LE(IFLA_EXT_MASK, a + 2);
    msg.writeUInt32LE(r.extMask >>> 0, a + 4);
  }
  return msg;
}

/** An RTM_SETLINK request that sets (or clears) IFF_UP on the device named `ifname`. */
export function encodeSetLinkAdmin(ifname: string, up: boolean, seq: number): Buffer {
  return encodeLinkRequest({ type: RTM_SETLINK, flags: NLM_F_REQUEST | NLM_F_ACK, ifname, ifiFlags: up ? IFF_UP : 0, ifiChange: IFF_UP }, seq);
}

/** What the kernel answered to request `seq`: `undefined` when these bytes hold no answer to it. */
export interface NetlinkAnswer {
  /** 0 on success, else the errno (positive). */
  errno: number;
  /** The kernel's extended message (NETLINK_EXT_ACK), when it gave one. */
  message?: string;
}

/** Finds the acknowledgement of request `seq` among the messages in `buf[0, length)`. */
export function parseAnswer(buf: Buffer, length: number, seq: number): NetlinkAnswer | undefined {
  let off = 0;
  while (off + NLMSG_HDRLEN <= length) {
    const len = buf.readUInt32LE(off);
    if (len < NLMSG_HDRLEN || off + len > length) break;
    const type = buf.readUInt16LE(off + 4);
    const flags = buf.readUInt16LE(off + 6);
    const msgSeq = buf.readUInt32LE(off + 8);
    if (type === NLMSG_ERROR && msgSeq === seq >>> 0 && len >= NLMSG_HDRLEN + 4 + NLMSG_HDRLEN) {
      const errno = -buf.readInt32LE(off + NLMSG_HDRLEN) | 0;
      const answer: NetlinkAnswer = { errno };
      if (flags & NLM_F_ACK_TLVS) {
        // With NETLINK_CAP_ACK the request comes back as its header only; TLVs follow it.
        let a = off + NLMSG_HDRLEN + 4 + NLMSG_HDRLEN;
        while (a + 4 <= off + len) {
          const alen = buf.readUInt16LE(a);
          const atype = buf.readUInt16LE(a + 2) & 0x3fff;
          if (alen < 4 || a + alen > off + len) break;
          if (atype === NLMSGERR_ATTR_MSG) answer.message = buf.toString("utf8", a + 4, a + alen).replace(/\0+$/, "");
          a += align4(alen);
        }
      }
      return answer;
    }
    off += align4(len);
  }
  return undefined;
}

// ---- libc through koffi ------------------------------------------------------------------------

/* eslint-disable @typescript-eslint/no-explicit-any -- koffi's function objects are untyped */
interface Libc {
  socket: (domain: number, type: number, protocol: number) => number;
  setns: (fd: number, nstype: number) => number;
  send: any;
  recv: any;
  setsockopt: (fd: number, level: number, name: number, value: Buffer, len: number) => number;
  close: (fd: number) => number;
  errno: () => number;
}
/* eslint-enable @typescript-eslint/no-explicit-any */

let libc: Libc | undefined;
let libcError: string | undefined;

function loadLibc(): Libc | undefined {
  if (libc || libcError) return libc;
  if (process.platform !== "linux") {
    libcError = `netlink sockets need Linux (this is ${process.platform})`;
    return undefined;
  }
  try {
    const koffi = createRequire(import.meta.url)("koffi") as {
      load: (path: string) => { func: (decl: string) => unknown };
      errno: () => number;
    };
    const lib = koffi.load("libc.so.6");
    libc = {
      socket: lib.func("int socket(int domain, int type, int protocol)") as Libc["socket"],
      setns: lib.func("int setns(int fd, int nstype)") as Libc["setns"],
      send: lib.func("long send(int fd, const void *buf, size_t len, int flags)"),
      recv: lib.func("long recv(int fd, void *buf, size_t len, int flags)"),
      setsockopt: lib.func("int setsockopt(int fd, int level, int name, const void *value, uint32_t len)") as Libc["setsockopt"],
      close: lib.func("int close(int fd)") as Libc["close"],
      errno: () => koffi.errno(),
    };
  } catch (err) {
    libcError = `the foreign-function interface (koffi) could not load libc: ${err instanceof Error ? err.message : String(err)}`;
  }
  return libc;
}

/**
 * Why netlink sockets cannot be used here (not Linux, koffi missing, not root), or
 * `undefined` when they can.
 */
export function routeNetlinkUnavailable(): string | undefined {
  if (!loadLibc()) return libcError;
  if (process.getuid?.() !== 0) return "entering network namespaces needs root";
  return undefined;
}

let errnoNames: Map<number, [string, string]> | undefined;
function describeErrno(errno: number): string {
  errnoNames ??= getSystemErrorMap() as Map<number, [string, string]>;
  const entry = errnoNames.get(-errno);
  return entry ? `${entry[1].toLowerCase()} (${entry[0]})` : `errno ${errno}`;
}

// ---- sockets per namespace ---------------------------------------------------------------------

interface NamespaceSocket {
  readonly netns: string;
  readonly fd: number;
  /** The namespace's inode when the socket was made (undefined: the host namespace). */
  readonly ino?: number;
  readonly answer: Buffer;
  seq: number;
  tail: Promise<void>;
  lastUsed: number;
  closed: boolean;
}

export interface RouteNetlinkOptions {
  /** Where named namespaces are mounted (default /run/netns). */
  netnsDir?: string;
  /** Close a namespace's socket after this long unused (default 30 s). */
  idleMs?: number;
  /** Most sockets kept open; the least recently used closes beyond it (default 256). */
  maxSockets?: number;
  /** A `send` on the event loop that took longer than this (default 10 ms)... */
  slowSendMs?: number;
  /** ...sends the next requests from libuv's thread pool for this long (default 1 s). */
  offLoopMs?: number;
  /**
   * Keep a namespace's socket for the next request (default true). False: each request
   * gets a fresh socket, closed when it is done (~0.05 ms more), so that nothing holds a
   * namespace that someone else may delete.
   */
  keepSockets?: boolean;
}

/** rtnetlink sockets of this process, one per namespace, for fast single requests. */
export class RouteNetlink {
  private readonly lib: Libc;
  private readonly netnsDir: string;
  private readonly idleMs: number;
  private readonly maxSockets: number;
  private readonly sockets = new Map<string, NamespaceSocket>();
  private hostFd: number | undefined;
  private sweeper?: NodeJS.Timeout;
  private broken: string | undefined;
  private readonly slowSendMs: number;
  private readonly offLoopMs: number;
  private readonly keepSockets: boolean;
  private offLoopUntil = 0;

  /** Throws with the reason when netlink sockets cannot be used (see `routeNetlinkUnavailable`). */
  constructor(options: RouteNetlinkOptions = {}) {
    const reason = routeNetlinkUnavailable();
    if (reason) throw new DataplaneError("FAILED_PRECONDITION", `rtnetlink unavailable: ${reason}`);
    this.lib = libc!;
    this.netnsDir = options.netnsDir ?? "/run/netns";
    this.idleMs = options.idleMs ?? 30_000;
    this.maxSockets = options.maxSockets ?? 256;
    this.slowSendMs = options.slowSendMs ?? SLOW_SEND_MS;
    this.offLoopMs = options.offLoopMs ?? OFF_LOOP_MS;
    this.keepSockets = options.keepSockets ?? true;
  }

  /** Sets the admin state of device `ifname` in `netns` (HOST_NETNS: this host's); resolves once applied. */
  setLinkAdmin(netns: string, ifname: string, up: boolean): Promise<void> {
    validateNetnsName(netns);
    validateIfname(ifname, "ifname");
    const object = `netns ${netns || "(host)"} dev ${ifname}`;
    const line = `link set dev ${ifname} ${up ? "up" : "down"}`;
    return this.enqueue(netns, (s) => this.transact(s, (seq) => encodeSetLinkAdmin(ifname, up, seq), object, line)).then(() => undefined);
  }

  /** Namespaces with an open socket. */
  openNamespaces(): string[] {
    return [...this.sockets.keys()];
  }

  /** Closes the sockets of these namespaces (before they are deleted: a socket keeps its namespace alive). */
  async closeNamespaces(names: Iterable<string>): Promise<void> {
    const closing: Promise<void>[] = [];
    for (const n of names) {
      const s = this.sockets.get(n);
      if (s) closing.push(this.closeSocket(s));
    }
    await Promise.all(closing);
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.sockets.values()].map((s) => this.closeSocket(s)));
    if (this.sweeper) clearInterval(this.sweeper);
    this.sweeper = undefined;
    if (this.hostFd !== undefined) closeSync(this.hostFd);
    this.hostFd = undefined;
  }

  private socketFor(netns: string): NamespaceSocket {
    if (this.broken) throw new DataplaneError("INTERNAL", this.broken);
    let ino: number | undefined;
    if (netns !== HOST_NETNS) {
      const st = statSync(`${this.netnsDir}/${netns}`, { throwIfNoEntry: false });
      if (!st) {
        const stale = this.sockets.get(netns);
        if (stale) void this.closeSocket(stale);
        throw new KernelObjectNotFoundError(`netns ${netns} does not exist`, { object: `netns ${netns}` });
      }
      ino = st.ino;
    }
    const cached = this.sockets.get(netns);
    if (cached && cached.ino === ino) {
      cached.lastUsed = performance.now();
      // Most recently used last, for eviction.
      this.sockets.delete(netns);
      this.sockets.set(netns, cached);
      return cached;
    }
    if (cached) void this.closeSocket(cached); // the namespace was deleted and made again
    const s = this.openSocket(netns);
    this.sockets.set(netns, s);
    this.evict();
    this.sweeper ??= setInterval(() => this.sweep(), Math.max(1000, this.idleMs / 2)).unref();
    return s;
  }

  private openSocket(netns: string): NamespaceSocket {
    const lib = this.lib;
    let fd: number;
    let ino: number | undefined;
    if (netns === HOST_NETNS) {
      fd = lib.socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
      if (fd < 0) throw this.systemError(lib.errno(), "socket", `netns (host)`);
    } else {
      this.hostFd ??= openSync("/proc/thread-self/ns/net", "r");
      let target: number;
      try {
        target = openSync(`${this.netnsDir}/${netns}`, "r");
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "ENOENT") throw new KernelObjectNotFoundError(`netns ${netns} does not exist`, { object: `netns ${netns}` });
        throw err;
      }
      try {
        ino = fstatSync(target).ino;
        if (lib.setns(target, CLONE_NEWNET) !== 0) throw this.systemError(lib.errno(), "setns", `netns ${netns}`);
        fd = lib.socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
        const socketErrno = fd < 0 ? lib.errno() : 0;
        if (lib.setns(this.hostFd, CLONE_NEWNET) !== 0) {
          // This thread would stay in the wrong namespace: refuse all further use.
          this.broken = `rtnetlink: could not return to this process's network namespace (${describeErrno(lib.errno())})`;
          throw new DataplaneError("INTERNAL", this.broken);
        }
        if (fd < 0) throw this.systemError(socketErrno, "socket", `netns ${netns}`);
      } finally {
        closeSync(target);
      }
    }
    const one = Buffer.alloc(4);
    one.writeInt32LE(1, 0);
    // Errors come back with the kernel's message and without a copy of the request.
    lib.setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, one, 4);
    lib.setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, one, 4);
    const timeout = Buffer.alloc(16); // struct timeval
    timeout.writeBigInt64LE(BigInt(ANSWER_TIMEOUT_S), 0);
    lib.setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, timeout, 16);
    return { netns, fd, ino, answer: Buffer.alloc(8192), seq: Math.floor(Math.random() * 0x7fffffff), tail: Promise.resolve(), lastUsed: performance.now(), closed: false };
  }

  /**
   * Sends the request `build(seq)` makes (with NLM_F_DUMP) and returns every message of the
   * answer, each whole (header included), up to NLMSG_DONE (or, for a request with
   * NLM_F_ACK, its acknowledgement). `what` names the request in errors, for example
   * `link show`. `offLoop`: send from libuv's thread pool, for requests whose kernel work
   * should not hold up the event loop (nobody waits for them).
   */
  dump(netns: string, build: (seq: number) => Buffer, what: string, options: { offLoop?: boolean } = {}): Promise<Buffer[]> {
    validateNetnsName(netns);
    const object = `netns ${netns || "(host)"}`;
    return this.enqueue(netns, (s) => this.transact(s, build, object, what, true, options.offLoop ?? false));
  }

  /**
   * Runs `work` on the namespace's socket after the requests already queued there; without
   * keepSockets the socket closes once they and `work` are done.
   */
  private enqueue<T>(netns: string, work: (s: NamespaceSocket) => Promise<T>): Promise<T> {
    let s: NamespaceSocket;
    try {
      s = this.socketFor(netns);
    } catch (err) {
      return Promise.reject(err);
    }
    const run = s.tail.then(() => work(s));
    s.tail = run.then(
      () => undefined,
      () => undefined,
    );
    if (!this.keepSockets) void this.closeSocket(s);
    return run;
  }

  private async transact(s: NamespaceSocket, build: (seq: number) => Buffer, object: string, line: string, dump = false, offLoop = false): Promise<Buffer[]> {
    if (s.closed) throw new DataplaneError("UNAVAILABLE", `rtnetlink socket of ${object} was closed`, { object, line });
    s.seq = (s.seq + 1) >>> 0;
    const seq = s.seq;
    const msg = build(seq);
    let sent: number;
    const started = performance.now();
    if (offLoop || started < this.offLoopUntil) {
      sent = await this.async<number>(this.lib.send, s.fd, msg, msg.length, 0);
    } else {
      sent = this.lib.send(s.fd, msg, msg.length, 0) as number;
      if (sent < 0) throw this.systemError(this.lib.errno(), "send", object, line);
      const now = performance.now();
      if (now - started > this.slowSendMs) this.offLoopUntil = now + this.offLoopMs;
    }
    if (sent !== msg.length) throw new KernelCommandError("INTERNAL", `rtnetlink request failed (${object}): ${line}: send returned ${sent}`, { object, line });
    // A dump comes in datagrams of up to 32 KiB; an acknowledgement fits the socket's buffer.
    const buf = dump ? Buffer.allocUnsafe(64 * 1024) : s.answer;
    const parts: Buffer[] = [];
    for (;;) {
      let n = this.lib.recv(s.fd, buf, buf.length, MSG_DONTWAIT) as number;
      if (n < 0) {
        const errno = this.lib.errno();
        if (errno === EINTR) continue;
        if (errno !== EAGAIN) throw this.systemError(errno, "recv", object, line);
        // Not queued yet: wait for it off the event loop (bounded by SO_RCVTIMEO).
        n = await this.async<number>(this.lib.recv, s.fd, buf, buf.length, 0);
        if (n < 0) throw new DataplaneError("UNAVAILABLE", `rtnetlink: no answer from the kernel within ${ANSWER_TIMEOUT_S} s (${object}): ${line}`, { object, line });
      }
      if (!dump) {
        const answer = parseAnswer(buf, n, seq);
        if (!answer) continue; // an answer to an earlier request that timed out
        if (answer.errno === 0) return parts;
        throw this.requestError(answer, object, line);
      }
      let off = 0;
      while (off + NLMSG_HDRLEN <= n) {
        const len = buf.readUInt32LE(off);
        if (len < NLMSG_HDRLEN || off + len > n) break;
        const type = buf.readUInt16LE(off + 4);
        if (buf.readUInt32LE(off + 8) === seq) {
          if (type === NLMSG_DONE) {
            const errno = len >= NLMSG_HDRLEN + 4 ? -buf.readInt32LE(off + NLMSG_HDRLEN) | 0 : 0;
            if (errno !== 0) throw this.requestError({ errno }, object, line);
            return parts;
          }
          if (type === NLMSG_ERROR) {
            const answer = parseAnswer(buf.subarray(off, off + len), len, seq);
            if (answer && answer.errno !== 0) throw this.requestError(answer, object, line);
            return parts;
          }
          parts.push(Buffer.from(buf.subarray(off, off + len)));
        }
        off += align4(len);
      }
    }
  }

  private requestError(answer: NetlinkAnswer, object: string, line: string): DataplaneError {
    const why = answer.message ? `${answer.message} (${describeErrno(answer.errno)})` : describeErrno(answer.errno);
    const message = `rtnetlink failed (${object}): ${line}: ${why}`;
    const ctx = { object, line, stderr: why };
    if (answer.errno === 19 /* ENODEV */) return new KernelObjectNotFoundError(message, ctx);
    if (answer.errno === 1 /* EPERM */ || answer.errno === 13 /* EACCES */) return new KernelPermissionError(message, ctx);
    if (answer.errno === 22 /* EINVAL */ || answer.errno === 34 /* ERANGE */) return new KernelCommandError("INVALID_ARGUMENT", message, ctx);
    return new KernelCommandError("INTERNAL", message, ctx);
  }

  private systemError(errno: number, call: string, object: string, line?: string): DataplaneError {
    const message = `rtnetlink ${call} failed (${object}): ${describeErrno(errno)}`;
    if (errno === 1 || errno === 13) return new KernelPermissionError(message, { object, line });
    return new KernelCommandError("INTERNAL", message, { object, line });
  }

  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- koffi function objects
  private async<T>(fn: any, ...args: unknown[]): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      fn.async(...args, (err: unknown, result: T) => (err ? reject(err instanceof Error ? err : new Error(String(err))) : resolve(result)));
    });
  }

  private evict(): void {
    while (this.sockets.size > this.maxSockets) {
      const oldest = this.sockets.values().next().value as NamespaceSocket;
      void this.closeSocket(oldest);
    }
  }

  private sweep(): void {
    const now = performance.now();
    for (const s of [...this.sockets.values()]) if (now - s.lastUsed > this.idleMs) void this.closeSocket(s);
    if (this.sockets.size === 0 && this.sweeper) {
      clearInterval(this.sweeper);
      this.sweeper = undefined;
    }
  }

  /** Closes after the requests already queued on it have finished. */
  private async closeSocket(s: NamespaceSocket): Promise<void> {
    if (this.sockets.get(s.netns) === s) this.sockets.delete(s.netns);
    if (s.closed) return;
    await s.tail;
    if (s.closed) return;
    s.closed = true;
    this.lib.close(s.fd);
  }
}
