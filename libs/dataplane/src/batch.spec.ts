import { describe, expect, it } from "vitest";
import { type KernelOperation, batchCommand, batchLine, batchText, groupIntoBatches, nftScriptText, parseBatchFailures } from "./batch.ts";
import type { CommandRunner } from "./command-runner.ts";
import { InvalidArgumentError, KernelObjectExistsError } from "./errors.ts";
import { applyOperations, applyOperationsOrThrow } from "./executor.ts";

const op = (o: Partial<KernelOperation> & Pick<KernelOperation, "args">): KernelOperation => ({
  phase: "setup",
  tool: "ip",
  netns: "kne.t.r1",
  object: "x",
  ...o,
});

describe("batch text", () => {
  it("joins safe tokens and refuses unsafe ones", () => {
    expect(batchLine(["link", "set", "dev", "eth1", "alias", "kne:t:1", "up"])).toBe("link set dev eth1 alias kne:t:1 up");
    for (const bad of ["a b", 'a"', "a#", "", "a\\b", "x\ny"]) {
      expect(() => batchLine(["link", bad]), JSON.stringify(bad)).toThrow(InvalidArgumentError);
    }
  });

  it("groups by phase, then by tool and namespace, keeping order inside a batch", () => {
    const ops = [
      op({ phase: "setup", args: ["link", "set", "dev", "eth1", "up"] }),
      op({ phase: "create", netns: "", args: ["link", "add", "name", "eth1"] }),
      op({ phase: "setup", netns: "kne.t.r2", args: ["link", "set", "dev", "eth2", "up"] }),
      op({ phase: "setup", args: ["link", "set", "dev", "eth3", "up"] }),
      op({ phase: "setup", tool: "tc", args: ["qdisc", "del", "dev", "eth1", "root"] }),
      op({ phase: "netns-add", netns: "", args: ["netns", "add", "kne.t.r1"] }),
    ];
    const phases = groupIntoBatches(ops);
    expect(phases.map((p) => p[0]!.phase)).toEqual(["netns-add", "create", "setup"]);
    const setup = phases[2]!;
    expect(setup.map((b) => `${b.tool}@${b.netns}`)).toEqual(["ip@kne.t.r1", "ip@kne.t.r2", "tc@kne.t.r1"]);
    expect(batchText(setup[0]!)).toBe("link set dev eth1 up\nlink set dev eth3 up\n");
  });

  it("builds the command line of each tool", () => {
    const b = (tool: KernelOperation["tool"], netns: string) => ({ phase: "setup" as const, tool, netns, operations: [op({ tool, netns, args: ["a=1"] })] });
    expect(batchCommand(b("ip", ""))).toEqual(["ip", "-force", "-batch", "-"]);
    expect(batchCommand(b("ip", "kne.t.r1"))).toEqual(["nsenter", "--net=/run/netns/kne.t.r1", "--", "ip", "-force", "-batch", "-"]);
    expect(batchCommand(b("tc", "kne.t.r1"), "/tmp/x/b1")).toEqual(["nsenter", "--net=/run/netns/kne.t.r1", "--", "tc", "-force", "-batch", "/tmp/x/b1"]);
    expect(batchCommand(b("nft", "kne.t.r1"))).toEqual(["nsenter", "--net=/run/netns/kne.t.r1", "--", "nft", "-f", "-"]);
    expect(batchCommand(b("sysctl", "kne.t.r1"))).toEqual(["nsenter", "--net=/run/netns/kne.t.r1", "--", "sysctl", "-q", "-w", "a=1"]);
    expect(nftScriptText([op({ tool: "nft", args: ["add table netdev x", "delete table netdev x"] })])).toBe("add table netdev x\ndelete table netdev x\n");
  });
});

