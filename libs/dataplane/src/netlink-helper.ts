/**
 * In-namespace `ip` lines for many namespaces from ONE process, without exec per namespace.
 *
 * Why: a veth's far end can only be set up (alias, up) from inside its namespace, so the
 * setup phase needs one process per namespace: `nsenter … ip -batch` through xargs costs
 * 3-9 ms each here (fork + three execs), `ip -n NS -batch` 21 ms (it copies the whole mount
 * table, which grows with the namespaces). This helper is a short Python program (Python 3
 * and its standard library only): for each namespace it `setns()`es into it, opens a
 * rtnetlink socket there and sends the requests itself. 500 namespaces × 4 lines took
 * 0.69 s against 4.5 s through nsenter (sequential) on the same loaded 2-core machine.
 *
 * It speaks a small subset of `ip` (what setup phases emit): `link set dev IF` with `alias`,
 * `mtu`, `address`, `master`, `up`, `down`, and `addr replace CIDR dev IF`. A batch with any
 * other line runs through `ip` as before. Errors come back in `ip -batch`'s words
 * (`Cannot find device "X"`, `RTNETLINK answers: …`, then `Command failed -:N`), so the
 * executor's per-line attribution and error translation apply unchanged. Output per batch
 * starts with a line `@@ INDEX`; `@@ end` closes the run: batches the helper did not finish
 * (Python missing, a crash) are run through `ip` again, which is safe because every
 * supported line is idempotent. The executor starts the helper when a pass begins, so that
 * Python's start overlaps the phases before the one that needs it.
 */
import { spawn } from "node:child_process";
import { statSync } from "node:fs";
import type { Batch, KernelOperation } from "./batch.ts";
import { toolEnvironment } from "./command-runner.ts";
import { HOST_NETNS, isSafeBatchToken } from "./names.ts";

/** Batches per phase from which the helper pays off (Python starts in ~30 ms; nsenter+ip ~5 ms). */
export const NETLINK_HELPER_FROM = 6;

/** The command named in error messages of lines the helper ran. */
export const NETLINK_HELPER_COMMAND: readonly string[] = ["netlink", "(in-namespace helper)"];

const LINK_SETTINGS_WITH_VALUE = new Set(["alias", "mtu", "address", "master"]);

/** Whether the helper can run this operation (an `ip` line of the supported subset in a named namespace). */
export function helperSupports(op: KernelOperation): boolean {
  if (op.tool !== "ip" || op.netns === HOST_NETNS || !op.args.every(isSafeBatchToken)) return false;
  const a = op.args;
  if (a.length === 5 && a[0] === "addr" && a[1] === "replace" && a[3] === "dev") return /^[0-9a-fA-F:.]+\/\d{1,3}$/.test(a[2]!);
  if (a.length < 5 || a[0] !== "link" || a[1] !== "set" || a[2] !== "dev") return false;
  for (let i = 4; i < a.length; ) {
    const key = a[i]!;
    if (key === "up" || key === "down") i += 1;
    else if (LINK_SETTINGS_WITH_VALUE.has(key) && i + 1 < a.length) {
      if (key === "mtu" && !/^\d{1,6}$/.test(a[i + 1]!)) return false;
      if (key === "address" && !/^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/.test(a[i + 1]!)) return false;
      i += 2;
    } else return false;
  }
  return true;
}

export function helperSupportsBatch(batch: Batch): boolean {
  return batch.operations.every(helperSupports);
}

/** The helper's input: `ns NAME` then that namespace's lines, per batch. */
export function helperSpec(batches: readonly Batch[]): string {
  const out: string[] = [];
  for (const b of batches) {
    out.push(`ns ${b.netns}`);
    for (const op of b.operations) out.push(op.args.join(" "));
  }
  return out.join("\n") + "\n";
}

export interface HelperChunk {
  /** The helper finished this batch; `stderr` is what it reported (empty: every line applied). */
  done: boolean;
  stderr: string;
}

