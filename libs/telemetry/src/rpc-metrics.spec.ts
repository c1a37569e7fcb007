import { Code, ConnectError, createClient, createRouterTransport } from "@connectrpc/connect";
import { metrics } from "@opentelemetry/api";
import { AggregationTemporality, InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader, type HistogramMetricData } from "@opentelemetry/sdk-metrics";
import { healthv1 } from "@kne/proto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { metricsInterceptor, parseListenAddress, rpcDurationBucketsMs } from "./index";

const { Health, HealthCheckResponse_ServingStatus: Status } = healthv1;

describe("metricsInterceptor", () => {
  const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
  const provider = new MeterProvider({ readers: [reader] });
  beforeAll(() => metrics.setGlobalMeterProvider(provider));
  afterAll(async () => {
    await provider.shutdown();
    metrics.disable();
  });

  it("records rpc.server.duration per method and gRPC code, streams when they end", async () => {
    const transport = createRouterTransport(
      ({ service }) =>
        service(Health, {
          check(req) {
            if (req.service === "missing") throw new ConnectError("unknown service missing", Code.NotFound);
            return { status: Status.SERVING };
          },
          async *watch() {
            await new Promise((r) => setTimeout(r, 30));
            yield { status: Status.SERVING };
          },
        }),
      { router: { interceptors: [metricsInterceptor()] } },
    );
    const client = createClient(Health, transport);
    await client.check({});
    await client.check({});
    await expect(client.check({ service: "missing" })).rejects.toThrow();
    for await (const _ of client.watch({})) void _;
    await reader.forceFlush();
    const metric = exporter
      .getMetrics()
      .flatMap((r) => r.scopeMetrics.flatMap((s) => s.metrics))
      .find((m) => m.descriptor.name === "rpc.server.duration") as HistogramMetricData | undefined;
    expect(metric?.descriptor.unit).toBe("ms");
    const points = (metric?.dataPoints ?? []).map((p) => ({ method: p.attributes["rpc.method"], code: p.attributes["rpc.grpc.status_code"], count: p.value.count, boundaries: p.value.buckets.boundaries, sum: p.value.sum }));
    expect(points.find((p) => p.method === "Check" && p.code === 0)?.count).toBe(2);
    expect(points.find((p) => p.method === "Check" && p.code === Code.NotFound)?.count).toBe(1);
    const watch = points.find((p) => p.method === "Watch");
    expect(watch?.count).toBe(1);
    // The stream's duration covers its life, not just its start.
    expect(watch?.sum).toBeGreaterThanOrEqual(25);
    expect(watch?.boundaries).toEqual(rpcDurationBucketsMs);
  });
});

describe("parseListenAddress", () => {
  it("takes host:port, [v6]:port and :port, and names a bad value", () => {
    expect(parseListenAddress("127.0.0.1:9464", "--metrics-addr")).toEqual({ host: "127.0.0.1", port: 9464 });
    expect(parseListenAddress("[::1]:0", "--metrics-addr")).toEqual({ host: "::1", port: 0 });
    expect(parseListenAddress(":9464", "--metrics-addr")).toEqual({ host: "0.0.0.0", port: 9464 });
    expect(() => parseListenAddress("9464", "--metrics-addr")).toThrow('--metrics-addr must be host:port (e.g. 127.0.0.1:9464, :9464), got "9464"');
    expect(() => parseListenAddress("h:70000", "$KNE_METRICS_ADDR")).toThrow(/\$KNE_METRICS_ADDR must be host:port/);
  });
});
