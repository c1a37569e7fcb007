import { Code, ConnectError, createClient, createRouterTransport } from "@connectrpc/connect";
import { healthv1 } from "@kne/proto";
import { describe, expect, it } from "vitest";
import { createLogger, grpcCodeName, loggingInterceptor, requestIdHeader, requestIdKey } from "./index";

const { Health, HealthCheckResponse_ServingStatus: Status } = healthv1;

function capture() {
  const chunks: string[] = [];
  return {
    write: (msg: string) => void chunks.push(msg),
    lines: () =>
      chunks
        .join("")
        .split("\n")
        .filter((l) => l !== "")
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

function setup(level = "debug", options: Parameters<typeof loggingInterceptor>[1] = undefined) {
  const out = capture();
  const logger = createLogger({ name: "rpc-test", level, destination: out });
  const seenIds: string[] = [];
  const transport = createRouterTransport(
    ({ service }) =>
      service(Health, {
        check(req, ctx) {
          seenIds.push(ctx.values.get(requestIdKey));
          if (req.service === "missing") throw new ConnectError("unknown service missing", Code.NotFound);
          return { status: Status.SERVING };
        },
        async *watch() {
          yield { status: Status.SERVING };
          yield { status: Status.NOT_SERVING };
        },
      }),
    { router: { interceptors: [loggingInterceptor(logger, options)] } },
  );
  return { out, seenIds, client: createClient(Health, transport) };
}

describe("loggingInterceptor", () => {
  it("logs a completed unary call with code, duration and a created request id", async () => {
    const { out, seenIds, client } = setup();
    let responseId: string | null = null;
    await client.check({}, { onHeader: (h) => (responseId = h.get(requestIdHeader)) });
    const [line] = out.lines();
    // Health checks are probes: logged at debug when they succeed.
    expect(line).toMatchObject({ msg: "rpc completed", method: "grpc.health.v1.Health/Check", code: "OK", level: "debug" });
    expect(typeof line?.["durationMs"]).toBe("number");
    expect(line?.["requestId"]).toMatch(/^[0-9a-f-]{36}$/);
    expect(seenIds).toEqual([line?.["requestId"]]);
    expect(responseId).toBe(line?.["requestId"]);
  });

  it("keeps a request id the caller sent and logs failures with their gRPC code", async () => {
    const { out, seenIds, client } = setup();
    await expect(client.check({ service: "missing" }, { headers: { [requestIdHeader]: "req-42" } })).rejects.toMatchObject({
      code: Code.NotFound,
    });
    expect(seenIds).toEqual(["req-42"]);
    expect(out.lines()).toEqual([
      expect.objectContaining({ msg: "rpc failed", level: "warn", code: "NOT_FOUND", requestId: "req-42", error: "unknown service missing" }),
    ]);
  });

  it("logs successes of quiet methods at debug and their failures as always; other methods at info", async () => {
    const { out, client } = setup("debug", { quietServices: [], quietMethods: ["grpc.health.v1.Health/Check"] });
    await client.check({});
    await expect(client.check({ service: "missing" })).rejects.toMatchObject({ code: Code.NotFound });
    for await (const _ of client.watch({})) void _;
    expect(out.lines().map((l) => [l["method"], l["msg"], l["level"]])).toEqual([
      ["grpc.health.v1.Health/Check", "rpc completed", "debug"],
      ["grpc.health.v1.Health/Check", "rpc failed", "warn"],
      ["grpc.health.v1.Health/Watch", "rpc completed", "info"],
    ]);
  });

  it("logs a stream once, when it ends", async () => {
    const { out, client } = setup();
    const statuses: number[] = [];
    for await (const res of client.watch({})) statuses.push(res.status);
    expect(statuses).toEqual([Status.SERVING, Status.NOT_SERVING]);
    expect(out.lines()).toEqual([expect.objectContaining({ msg: "rpc completed", method: "grpc.health.v1.Health/Watch" })]);
  });

  it("logs successful health checks only at debug, failures always", async () => {
    const { out, client } = setup("info");
    await client.check({});
    await expect(client.check({ service: "missing" })).rejects.toThrow();
    expect(out.lines().map((l) => [l["msg"], l["level"]])).toEqual([["rpc failed", "warn"]]);
  });

  it("names codes as gRPC does", () => {
    expect(grpcCodeName(0)).toBe("OK");
    expect(grpcCodeName(Code.NotFound)).toBe("NOT_FOUND");
    expect(grpcCodeName(Code.DeadlineExceeded)).toBe("DEADLINE_EXCEEDED");
    expect(grpcCodeName(Code.Unauthenticated)).toBe("UNAUTHENTICATED");
  });
});