/** Splits the helper's stderr into one chunk per batch; a batch after the last `@@` of an unfinished run is not done. */
export function splitHelperOutput(stderr: string, count: number): HelperChunk[] {
  const chunks: HelperChunk[] = Array.from({ length: count }, () => ({ done: false, stderr: "" }));
  const text: string[][] = Array.from({ length: count }, () => []);
  let current = -1;
  let ended = false;
  for (const line of stderr.split("\n")) {
    const m = /^@@ (\d+|end)$/.exec(line);
    if (m) {
      if (m[1] === "end") {
        ended = true;
        break;
      }
      current = Number(m[1]);
      if (current >= 0 && current < count) chunks[current]!.done = true;
      continue;
    }
    if (current >= 0 && current < count && line !== "") text[current]!.push(line);
  }
  // Without the end marker the batch that was running when the helper stopped is unfinished.
  if (!ended && current >= 0 && current < count) chunks[current]!.done = false;
  chunks.forEach((c, i) => (c.stderr = text[i]!.join("\n")));
  return chunks;
}

/** A helper process started ahead of its phase: Python's start (0.1-0.2 s here) overlaps the phases before. */
export interface StartedHelper {
  /** Sends the batches (all `helperSupportsBatch`) and waits for the report. Call once. */
  run(batches: readonly Batch[]): Promise<HelperChunk[]>;
  /** Ends a helper that will not be used. */
  cancel(): void;
}

/**
 * The interpreter of the helper: the system's python3 (the distribution's package, in /usr/bin
 * on Debian) before whatever PATH finds. A version manager's shim first on PATH (pyenv's is
 * a chain of bash scripts) took 0.1 s on an idle machine and 0.8 s during a 100-node create
 * on a loaded one, on the critical path; the helper needs only the standard library (-I -S).
 */
export function helperPython(candidates: readonly string[] = ["/usr/bin/python3", "/bin/python3"]): string {
  for (const file of candidates) {
    // A file with an execute bit (root passes access(X_OK) for any file, so the bits are read).
    const st = statSync(file, { throwIfNoEntry: false });
    if (st?.isFile() && (st.mode & 0o111) !== 0) return file;
  }
  return "python3";
}

let cachedPython: string | undefined;

/** Starts a helper that waits for its input on stdin. */
export function startNetlinkHelper(): StartedHelper {
  cachedPython ??= helperPython();
  const child = spawn(cachedPython, ["-I", "-S", "-c", NETLINK_HELPER_SCRIPT], { stdio: ["pipe", "ignore", "pipe"], env: toolEnvironment() });
  const stderr: Buffer[] = [];
  let failed = false;
  child.stderr.on("data", (b: Buffer) => stderr.push(b));
  child.stdin.on("error", () => undefined);
  const closed = new Promise<void>((resolve) => {
    child.once("error", () => {
      // No python3 (or it could not start): nothing runs, the executor uses ip.
      failed = true;
      resolve();
    });
    child.once("close", () => resolve());
  });
  return {
    async run(batches) {
      child.stdin.end(helperSpec(batches));
      await closed;
      if (failed) return batches.map(() => ({ done: false, stderr: "" }));
      return splitHelperOutput(Buffer.concat(stderr).toString("utf8"), batches.length);
    },
    cancel() {
      child.stdin.end();
      child.kill("SIGKILL");
    },
  };
}

/**
 * The helper. Kept in one string so that it ships with the module (no file to locate at run
 * time). Python's own exceptions inside a line become that line's error; anything else ends
 * the run before `@@ end`, and the executor runs the unfinished batches through `ip`.
 */
