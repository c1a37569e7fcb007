import type { Meter } from "@opentelemetry/api";
import type { Logger } from "pino";

/** The standard OpenTelemetry variable for the OTLP endpoint (`http://collector:4318`). */
export const otlpEndpointEnv = "OTEL_EXPORTER_OTLP_ENDPOINT";

export interface TelemetryOptions {
  /** `service.name` of every span and metric. */
  serviceName: string;
  /**
   * OTLP/HTTP (protobuf) base URL; traces go to `/v1/traces`, metrics to `/v1/metrics`.
   * Unset: $OTEL_EXPORTER_OTLP_ENDPOINT; neither: nothing is exported over OTLP.
   */
  otlpEndpoint?: string;
  /** `host:port` for a Prometheus `/metrics` endpoint (port 0 picks one); unset: none. */
  metricsAddr?: string;
  /** How often metrics are pushed over OTLP (default 10 s). */
  otlpMetricsIntervalMs?: number;
  logger: Logger;
  env?: Readonly<Record<string, string | undefined>>;
}

export interface Telemetry {
  /** Where Prometheus scrapes, e.g. http://127.0.0.1:9464/metrics; undefined without --metrics-addr. */
  readonly metricsUrl: string | undefined;
  /** The OTLP base URL in use, if any. */
  readonly otlpEndpoint: string | undefined;
  meter(name: string): Meter;
  /** Exports what is buffered (spans, metrics); tests and shutdown call it. */
  flush(): Promise<void>;
  /** Flushes, stops the exporters and the /metrics server, and unsets the global providers. */
  shutdown(): Promise<void>;
}

/** Parses `host:port`, `[v6]:port` or `:port` (all interfaces); throws naming the value. */
export function parseListenAddress(value: string, what: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(value.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new Error(`${what} must be host:port (e.g. 127.0.0.1:9464, :9464), got "${value}"`);
  return { host: m[1] ?? (m[2] === "" ? "0.0.0.0" : m[2]!), port };
}

/**
 * Sets up OpenTelemetry for the process (see otel-sdk.ts). The SDK is imported here, on the
 * first call, not when this module loads: most processes never export telemetry.
 */
export async function startTelemetry(options: TelemetryOptions): Promise<Telemetry> {
  const { startTelemetrySdk } = await import("./otel-sdk");
  return startTelemetrySdk(options);
}
