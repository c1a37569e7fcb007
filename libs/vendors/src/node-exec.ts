/**
 * Running commands inside a node: `nsenterExec` is a ready-made `NodeExec` for the local
 * backend and for tests (argument arrays, no shell); `execChecked` turns a non-zero exit
 * into a `NodeCommandError` carrying the command's output; `withNodeLock` serialises the
 * operations of one node (ready, push, reset) within this process.
 */
import { execFile } from "node:child_process";
import { type VendorErrorCode, NodeCommandError, summarizeOutput } from "./errors";
import type { ExecOptions, ExecResult, LocalNodeContext, NodeExec } from "./local-runtime";

const DEFAULT_TIMEOUT_MS = 60_000;

/** Where `ip netns add` keeps namespaces (`/run` is `/var/run` on every current distribution). */
export const NETNS_RUN_DIR = "/var/run/netns";

/** A `NodeExec` that runs `nsenter --net=/var/run/netns/<netns> -- argv...`. */
export function nsenterExec(netns: string): NodeExec {
  if (!/^[A-Za-z0-9_.-]+$/.test(netns) || netns === "." || netns === "..") {
    throw new TypeError(`invalid network namespace name "${netns}"`);
  }
  return (argv, options) => execHost(["nsenter", `--net=${NETNS_RUN_DIR}/${netns}`, "--", ...argv], options);
}

/** Runs a command in the current namespaces; resolves with its exit code, never rejects for a non-zero exit. */
export function execHost(argv: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
  const [file, ...args] = argv;
  if (file === undefined) return Promise.reject(new TypeError("execHost: empty argv"));
  return new Promise((resolve, reject) => {
    execFile(
      file,
      args,
      {
        timeout: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
        killSignal: "SIGKILL",
        maxBuffer: 64 * 1024 * 1024,
        env: options.env ? { ...process.env, ...options.env } : process.env,
        encoding: "utf8",
      },
      (error, stdout, stderr) => {
        if (!error) return resolve({ code: 0, stdout, stderr });
        const e = error as NodeJS.ErrnoException & { code?: number | string; killed?: boolean; signal?: string };
        if (typeof e.code === "number") return resolve({ code: e.code, stdout, stderr });
        if (e.killed || e.signal) {
          return resolve({ code: 128 + 9, stdout, stderr: `${stderr}${stderr ? "\n" : ""}killed (${e.signal ?? "timeout"})` });
        }
        reject(error); // spawn failures: ENOENT for a missing binary and the like
      },
    );
  });
}

/** Runs `argv` in the node; throws `NodeCommandError` (with the output) unless it exits 0. */
export async function execChecked(
  ctx: Pick<LocalNodeContext, "exec" | "node">,
  argv: readonly string[],
  doing: string,
  options: ExecOptions & { code?: VendorErrorCode } = {},
): Promise<ExecResult> {
  const result = await ctx.exec(argv, options);
  if (result.code !== 0) {
    throw new NodeCommandError(
      ctx.node.name,
      argv,
      result.code,
      summarizeOutput(`${result.stdout}\n${result.stderr}`),
      doing,
      options.code ?? "INTERNAL",
    );
  }
  return result;
}

const locks = new Map<string, Promise<unknown>>();

/** Runs `fn` after every earlier call with the same key has settled. */
export function withNodeLock<T>(key: string, fn: () => Promise<T>): Promise<T> {
  const previous = locks.get(key) ?? Promise.resolve();
  const run = previous.then(fn, fn);
  const tail = run.catch(() => undefined);
  locks.set(key, tail);
  void tail.then(() => {
    if (locks.get(key) === tail) locks.delete(key);
  });
  return run;
}

/** Polls `probe` until it returns a value (not undefined) or the deadline passes. */
export async function pollUntil<T>(probe: () => Promise<T | undefined>, timeoutMs: number, intervalMs = 100): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() >= deadline) return undefined;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** Boot config bytes as text (configs of these daemons are UTF-8 text). */
export function configText(config: Uint8Array | undefined): string {
  return config ? Buffer.from(config).toString("utf8") : "";
}
