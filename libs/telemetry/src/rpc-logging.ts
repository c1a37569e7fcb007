import { randomUUID } from "node:crypto";
import { Code, ConnectError, createContextKey, type Interceptor } from "@connectrpc/connect";
import { trace } from "@opentelemetry/api";
import type { Logger } from "pino";
import { observeStream } from "./observe-stream";
import { grpcCodeName } from "./rpc-codes";
import { traceContextKey } from "./rpc-tracing";

/** The header that carries a request id across processes. */
export const requestIdHeader = "x-request-id";

/** The request id of the current call, for handlers that log or call onwards. */
export const requestIdKey = createContextKey<string>("", { description: "KNE request id" });

export interface RpcLoggingOptions {
  /**
   * Services whose successful calls are logged at debug, not info; default the health
   * service, which Kubernetes probes call every few seconds. Failures are always logged.
   */
  quietServices?: readonly string[];
  /**
   * Methods (`package.Service/Method`) whose successful calls are logged at debug: calls a
   * caller makes at a high rate and logs itself (an agent's link flips, which the manager
   * logs with the same request id). Failures are always logged.
   */
  quietMethods?: readonly string[];
}

/**
 * Logs one line per RPC when it finishes: method, gRPC code, duration and request id.
 * Streams are logged when the response stream ends, so the duration covers the stream.
 *
 * The request id is taken from `x-request-id` or created, written back to the request
 * headers (a client interceptor thereby sends it on) and kept in the call's context values.
 */
export function loggingInterceptor(logger: Logger, options: RpcLoggingOptions = {}): Interceptor {
  const quiet = new Set(options.quietServices ?? ["grpc.health.v1.Health"]);
  const quietMethods = new Set(options.quietMethods ?? []);
  return (next) => async (req) => {
    const started = performance.now();
    let requestId = req.header.get(requestIdHeader);
    if (requestId === null || requestId === "") {
      requestId = randomUUID();
      req.header.set(requestIdHeader, requestId);
    }
    req.contextValues.set(requestIdKey, requestId);
    const method = `${req.service.typeName}/${req.method.name}`;
    // The call's span (set by the tracing interceptor, which runs first): a stream's line is
    // written long after the handler's context is gone.
    const spanContext = trace.getSpanContext(req.contextValues.get(traceContextKey));
    const traced = spanContext && spanContext.traceFlags !== 0 ? { trace_id: spanContext.traceId, span_id: spanContext.spanId } : {};
    const finish = (err?: unknown): void => {
      const durationMs = Math.round((performance.now() - started) * 1000) / 1000;
      if (err === undefined) {
        const level = quiet.has(req.service.typeName) || quietMethods.has(method) ? "debug" : "info";
        logger[level]({ method, code: "OK", durationMs, requestId, ...traced }, "rpc completed");
        return;
      }
      const error = ConnectError.from(err);
      const fields = { method, code: grpcCodeName(error.code), durationMs, requestId, ...traced, error: error.rawMessage };
      // Only faults of the server itself are errors; a caller's bad request or a missing
      // method is worth a warning, not a page.
      if (error.code === Code.Internal || error.code === Code.Unknown || error.code === Code.DataLoss) {
        logger.error(fields, "rpc failed");
      } else {
        logger.warn(fields, "rpc failed");
      }
    };
    try {
      const res = await next(req);
      // Echoed so a caller can quote the id when it reports a problem.
      if (!res.header.has(requestIdHeader)) res.header.set(requestIdHeader, requestId);
      if (!res.stream) {
        finish();
        return res;
      }
      return { ...res, message: observeStream(res.message, finish) };
    } catch (err) {
      if (err instanceof ConnectError) err.metadata.set(requestIdHeader, requestId);
      finish(err);
      throw err;
    }
  };
}
