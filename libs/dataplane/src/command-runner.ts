/**
 * Running external tools: `spawn` with an argument array (never a shell), optional stdin,
 * a timeout, and a bounded number of processes at a time. Non-zero exits are returned, not
 * thrown: callers decide, through `translateCommandFailure`, what a failure means.
 */
import { spawn, type SpawnOptions } from "node:child_process";
import { setPriority } from "node:os";
import { DataplaneError, ToolMissingError } from "./errors.ts";

export interface CommandResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

export interface RunOptions {
  /** Written to the process's stdin, which is then closed. */
  input?: string;
  /** Kill the process after this long (default 60 s). */
  timeoutMs?: number;
}

/** Runs one process to completion. Injected so that tests and callers can observe or fake it. */
export interface CommandRunner {
  run(file: string, args: readonly string[], options?: RunOptions): Promise<CommandResult>;
}

const SBIN_DIRS = ["/usr/sbin", "/sbin", "/usr/bin", "/bin"];

/**
 * Environment of the tools: C locale (we parse their messages) and a PATH with the sbin
 * directories, which tools started by `env`/`nsenter`/`xargs` need to find `ip` and `tc`.
 */
export function toolEnvironment(): NodeJS.ProcessEnv {
  // Copying process.env reads every variable through the C++ environment (~1 ms each time
  // here, once per process spawned): built once, again only when PATH changes.
  const current = process.env["PATH"] ?? "";
  if (cachedEnvironment?.fromPath !== current) {
    const path = current.split(":").filter((p) => p !== "");
    for (const dir of SBIN_DIRS) if (!path.includes(dir)) path.push(dir);
    cachedEnvironment = { fromPath: current, env: { ...process.env, PATH: path.join(":"), LC_ALL: "C" } };
  }
  return cachedEnvironment.env;
}

let cachedEnvironment: { fromPath: string; env: NodeJS.ProcessEnv } | undefined;

/**
 * Gives a process we started another nice value, if we may (root may raise it); a process
 * that keeps its priority works the same, only with more jitter on a busy host.
 */
export function trySetNice(pid: number | undefined, nice: number): void {
  if (pid === undefined) return;
  try {
    setPriority(pid, nice);
  } catch {
    // Not permitted (not root).
  }
}

function spawnOnce(file: string, args: readonly string[], options: RunOptions): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const spawnOptions: SpawnOptions = { stdio: ["pipe", "pipe", "pipe"], env: toolEnvironment() };
    const child = spawn(file, [...args], spawnOptions);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, options.timeoutMs ?? 60_000);
    child.stdout!.on("data", (b: Buffer) => out.push(b));
    child.stderr!.on("data", (b: Buffer) => err.push(b));
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      const stdout = Buffer.concat(out).toString("utf8");
      const stderr = Buffer.concat(err).toString("utf8");
      if (timedOut) {
        reject(
          new DataplaneError("DEADLINE_EXCEEDED", `${file} did not finish within ${options.timeoutMs ?? 60_000} ms`, {
            command: [file, ...args],
            stderr,
          }),
        );
        return;
      }
      resolve({ stdout, stderr, exitCode: code ?? (signal ? 128 : 1) });
    });
    // A tool that exits before reading all of stdin makes the pipe fail with EPIPE; the exit
    // code and stderr already say what happened.
    child.stdin!.on("error", () => undefined);
    child.stdin!.end(options.input ?? "");
  });
}

/** The default runner: real processes. Looks in the sbin directories when PATH lacks them. */
export const processRunner: CommandRunner = {
  async run(file, args, options = {}) {
    try {
      return await spawnOnce(file, args, options);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT" || file.includes("/")) throw e;
    }
    for (const dir of SBIN_DIRS) {
      try {
        return await spawnOnce(`${dir}/${file}`, args, options);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
      }
    }
    throw new ToolMissingError(file);
  },
};

/** Runs `fn` over `items` with at most `limit` in flight; results keep the input order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return results;
}

/** How many kernel tools run at once by default: enough to hide exec latency on small hosts. */
export const DEFAULT_CONCURRENCY = 8;
