/**
 * @kne/rpc/testing — helpers for the specs of server processes (the apps). Not part of the
 * runtime surface: nothing here is imported by production code.
 */
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";

export interface ServerProcess {
  /** The URL from the process's "server started" log line. */
  url: string;
  /** Every JSON log line so far. */
  lines: Record<string, unknown>[];
  /** Sends a signal and resolves with the exit code once the process is gone. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/**
 * Runs a server's bin script (`node bin/<app>.mjs --port 0 ...`) and waits for its
 * "server started" line. Fails if the process exits or stays silent for `timeoutMs`.
 * `env` adds to (or overrides) this process's environment.
 */
export function startServerProcess(bin: string, args: readonly string[] = [], timeoutMs = 20_000, env?: Readonly<Record<string, string>>): Promise<ServerProcess> {
  const child = spawn(process.execPath, [bin, "--port", "0", ...args], { stdio: ["ignore", "pipe", "pipe"], ...(env ? { env: { ...process.env, ...env } } : {}) });
  const lines: Record<string, unknown>[] = [];
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const stop = async (signal: NodeJS.Signals = "SIGTERM"): Promise<number | null> => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    return exited;
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      void stop("SIGKILL");
      reject(new Error(`${bin} did not log "server started" within ${timeoutMs} ms; stderr: ${stderr}`));
    }, timeoutMs);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${bin} exited with ${code} before it started; stderr: ${stderr}`));
    });
    createInterface({ input: child.stdout }).on("line", (text) => {
      let line: Record<string, unknown>;
      try {
        line = JSON.parse(text) as Record<string, unknown>;
      } catch {
        line = { msg: text };
      }
      lines.push(line);
      if (line["msg"] === "server started" && typeof line["url"] === "string") {
        clearTimeout(timer);
        resolve({ url: line["url"], lines, stop });
      }
    });
  });
}

/** Runs a bin script to completion (e.g. with --help) and returns its exit code and output. */
export function runProcess(bin: string, args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (c: string) => (stdout += c));
    child.stderr.setEncoding("utf8").on("data", (c: string) => (stderr += c));
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, stdout, stderr }));
  });
}
