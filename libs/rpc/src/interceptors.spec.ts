import { Code, ConnectError, createClient, createRouterTransport, type Interceptor } from "@connectrpc/connect";
import { controller, healthv1 } from "@kne/proto";
import { describe, expect, it } from "vitest";
import { authInterceptor, errorInterceptor, isMutatingMethod } from "./index";
import { captureLogs } from "./test-fixtures";

describe("isMutatingMethod", () => {
  it("treats reads by name as safe and everything else as mutating", () => {
    const m = controller.TopologyManager.method;
    expect(isMutatingMethod(m.showTopology)).toBe(false);
    expect(isMutatingMethod(m.showCluster)).toBe(false);
    expect(isMutatingMethod(m.createTopology)).toBe(true);
    expect(isMutatingMethod(m.pushConfig)).toBe(true);
    expect(isMutatingMethod(m.deleteTopology)).toBe(true);
    expect(isMutatingMethod(healthv1.Health.method.check)).toBe(false);
    expect(isMutatingMethod(healthv1.Health.method.watch)).toBe(false);
  });
});

describe("authInterceptor", () => {
  it("refuses an empty token at construction", () => {
    expect(() => authInterceptor({ token: "" })).toThrow(/must not be empty/);
  });

  it("uses the caller's idea of mutating when given", async () => {
    const transport = createRouterTransport(
      ({ service }) => service(healthv1.Health, { check: () => ({ status: healthv1.HealthCheckResponse_ServingStatus.SERVING }) }),
      { router: { interceptors: [authInterceptor({ token: "t", isMutating: () => true })] } },
    );
    const client = createClient(healthv1.Health, transport);
    await expect(client.check({})).rejects.toMatchObject({ code: Code.Unauthenticated, rawMessage: expect.stringMatching(/Bearer/) });
    await expect(client.check({}, { headers: { authorization: "Basic dDp0" } })).rejects.toMatchObject({ code: Code.Unauthenticated });
    await expect(client.check({}, { headers: { authorization: "bearer t" } })).resolves.toBeDefined();
  });
});

describe("errorInterceptor", () => {
  function setup(extra: Interceptor[] = []) {
    const logs = captureLogs();
    const transport = createRouterTransport(
      ({ service }) =>
        service(healthv1.Health, {
          check() {
            throw Object.assign(new Error("EACCES: permission denied, open '/run/netns/x'"), { code: "EACCES" });
          },
          async *watch() {
            yield { status: healthv1.HealthCheckResponse_ServingStatus.SERVING };
            throw new Error("the store broke mid-stream");
          },
        }),
      { router: { interceptors: [errorInterceptor(logs.logger), ...extra] } },
    );
    return { logs, client: createClient(healthv1.Health, transport) };
  }

  it("translates unary errors", async () => {
    const { logs, client } = setup();
    await expect(client.check({})).rejects.toMatchObject({ code: Code.PermissionDenied });
    expect(logs.lines()).toEqual([expect.objectContaining({ msg: "handler threw a foreign error", code: "PERMISSION_DENIED" })]);
  });

  it("translates errors in the middle of a response stream", async () => {
    const { logs, client } = setup();
    const seen: number[] = [];
    const err = await (async () => {
      for await (const res of client.watch({})) seen.push(res.status);
    })().catch((e: unknown) => ConnectError.from(e));
    expect(seen).toHaveLength(1);
    expect(err).toMatchObject({ code: Code.Internal, rawMessage: "the store broke mid-stream" });
    expect(logs.lines()).toHaveLength(1);
  });

  it("leaves ConnectErrors alone and does not log them", async () => {
    const refuse: Interceptor = () => () => Promise.reject(new ConnectError("no", Code.FailedPrecondition));
    const { logs, client } = setup([refuse]);
    await expect(client.check({})).rejects.toMatchObject({ code: Code.FailedPrecondition });
    expect(logs.lines()).toEqual([]);
  });
});