describe("parseBatchFailures", () => {
  it("attributes each error to its line", () => {
    const stderr = 'RTNETLINK answers: File exists\nCommand failed -:3\nCannot find device "nope"\nCommand failed -:4\n';
    const f = parseBatchFailures(stderr);
    expect([...f.byLine]).toEqual([
      [3, "RTNETLINK answers: File exists"],
      [4, 'Cannot find device "nope"'],
    ]);
    expect(f.unattributed).toBe("");
  });

  it("keeps text after the last marker as unattributed (the tool stopped)", () => {
    const f = parseBatchFailures('Error: argument "x" is wrong: invalid mtu\n');
    expect(f.byLine.size).toBe(0);
    expect(f.unattributed).toContain("invalid mtu");
  });
});

describe("applyOperations", () => {
  function fakeRunner(answer: (file: string, args: readonly string[], input?: string) => { stdout?: string; stderr?: string; exitCode?: number }) {
    const calls: Array<{ file: string; args: readonly string[]; input?: string }> = [];
    const runner: CommandRunner = {
      async run(file, args, options) {
        calls.push({ file, args, input: options?.input });
        const a = answer(file, args, options?.input);
        return { stdout: a.stdout ?? "", stderr: a.stderr ?? "", exitCode: a.exitCode ?? 0 };
      },
    };
    return { runner, calls };
  }

  it("runs one process per batch and maps failed lines to typed errors", async () => {
    const { runner, calls } = fakeRunner((_f, _a, input) =>
      input?.includes("eth2") ? { stderr: "RTNETLINK answers: File exists\nCommand failed -:2\n", exitCode: 1 } : {},
    );
    const ops = [
      op({ args: ["link", "set", "dev", "eth1", "up"], object: "dev eth1" }),
      op({ args: ["link", "add", "name", "eth2", "type", "veth"], object: "dev eth2" }),
      op({ netns: "kne.t.r2", args: ["link", "set", "dev", "eth9", "up"] }),
    ];
    const report = await applyOperations(ops, { runner });
    expect(report.processes).toBe(2);
    expect(calls.map((c) => c.args[0])).toEqual(["--net=/run/netns/kne.t.r1", "--net=/run/netns/kne.t.r2"]);
    expect(report.failures).toHaveLength(1);
    expect(report.failures[0]!.operation.object).toBe("dev eth2");
    expect(report.failures[0]!.error).toBeInstanceOf(KernelObjectExistsError);
    expect(report.failures[0]!.error.line).toBe("link add name eth2 type veth");
    await expect(applyOperationsOrThrow(ops, { runner })).rejects.toBeInstanceOf(KernelObjectExistsError);
  });

  it("treats declared outcomes as success", async () => {
    const { runner } = fakeRunner(() => ({ stderr: 'Cannot find device "eth1"\nCommand failed -:1\n', exitCode: 1 }));
    const report = await applyOperations([op({ args: ["link", "del", "dev", "eth1"], ignore: ["NOT_FOUND"] })], { runner });
    expect(report.failures).toEqual([]);
  });

  it("retries a failed nft transaction script by script to find the culprit", async () => {
    const { runner, calls } = fakeRunner((_f, _a, input) => (input?.includes("bad") ? { stderr: "Error: syntax error", exitCode: 1 } : {}));
    const report = await applyOperations(
      [op({ tool: "nft", args: ["add table netdev good"], object: "good" }), op({ tool: "nft", args: ["add bad"], object: "bad" })],
      { runner },
    );
    expect(calls).toHaveLength(3);
    expect(report.failures.map((f) => f.operation.object)).toEqual(["bad"]);
    expect(report.failures[0]!.error.code).toBe("INVALID_ARGUMENT");
  });

  it("runs phases in order", async () => {
    const { runner, calls } = fakeRunner(() => ({}));
    await applyOperations(
      [
        op({ phase: "netns-delete", netns: "", args: ["netns", "del", "x"] }),
        op({ phase: "netns-add", netns: "", args: ["netns", "add", "y"] }),
        op({ phase: "create", netns: "", args: ["link", "add", "name", "a"] }),
      ],
      { runner },
    );
    expect(calls.map((c) => c.input)).toEqual(["netns add y\n", "link add name a\n", "netns del x\n"]);
  });
});
