import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { fieldViolationsOf, invalidArgument, toConnectError } from "./index";

function systemError(code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: something, open '/x'`), { code, errno: -1, syscall: "open" });
}

describe("toConnectError", () => {
  it.each([
    ["ENOENT", Code.NotFound],
    ["EEXIST", Code.AlreadyExists],
    ["EPERM", Code.PermissionDenied],
    ["EACCES", Code.PermissionDenied],
    ["ETIMEDOUT", Code.DeadlineExceeded],
    ["ECONNREFUSED", Code.Unavailable],
    ["ENOSPC", Code.ResourceExhausted],
    ["EINVAL", Code.Internal],
    ["EWHATEVER", Code.Internal],
  ])("maps errno %s to %s", (errno, code) => {
    const original = systemError(errno);
    const err = toConnectError(original);
    expect(err.code).toBe(code);
    expect(err.rawMessage).toBe(original.message);
    expect(err.cause).toBe(original);
  });

  it("passes ConnectErrors through untouched", () => {
    const err = new ConnectError("gone", Code.NotFound);
    expect(toConnectError(err)).toBe(err);
  });

  it("maps aborts and timeouts, plain errors and non-errors", () => {
    expect(toConnectError(new DOMException("stopped", "AbortError")).code).toBe(Code.Canceled);
    expect(toConnectError(new DOMException("too slow", "TimeoutError")).code).toBe(Code.DeadlineExceeded);
    expect(toConnectError(new TypeError("x is undefined"))).toMatchObject({ code: Code.Internal, rawMessage: "x is undefined" });
    // Node's own ERR_* codes are not errno values: a bug of ours, so INTERNAL.
    expect(toConnectError(Object.assign(new Error("bad arg"), { code: "ERR_INVALID_ARG_TYPE" })).code).toBe(Code.Internal);
    expect(toConnectError("a string")).toMatchObject({ code: Code.Internal, rawMessage: "a string" });
  });
});

describe("invalidArgument", () => {
  it("names the violations in the message and in google.rpc.BadRequest details", () => {
    const err = invalidArgument("the topology is invalid", [
      { field: "nodes[r1].interfaces[eth1]", description: "is not an interface of r1" },
      { field: "links[0].a_node", description: "must not be empty" },
    ]);
    expect(err.code).toBe(Code.InvalidArgument);
    expect(err.rawMessage).toBe(
      "the topology is invalid: nodes[r1].interfaces[eth1]: is not an interface of r1; links[0].a_node: must not be empty",
    );
    expect(fieldViolationsOf(err)).toEqual([
      { field: "nodes[r1].interfaces[eth1]", description: "is not an interface of r1" },
      { field: "links[0].a_node", description: "must not be empty" },
    ]);
  });

  it("keeps the message as given without violations", () => {
    const err = invalidArgument("bad");
    expect(err.rawMessage).toBe("bad");
    expect(fieldViolationsOf(err)).toEqual([]);
    expect(fieldViolationsOf(new ConnectError("other"))).toEqual([]);
  });
});
