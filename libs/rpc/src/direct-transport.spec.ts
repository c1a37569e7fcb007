import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, type Interceptor, createClient } from "@connectrpc/connect";
import { healthv1 } from "@kne/proto";
import { describe, expect, it } from "vitest";
import { createDirectTransport } from "./direct-transport";
import { serviceRegistration } from "./service-registration";

const { Health } = healthv1;
const serving = healthv1.HealthCheckResponse_ServingStatus.SERVING;

function tagging(name: string, order: string[]): Interceptor {
  return (next) => async (req) => {
    order.push(`${name}>`);
    req.header.append("x-path", name);
    const res = await next(req);
    order.push(`<${name}`);
    return res;
  };
}

describe("createDirectTransport", () => {
  it("calls the implementation with the request object itself, through client then server interceptors", async () => {
    const order: string[] = [];
    let seen: unknown;
    let seenPath: string | null = null;
    const transport = createDirectTransport(
      [serviceRegistration(Health, {
        check(req, ctx) {
          seen = req;
          seenPath = ctx.requestHeader.get("x-path");
          ctx.responseHeader.set("x-answer", "yes");
          return { status: serving };
        },
      })],
      { clientInterceptors: [tagging("c1", order), tagging("c2", order)], serverInterceptors: [tagging("s1", order)] },
    );
    const request = create(healthv1.HealthCheckRequestSchema, { service: "a.B" });
    let header: Headers | undefined;
    const res = await createClient(Health, transport).check(request, { onHeader: (h) => (header = h) });
    expect(res.status).toBe(serving);
    expect(seen).toBe(request);
    expect(seenPath).toBe("c1, c2, s1");
    expect(order).toEqual(["c1>", "c2>", "s1>", "<s1", "<c2", "<c1"]);
    expect(header?.get("x-answer")).toBe("yes");
  });

  it("delivers errors as ConnectErrors, foreign ones included", async () => {
    const transport = createDirectTransport([serviceRegistration(Health, {
      check(req) {
        if (req.service === "gone") throw new ConnectError("no such service", Code.NotFound);
        throw new Error("boom");
      },
    })]);
    const client = createClient(Health, transport);
    await expect(client.check({ service: "gone" })).rejects.toMatchObject({ code: Code.NotFound, rawMessage: "no such service" });
    const foreign = await client.check({ service: "x" }).catch((e: unknown) => e);
    expect(foreign).toBeInstanceOf(ConnectError);
    expect((foreign as ConnectError).rawMessage).toBe("boom");
  });

  it("answers DEADLINE_EXCEEDED at the caller's deadline, with the handler's signal aborted", async () => {
    let aborted = false;
    const transport = createDirectTransport([serviceRegistration(Health, {
      check: (_req, ctx) =>
        new Promise((resolve) => {
          ctx.signal.addEventListener("abort", () => {
            aborted = true;
            resolve({ status: serving });
          });
        }),
    })]);
    const started = performance.now();
    await expect(createClient(Health, transport).check({}, { timeoutMs: 50 })).rejects.toMatchObject({ code: Code.DeadlineExceeded });
    expect(performance.now() - started).toBeLessThan(1000);
    await new Promise((r) => setTimeout(r, 20));
    expect(aborted).toBe(true);
  });

  it("answers CANCELED as soon as the caller aborts", async () => {
    const transport = createDirectTransport([serviceRegistration(Health, { check: () => new Promise(() => undefined) })]);
    const ac = new AbortController();
    const pending = createClient(Health, transport).check({}, { signal: ac.signal });
    setTimeout(() => ac.abort(), 20);
    await expect(pending).rejects.toMatchObject({ code: Code.Canceled });
  });

  it("answers UNIMPLEMENTED for a method left out, and streams through Connect's router", async () => {
    const transport = createDirectTransport([
      serviceRegistration(Health, {
        async *watch() {
          yield { status: serving };
        },
      }),
    ]);
    const client = createClient(Health, transport);
    await expect(client.check({})).rejects.toMatchObject({ code: Code.Unimplemented });
    const statuses: number[] = [];
    for await (const r of client.watch({})) statuses.push(r.status);
    expect(statuses).toEqual([serving]);
  });
});
