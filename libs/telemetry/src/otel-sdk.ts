/**
 * The OpenTelemetry SDK half of telemetry-sdk.ts: loaded by `startTelemetry` only in processes
 * that export traces or metrics, so that the others never load the SDK and its exporters.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { context, metrics, propagation, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { OTLPMetricExporter } from "@opentelemetry/exporter-metrics-otlp-http";
import { PrometheusExporter } from "@opentelemetry/exporter-prometheus";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { MeterProvider, PeriodicExportingMetricReader, type IMetricReader } from "@opentelemetry/sdk-metrics";
import { BatchSpanProcessor, TracerProvider } from "@opentelemetry/sdk-trace";
import { otlpEndpointEnv, parseListenAddress, type Telemetry, type TelemetryOptions } from "./telemetry-sdk";

/**
 * Sets up OpenTelemetry for the process: W3C trace context propagation and an async
 * context (so spans started in handlers find their parent), a tracer provider exporting
 * over OTLP/HTTP when an endpoint is configured, and a meter provider read by Prometheus
 * (`/metrics` on its own port) and/or pushed over OTLP. Instruments created through
 * @opentelemetry/api before or after this call report through it.
 */
export async function startTelemetrySdk(options: TelemetryOptions): Promise<Telemetry> {
  const env = options.env ?? process.env;
  const rawEndpoint = options.otlpEndpoint ?? (env[otlpEndpointEnv] || undefined);
  const otlpEndpoint = rawEndpoint?.replace(/\/+$/, "");
  if (otlpEndpoint !== undefined && !/^https?:\/\/[^/]+/.test(otlpEndpoint)) {
    throw new Error(`the OTLP endpoint must be an http(s) URL such as http://127.0.0.1:4318, got "${rawEndpoint}"`);
  }
  const resource = resourceFromAttributes({ "service.name": options.serviceName, "process.pid": process.pid });

  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  const tracerProvider = new TracerProvider({
    resource,
    spanProcessors: otlpEndpoint ? [new BatchSpanProcessor({ exporter: new OTLPTraceExporter({ url: `${otlpEndpoint}/v1/traces` }), scheduledDelayMillis: 1000 })] : [],
  });
  trace.setGlobalTracerProvider(tracerProvider);

  const readers: IMetricReader[] = [];
  let prometheus: PrometheusExporter | undefined;
  if (options.metricsAddr !== undefined) {
    // Served by our own HTTP server: the exporter's own cannot report the port it got for 0.
    prometheus = new PrometheusExporter({ preventServerStart: true });
    readers.push(prometheus);
  }
  if (otlpEndpoint) {
    readers.push(
      new PeriodicExportingMetricReader({
        exporter: new OTLPMetricExporter({ url: `${otlpEndpoint}/v1/metrics` }),
        exportIntervalMillis: options.otlpMetricsIntervalMs ?? 10_000,
      }),
    );
  }
  const meterProvider = new MeterProvider({ resource, readers });
  metrics.setGlobalMeterProvider(meterProvider);

  let server: Server | undefined;
  let metricsUrl: string | undefined;
  if (prometheus && options.metricsAddr !== undefined) {
    const { host, port } = parseListenAddress(options.metricsAddr, "--metrics-addr");
    const exporter = prometheus;
    server = createServer((req, res) => {
      if (req.method === "GET" && req.url?.split("?")[0] === "/metrics") exporter.getMetricsRequestHandler(req, res);
      else res.writeHead(404, { "content-type": "text/plain" }).end("only GET /metrics is served here\n");
    });
    const listening = server;
    await new Promise<void>((resolve, reject) => {
      listening.once("error", reject);
      listening.listen(port, host, () => {
        listening.off("error", reject);
        resolve();
      });
    });
    const bound = listening.address() as AddressInfo;
    const shown = host === "0.0.0.0" ? "127.0.0.1" : host === "::" ? "[::1]" : host.includes(":") ? `[${host}]` : host;
    metricsUrl = `http://${shown}:${bound.port}/metrics`;
  }
  options.logger.info({ metricsUrl, otlpEndpoint }, "telemetry started");

  const flush = async (): Promise<void> => {
    await Promise.all([tracerProvider.forceFlush(), meterProvider.forceFlush()]);
  };
  return {
    metricsUrl,
    otlpEndpoint,
    meter: (name) => meterProvider.getMeter(name),
    flush,
    async shutdown() {
      await flush().catch((err: unknown) => options.logger.warn({ err }, "telemetry flush failed"));
      await Promise.all([tracerProvider.shutdown(), meterProvider.shutdown()]).catch((err: unknown) => options.logger.warn({ err }, "telemetry shutdown failed"));
      await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
      trace.disable();
      metrics.disable();
      propagation.disable();
      context.disable();
    },
  };
}
