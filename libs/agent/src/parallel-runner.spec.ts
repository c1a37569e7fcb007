import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { CommandRunner } from "@kne/dataplane";
import { splitMultiplexedStderr } from "@kne/dataplane";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createParallelRunner } from "./parallel-runner.ts";

/** Plays xargs -t: echoes each command line to stderr, then what the "command" says; stops after "die". */
function fakeXargs(calls: string[][]): CommandRunner {
  return {
    async run(file, args) {
      calls.push([file, ...args]);
      const lines = (await readFile(args[1]!, "utf8")).split("\n").filter((l) => l !== "");
      let stdout = "";
      let stderr = "";
      for (const line of lines) {
        stderr += `env ${line}\n`;
        stdout += `out:${line}\n`;
        if (line.includes("fail")) stderr += `error of ${line}\n`;
        if (line.includes("die")) return { stdout, stderr, exitCode: 124 };
      }
      return { stdout, stderr, exitCode: 0 };
    },
  };
}

describe("createParallelRunner", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "kne-agent-runner-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("splits a multiplexed list over processes and joins the output in list order", async () => {
    const lines = Array.from({ length: 10 }, (_, i) => (i === 3 ? "c3 fail" : i === 6 ? "c6 die" : `c${i}`));
    const list = join(dir, "commands");
    await writeFile(list, lines.join("\n") + "\n");
    const calls: string[][] = [];
    const r = await createParallelRunner(3, fakeXargs(calls)).run("xargs", ["-a", list, "-L", "1", "-t", "env"]);
    // Three chunks (4, 4, 2 lines); the second stopped after "c6 die" and ran its rest again.
    expect(calls).toHaveLength(4);
    expect(r.stdout).toBe(lines.map((l) => `out:${l}\n`).join(""));
    const outcomes = splitMultiplexedStderr(r.stderr, lines.length);
    expect(outcomes.every((o) => o.ran)).toBe(true);
    expect(outcomes[3]!.stderr).toBe("error of c3 fail");
    expect(outcomes.filter((o) => o.stderr !== "")).toHaveLength(1);
    expect(r.exitCode).toBe(124);
  });

  it("passes other commands and short lists through", async () => {
    const calls: string[][] = [];
    const base: CommandRunner = {
      async run(file, args) {
        calls.push([file, ...args]);
        return { stdout: "", stderr: "", exitCode: 0 };
      },
    };
    const runner = createParallelRunner(4, base);
    await runner.run("ip", ["-batch", "-"]);
    const list = join(dir, "short");
    await writeFile(list, "a\nb\n");
    await runner.run("xargs", ["-a", list, "-L", "1", "-t", "env"]);
    expect(calls).toEqual([["ip", "-batch", "-"], ["xargs", "-a", list, "-L", "1", "-t", "env"]]);
  });
});
