/**
 * A command run in a node with its standard streams as pipes, for ExecStream: input is
 * written as it arrives, output is handed on chunk by chunk as the command writes it, and
 * the last chunk carries the exit code. The command is killed (SIGKILL) when the caller
 * goes away (the signal aborts) or at the timeout.
 */
import { spawn } from "node:child_process";
import { constants } from "node:os";
import type { ExecChunk, ExecSession } from "../backend.ts";

export interface NodeCommandLine {
  file: string;
  args: string[];
  cwd: string;
  env: Record<string, string>;
}

export function spawnExecSession(line: NodeCommandLine, timeoutMs: number | undefined, signal: AbortSignal): ExecSession {
  const child = spawn(line.file, line.args, { cwd: line.cwd, env: { ...process.env, ...line.env }, stdio: ["pipe", "pipe", "pipe"] });
  const queue: ExecChunk[] = [];
  let wake: (() => void) | undefined;
  let done = false;
  const push = (chunk: ExecChunk): void => {
    queue.push(chunk);
    wake?.();
  };
  const kill = (): void => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  };
  const timer = timeoutMs ? setTimeout(kill, timeoutMs) : undefined;
  signal.addEventListener("abort", kill, { once: true });
  child.stdout.on("data", (b: Buffer) => push({ stdout: new Uint8Array(b) }));
  child.stderr.on("data", (b: Buffer) => push({ stderr: new Uint8Array(b) }));
  child.stdin.on("error", () => undefined);
  child.on("error", (err) => push({ stderr: new TextEncoder().encode(`cannot run ${line.file}: ${err.message}\n`) }));
  child.on("close", (code, sig) => {
    if (timer) clearTimeout(timer);
    signal.removeEventListener("abort", kill);
    push({ exitCode: code ?? 128 + (sig ? (constants.signals[sig] ?? 1) : 1) });
    done = true;
  });

  async function* output(): AsyncGenerator<ExecChunk> {
    for (;;) {
      while (queue.length > 0) {
        const chunk = queue.shift()!;
        yield chunk;
        if (chunk.exitCode !== undefined) return;
      }
      if (done && queue.length === 0) return;
      await new Promise<void>((r) => (wake = r));
      wake = undefined;
    }
  }

  return {
    write: (data) => {
      if (!child.stdin.destroyed && !child.stdin.writableEnded) child.stdin.write(Buffer.from(data));
    },
    closeStdin: () => {
      if (!child.stdin.writableEnded) child.stdin.end();
    },
    output: output(),
  };
}
