import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { KubeApiError, codeForKubeStatus, isConflict, isNotFound, isRetriable } from "./kube-errors.ts";

describe("Kubernetes status → gRPC code", () => {
  it.each([
    [404, "NotFound", Code.NotFound],
    [409, "AlreadyExists", Code.AlreadyExists],
    [409, "Conflict", Code.Aborted],
    [422, "Invalid", Code.InvalidArgument],
    [400, "BadRequest", Code.InvalidArgument],
    [401, "Unauthorized", Code.Unauthenticated],
    [403, "Forbidden", Code.PermissionDenied],
    [410, "Expired", Code.Aborted],
    [429, "TooManyRequests", Code.ResourceExhausted],
    [500, "InternalError", Code.Unavailable],
    [503, "ServiceUnavailable", Code.Unavailable],
    [504, "Timeout", Code.Unavailable],
    [413, undefined, Code.ResourceExhausted],
  ])("%i %s", (status, reason, code) => {
    expect(codeForKubeStatus(status, reason)).toBe(code);
  });

  it("stays a ConnectError through Connect's own checks, keeps status and message", () => {
    const err = new KubeApiError("GET", "/api/v1/namespaces/x", 404, { reason: "NotFound", message: 'namespaces "x" not found' });
    expect(err).toBeInstanceOf(ConnectError);
    expect(ConnectError.from(err)).toBe(err);
    expect(err.code).toBe(Code.NotFound);
    expect(err.rawMessage).toContain('namespaces "x" not found');
    expect(isNotFound(err)).toBe(true);
    expect(isConflict(err)).toBe(false);
    // A plain ConnectError is not taken for an API answer.
    expect(isNotFound(new ConnectError("x", Code.NotFound))).toBe(false);
  });

  it("names the invalid fields of a 422", () => {
    const err = new KubeApiError("POST", "/apis/kne.dev/v1alpha1/topologies", 422, {
      reason: "Invalid",
      message: "Topology.kne.dev is invalid",
      details: { causes: [{ field: "spec.nodes", message: "Required value" }] },
    });
    expect(err.code).toBe(Code.InvalidArgument);
    expect(err.rawMessage).toContain("spec.nodes: Required value");
  });

  it("retries throttling, server errors and broken connections only", () => {
    expect(isRetriable(new KubeApiError("GET", "/", 429, {}))).toBe(true);
    expect(isRetriable(new KubeApiError("GET", "/", 503, {}))).toBe(true);
    expect(isRetriable(new KubeApiError("GET", "/", 404, {}))).toBe(false);
    expect(isRetriable(new ConnectError("refused", Code.Unavailable))).toBe(true);
  });
});
