import { Code, createClient, createRouterTransport } from "@connectrpc/connect";
import { healthv1 } from "@kne/proto";
import { describe, expect, it } from "vitest";
import { createHealthService, ServingStatus } from "./index";

function setup(services: string[] = ["a.Svc"]) {
  const health = createHealthService(services);
  const transport = createRouterTransport(({ service }) => service(health.registration.service, health.registration.impl));
  return { health, client: createClient(healthv1.Health, transport) };
}

describe("createHealthService", () => {
  it("starts every named service and the server itself SERVING", async () => {
    const { client } = setup(["a.Svc", "b.Svc"]);
    expect((await client.check({})).status).toBe(ServingStatus.SERVING);
    expect((await client.check({ service: "b.Svc" })).status).toBe(ServingStatus.SERVING);
    const list = await client.list({});
    expect(Object.fromEntries(Object.entries(list.statuses).map(([k, v]) => [k, v.status]))).toEqual({
      "": ServingStatus.SERVING,
      "a.Svc": ServingStatus.SERVING,
      "b.Svc": ServingStatus.SERVING,
    });
  });

  it("answers NOT_FOUND for a service it does not know", async () => {
    const { client } = setup();
    await expect(client.check({ service: "nope.Svc" })).rejects.toMatchObject({
      code: Code.NotFound,
      rawMessage: 'unknown service "nope.Svc"',
    });
  });

  it("streams each change to watchers, SERVICE_UNKNOWN until a service appears", async () => {
    const { health, client } = setup();
    const abort = new AbortController();
    const watch = client.watch({ service: "late.Svc" }, { signal: abort.signal })[Symbol.asyncIterator]();
    expect((await watch.next()).value?.status).toBe(ServingStatus.SERVICE_UNKNOWN);
    health.setStatus("late.Svc", ServingStatus.SERVING);
    expect((await watch.next()).value?.status).toBe(ServingStatus.SERVING);
    // Setting the same status again is not a change.
    health.setStatus("late.Svc", ServingStatus.SERVING);
    health.setStatus("late.Svc", ServingStatus.NOT_SERVING);
    expect((await watch.next()).value?.status).toBe(ServingStatus.NOT_SERVING);
    abort.abort();
  });

  it("turns everything NOT_SERVING on shutdown and ignores later changes", async () => {
    const { health, client } = setup();
    const abort = new AbortController();
    const watch = client.watch({ service: "a.Svc" }, { signal: abort.signal })[Symbol.asyncIterator]();
    expect((await watch.next()).value?.status).toBe(ServingStatus.SERVING);
    health.shutdown();
    expect((await watch.next()).value?.status).toBe(ServingStatus.NOT_SERVING);
    health.setStatus("a.Svc", ServingStatus.SERVING);
    expect(health.getStatus("a.Svc")).toBe(ServingStatus.NOT_SERVING);
    expect((await client.check({})).status).toBe(ServingStatus.NOT_SERVING);
    abort.abort();
  });
});
