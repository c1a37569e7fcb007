import { ConnectError, createContextKey, type Interceptor } from "@connectrpc/connect";
import {
  context as otelContext,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Context,
  type Span,
  type TextMapGetter,
  type TextMapSetter,
  type Tracer,
} from "@opentelemetry/api";
import { grpcCodeName, isServerFault } from "./rpc-codes";
import { observeCall } from "./observe-stream";

/**
 * The trace context of the current call (its span), for handlers that start child spans:
 * OpenTelemetry's active context does not follow a handler into its response stream.
 */
export const traceContextKey = createContextKey<Context>(ROOT_CONTEXT, { description: "KNE trace context" });

/** Reads W3C trace headers (`traceparent`, `tracestate`) from Fetch API headers. */
export const headerGetter: TextMapGetter<Headers> = {
  keys: (carrier) => [...carrier.keys()],
  get: (carrier, key) => carrier.get(key) ?? undefined,
};

/** Writes W3C trace headers into Fetch API headers. */
export const headerSetter: TextMapSetter<Headers> = {
  set: (carrier, key, value) => carrier.set(key, value),
};

/**
 * The same through the request, whose `header` is then read only when a propagator uses it:
 * with no SDK set (the CLI, most tests) nothing does, and an in-process call need not make
 * its Headers (the first one of a process loads Node's undici, ~20-45 ms).
 */
const requestHeaderGetter: TextMapGetter<{ header: Headers }> = {
  keys: (req) => headerGetter.keys(req.header),
  get: (req, key) => headerGetter.get(req.header, key),
};
const requestHeaderSetter: TextMapSetter<{ header: Headers }> = {
  set: (req, key, value) => headerSetter.set(req.header, key, value),
};

export interface TracingOptions {
  /** `server` continues the caller's trace from the request headers; `client` sends it on. */
  side: "server" | "client";
  /** Defaults to the global provider's `@kne/telemetry` tracer (a no-op until an SDK is set). */
  tracer?: Tracer;
}

/**
 * One span per RPC, named `package.Service/Method` as OpenTelemetry's RPC conventions ask.
 * Uses only @opentelemetry/api: the process decides whether an SDK records anything.
 */
export function tracingInterceptor(options: TracingOptions): Interceptor {
  const server = options.side === "server";
  return (next) => async (req) => {
    const tracer = options.tracer ?? trace.getTracer("@kne/telemetry");
    const parent = server ? propagation.extract(ROOT_CONTEXT, req, requestHeaderGetter) : otelContext.active();
    const span = tracer.startSpan(
      `${req.service.typeName}/${req.method.name}`,
      {
        kind: server ? SpanKind.SERVER : SpanKind.CLIENT,
        attributes: {
          "rpc.system": "connect_rpc",
          "rpc.service": req.service.typeName,
          "rpc.method": req.method.name,
        },
      },
      parent,
    );
    const ctx = trace.setSpan(parent, span);
    if (!server) propagation.inject(ctx, req, requestHeaderSetter);
    req.contextValues.set(traceContextKey, ctx);
    const finish = (err?: unknown): void => endSpan(span, err, server);
    return observeCall(() => otelContext.with(ctx, () => next(req)), finish);
  };
}

function endSpan(span: Span, err: unknown, server: boolean): void {
  if (!span.isRecording()) {
    span.end();
    return;
  }
  if (err === undefined) {
    span.setAttribute("rpc.grpc.status_code", 0);
  } else {
    const error = ConnectError.from(err);
    span.setAttribute("rpc.grpc.status_code", error.code);
    span.setAttribute("rpc.connect_rpc.error_code", grpcCodeName(error.code).toLowerCase());
    // A client sees every failure as an error; a server only those it caused.
    if (!server || isServerFault(error.code)) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: error.rawMessage });
    }
  }
  span.end();
}
