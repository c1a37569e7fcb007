/**
 * @kne/telemetry — logging and tracing for every KNE process.
 *
 * - `createLogger`: pino, one JSON object per line on stdout; the level comes from the
 *   caller (a `--log-level` flag) or `KNE_LOG_LEVEL`. Messages are past tense ("rpc
 *   completed", "server started"); context goes in fields (`{topology, node, link}`).
 * - `loggingInterceptor`: one log line per RPC with method, gRPC code, duration and
 *   request id (`x-request-id`, created when absent, kept in `requestIdKey`).
 * - `tracingInterceptor`: one OpenTelemetry span per RPC using only @opentelemetry/api;
 *   the server side continues the caller's `traceparent`, the client side sends it on.
 *   Whether spans are recorded and exported is the process's choice of SDK.
 * - `metricsInterceptor`: the `rpc.server.duration` histogram per service, method and code.
 * - `startTelemetry`: the process's SDK — W3C propagation, async context, spans over
 *   OTLP/HTTP (`OTEL_EXPORTER_OTLP_ENDPOINT`), metrics for Prometheus (`/metrics`) and OTLP.
 *   Log lines written inside a traced call carry `trace_id` and `span_id`.
 * - `buildInfo`: the project's version and the Node.js runtime a process runs on.
 */
export { createLogger, parseLogLevel, logLevels, logLevelEnv } from "./logger";
export type { Logger, LoggerOptions, LogLevel } from "./logger";
export { loggingInterceptor, requestIdHeader, requestIdKey } from "./rpc-logging";
export type { RpcLoggingOptions } from "./rpc-logging";
export { tracingInterceptor, traceContextKey, headerGetter, headerSetter } from "./rpc-tracing";
export type { TracingOptions } from "./rpc-tracing";
export { grpcCodeName } from "./rpc-codes";
export { metricsInterceptor, rpcDurationBucketsMs } from "./rpc-metrics";
export { startTelemetry, parseListenAddress, otlpEndpointEnv } from "./telemetry-sdk";
export type { Telemetry, TelemetryOptions } from "./telemetry-sdk";
export { buildInfo } from "./build-info";
export type { BuildInfo } from "./build-info";
