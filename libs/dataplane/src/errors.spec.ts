import { describe, expect, it } from "vitest";
import {
  DataplaneError,
  KernelCommandError,
  KernelFeatureMissingError,
  KernelObjectExistsError,
  KernelObjectNotFoundError,
  KernelPermissionError,
  summarizeStderr,
  translateCommandFailure,
} from "./errors.ts";

const command = ["ip", "-n", "kne.t.r1", "-force", "-batch", "-"];

describe("translateCommandFailure", () => {
  it("turns File exists into ALREADY_EXISTS naming command, line and object", () => {
    const e = translateCommandFailure({
      command,
      line: "link add name eth1 type veth peer name eth2",
      object: "netns kne.t.r1 dev eth1",
      stderr: "RTNETLINK answers: File exists\n",
      exitCode: 1,
    });
    expect(e).toBeInstanceOf(KernelObjectExistsError);
    expect(e.code).toBe("ALREADY_EXISTS");
    expect(e.message).toBe("ip failed (netns kne.t.r1 dev eth1): link add name eth1 type veth peer name eth2: File exists");
    expect(e.command).toEqual(command);
    expect(e.object).toBe("netns kne.t.r1 dev eth1");
  });

  it("recognizes the ways tools say something is missing", () => {
    for (const stderr of [
      'Cannot find device "eth9"',
      'Device "eth9" does not exist.',
      'Cannot open network namespace "kne.t.r9": No such file or directory',
      "Error: No such file or directory\nlist table netdev nope\n                  ^^^^",
      "Error: Cannot delete qdisc with handle of zero.",
    ]) {
      const e = translateCommandFailure({ command, stderr, exitCode: 1 });
      expect(e, stderr).toBeInstanceOf(KernelObjectNotFoundError);
      expect(e.code).toBe("NOT_FOUND");
    }
  });

  it("maps privilege problems to PERMISSION_DENIED", () => {
    const e = translateCommandFailure({ command, stderr: "RTNETLINK answers: Operation not permitted", exitCode: 2 });
    expect(e).toBeInstanceOf(KernelPermissionError);
    expect(e.code).toBe("PERMISSION_DENIED");
  });

  it("maps a missing kernel kind to FAILED_PRECONDITION", () => {
    const e = translateCommandFailure({ command: ["tc"], stderr: "Error: Specified qdisc kind is unknown.", exitCode: 2 });
    expect(e.code).toBe("FAILED_PRECONDITION");
    expect(e.message).toContain("Specified qdisc kind is unknown.");
  });

  it("maps bad arguments to INVALID_ARGUMENT and anything else to INTERNAL", () => {
    expect(translateCommandFailure({ command, stderr: "RTNETLINK answers: Invalid argument" }).code).toBe("INVALID_ARGUMENT");
    const other = translateCommandFailure({ command, stderr: "something odd happened", exitCode: 3 });
    expect(other).toBeInstanceOf(KernelCommandError);
    expect(other.code).toBe("INTERNAL");
    expect(translateCommandFailure({ command, stderr: "", exitCode: 3 }).message).toContain("exit code 3");
  });

  it("summarizes noisy stderr to its first meaningful line", () => {
    expect(summarizeStderr("RTNETLINK answers: File exists\nCommand failed -:3\n")).toBe("File exists");
    expect(summarizeStderr("Error: syntax error, unexpected '}'\nadd chain x\n   ^^^")).toBe("syntax error, unexpected '}'");
  });
});

describe("KernelFeatureMissingError", () => {
  it("is FAILED_PRECONDITION and names the feature and the request", () => {
    const e = new KernelFeatureMissingError("sch_netem", "delay on netns kne.t.r1 dev eth1");
    expect(e).toBeInstanceOf(DataplaneError);
    expect(e.code).toBe("FAILED_PRECONDITION");
    expect(e.feature).toBe("sch_netem");
    expect(e.message).toBe("kernel feature sch_netem is not available on this host (needed for delay on netns kne.t.r1 dev eth1)");
  });
});