export const NETLINK_HELPER_SCRIPT = String.raw`
import ctypes, os, socket, struct, sys
CLONE_NEWNET = 0x40000000
RTM_NEWLINK, RTM_NEWADDR, NLMSG_ERROR = 16, 20, 2
F_REQUEST, F_ACK, F_REPLACE, F_CREATE = 1, 4, 0x100, 0x400
IFF_UP = 1
IFLA_ADDRESS, IFLA_MTU, IFLA_MASTER, IFLA_IFALIAS = 1, 4, 10, 20
IFA_ADDRESS, IFA_LOCAL = 1, 2
libc = ctypes.CDLL(None, use_errno=True)
err = sys.stderr

class NoDevice(Exception):
    pass

def attr(kind, data):
    n = 4 + len(data)
    return struct.pack("HH", n, kind) + data + b"\0" * ((4 - n % 4) % 4)

def index(name):
    try:
        return socket.if_nametoindex(name)
    except OSError:
        raise NoDevice(name)

def link_set(t):
    dev = t[3]
    flags = change = 0
    attrs = b""
    i = 4
    while i < len(t):
        k = t[i]
        if k == "up":
            flags |= IFF_UP; change |= IFF_UP; i += 1; continue
        if k == "down":
            change |= IFF_UP; i += 1; continue
        v = t[i + 1]
        if k == "alias": attrs += attr(IFLA_IFALIAS, v.encode())
        elif k == "mtu": attrs += attr(IFLA_MTU, struct.pack("I", int(v)))
        elif k == "master": attrs += attr(IFLA_MASTER, struct.pack("I", index(v)))
        elif k == "address": attrs += attr(IFLA_ADDRESS, bytes(int(x, 16) for x in v.split(":")))
        i += 2
    return RTM_NEWLINK, F_REQUEST | F_ACK, struct.pack("BxHiII", 0, 0, index(dev), flags, change) + attrs

def addr_replace(t):
    address, prefix = t[2].split("/")
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    raw = socket.inet_pton(family, address)
    scope = 254 if family == socket.AF_INET and raw[0] == 127 else 0
    body = struct.pack("BBBBI", family, int(prefix), 0, scope, index(t[4])) + attr(IFA_LOCAL, raw) + attr(IFA_ADDRESS, raw)
    return RTM_NEWADDR, F_REQUEST | F_ACK | F_CREATE | F_REPLACE, body

def request(sock, seq, kind, flags, body):
    sock.send(struct.pack("IHHII", 16 + len(body), kind, flags, seq, 0) + body)
    while True:
        data = sock.recv(65536)
        off = 0
        while off + 16 <= len(data):
            length, mtype, _, mseq, _ = struct.unpack_from("IHHII", data, off)
            if mtype == NLMSG_ERROR and mseq == seq:
                return -struct.unpack_from("i", data, off + 16)[0]
            off += (length + 3) & ~3

def run(netns, lines):
    fd = os.open("/run/netns/" + netns, os.O_RDONLY)
    try:
        if libc.setns(fd, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), "setns")
    finally:
        os.close(fd)
    sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0)
    try:
        for n, line in enumerate(lines, 1):
            t = line.split()
            try:
                kind, flags, body = link_set(t) if t[0] == "link" else addr_replace(t)
                code = request(sock, n, kind, flags, body)
                if code:
                    err.write("RTNETLINK answers: %s\nCommand failed -:%d\n" % (os.strerror(code), n))
            except NoDevice as e:
                err.write('Cannot find device "%s"\nCommand failed -:%d\n' % (e.args[0], n))
            except (ValueError, OSError) as e:
                err.write("Error: %s\nCommand failed -:%d\n" % (e, n))
    finally:
        sock.close()

def main():
    batches = []
    for line in sys.stdin.read().split("\n"):
        if line.startswith("ns "):
            batches.append((line[3:], []))
        elif line:
            batches[-1][1].append(line)
    for i, (netns, lines) in enumerate(batches):
        err.write("@@ %d\n" % i)
        try:
            run(netns, lines)
        except OSError as e:
            # The namespace itself is missing or cannot be entered: every line failed.
            text = "Cannot open network namespace \"%s\": %s" % (netns, e.strerror or e)
            for n in range(1, len(lines) + 1):
                err.write("%s\nCommand failed -:%d\n" % (text, n))
        err.flush()
    err.write("@@ end\n")

main()
`;
