import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { KernelOperation } from "./batch.ts";
import type { CommandRunner } from "./command-runner.ts";
import { KernelObjectNotFoundError } from "./errors.ts";
import { applyOperations } from "./executor.ts";
import { splitMultiplexedStderr } from "./process-multiplexer.ts";

describe("splitMultiplexedStderr", () => {
  it("gives each command the lines after its echoed command line", () => {
    const stderr = [
      "env nsenter '--net=/run/netns/a' -- ip -force -batch /tmp/d/b0",
      "env nsenter '--net=/run/netns/b' -- ip -force -batch /tmp/d/b1",
      'Cannot find device "nope"',
      "Command failed /tmp/d/b1:1",
      "env ip -force -batch /tmp/d/b2",
    ].join("\n");
    expect(splitMultiplexedStderr(stderr, 4)).toEqual([
      { ran: true, stderr: "" },
      { ran: true, stderr: 'Cannot find device "nope"\nCommand failed /tmp/d/b1:1' },
      { ran: true, stderr: "" },
      { ran: false, stderr: "" },
    ]);
  });
});

/** Plays `xargs -a LIST -L 1 -t env` over batch files, failing lines that name "bad" and stopping at "fatal". */
function fakeXargs(): { runner: CommandRunner; direct: string[][] } {
  const direct: string[][] = [];
  const runner: CommandRunner = {
    async run(file, args, options) {
      if (file !== "xargs") {
        direct.push([file, ...args]);
        return { stdout: "", stderr: options?.input?.includes("bad") ? 'Cannot find device "bad"\nCommand failed -:1\n' : "", exitCode: options?.input?.includes("bad") ? 1 : 0 };
      }
      const lines = readFileSync(args[1]!, "utf8").trim().split("\n");
      let stderr = "";
      for (const line of lines) {
        stderr += `env ${line}\n`;
        const batchFile = line.split(" ").at(-1)!;
        const content = readFileSync(batchFile, "utf8");
        if (content.includes("fatal")) {
          stderr += 'Error: argument "fatal" is wrong\n';
          break;
        }
        content.split("\n").forEach((l, i) => {
          if (l.includes("bad")) stderr += `Cannot find device "bad"\nCommand failed ${batchFile}:${i + 1}\n`;
        });
      }
      return { stdout: "", stderr, exitCode: 123 };
    },
  };
  return { runner, direct };
}

describe("applyOperations through the multiplexer", () => {
  const ops = (lines: string[][]): KernelOperation[] =>
    lines.flatMap((l, n) => l.map((text) => ({ phase: "setup" as const, tool: "ip" as const, netns: `kne.t.n${n}`, args: text.split(" "), object: `n${n}` })));

  it("attributes failures to the right namespace and line", async () => {
    const { runner, direct } = fakeXargs();
    const report = await applyOperations(
      ops([["link set dev lo up"], ["link set dev lo up", "link set dev bad up"], ["link set dev lo up"], ["link set dev lo up"]]),
      { runner, multiplexFrom: 2 },
    );
    expect(direct).toEqual([]);
    expect(report.processes).toBe(1);
    expect(report.failures).toHaveLength(1);
    expect(report.failures[0]!.operation.object).toBe("n1");
    expect(report.failures[0]!.error).toBeInstanceOf(KernelObjectNotFoundError);
    expect(report.failures[0]!.error.line).toBe("link set dev bad up");
  });

  it("runs directly what xargs did not reach after a fatal error", async () => {
    const { runner, direct } = fakeXargs();
    const report = await applyOperations(ops([["link set dev lo up"], ["fatal"], ["link set dev lo up"], ["link set dev bad up"]]), { runner, multiplexFrom: 2 });
    expect(direct.map((d) => d[1])).toEqual(["--net=/run/netns/kne.t.n2", "--net=/run/netns/kne.t.n3"]);
    expect(report.failures.map((f) => f.operation.object)).toEqual(["n1", "n3"]);
    expect(report.failures[0]!.error.code).toBe("INVALID_ARGUMENT");
  });
});
