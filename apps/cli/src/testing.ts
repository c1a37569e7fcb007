/** Test support: run `kne` in-process and keep what it printed. */
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { CliIo } from "./cli-io";
import { run } from "./run";

export const workspaceRoot = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
export const upstreamExamples = join(workspaceRoot, "..", "shared", "kne-compat", "upstream-examples");

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export async function runKne(argv: string[], cwd: string = workspaceRoot): Promise<CliResult> {
  let stdout = "";
  let stderr = "";
  const io: CliIo = {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    cwd,
  };
  const code = await run(argv, io);
  return { code, stdout, stderr };
}
