import { randomBytes } from "node:crypto";
import { Code, ConnectError, createClient, createRouterTransport } from "@connectrpc/connect";
import {
  propagation,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Span,
  type SpanContext,
  type SpanOptions,
  type SpanStatus,
  type TextMapGetter,
  type TextMapPropagator,
  type TextMapSetter,
  type Tracer,
} from "@opentelemetry/api";
import { healthv1 } from "@kne/proto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { traceContextKey, tracingInterceptor } from "./index";

const { Health, HealthCheckResponse_ServingStatus: Status } = healthv1;

/** What a recording span saw; the api alone ships no recording tracer. */
interface RecordedSpan {
  name: string;
  kind: number | undefined;
  context: SpanContext;
  parentSpanId: string | undefined;
  attributes: Attributes;
  status: SpanStatus;
  ended: boolean;
}

function recordingTracer(spans: RecordedSpan[]): Tracer {
  const startSpan = (name: string, options: SpanOptions = {}, ctx?: Context): Span => {
    const parent = ctx === undefined ? undefined : trace.getSpanContext(ctx);
    const rec: RecordedSpan = {
      name,
      kind: options.kind,
      context: {
        traceId: parent?.traceId ?? randomBytes(16).toString("hex"),
        spanId: randomBytes(8).toString("hex"),
        traceFlags: 1,
      },
      parentSpanId: parent?.spanId,
      attributes: { ...options.attributes },
      status: { code: SpanStatusCode.UNSET },
      ended: false,
    };
    spans.push(rec);
    const span: Span = {
      spanContext: () => rec.context,
      setAttribute: (k, v) => ((rec.attributes[k] = v), span),
      setAttributes: (a) => (Object.assign(rec.attributes, a), span),
      addEvent: () => span,
      addLink: () => span,
      addLinks: () => span,
      setStatus: (s) => ((rec.status = s), span),
      updateName: (n) => ((rec.name = n), span),
      end: () => void (rec.ended = true),
      isRecording: () => !rec.ended,
      recordException: () => undefined,
    };
    return span;
  };
  return {
    startSpan,
    startActiveSpan: (() => {
      throw new Error("not used by the interceptor");
    }) as Tracer["startActiveSpan"],
  };
}

/** A minimal W3C trace-context propagator: the real one lives in @opentelemetry/core. */
const w3c: TextMapPropagator = {
  inject(ctx: Context, carrier: unknown, setter: TextMapSetter) {
    const sc = trace.getSpanContext(ctx);
    if (sc) setter.set(carrier, "traceparent", `00-${sc.traceId}-${sc.spanId}-0${sc.traceFlags}`);
  },
  extract(ctx: Context, carrier: unknown, getter: TextMapGetter) {
    const value = getter.get(carrier, "traceparent");
    const m = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/.exec(String(value ?? ""));
    if (!m) return ctx;
    return trace.setSpanContext(ctx, { traceId: m[1]!, spanId: m[2]!, traceFlags: parseInt(m[3]!, 16), isRemote: true });
  },
  fields: () => ["traceparent"],
};

describe("tracingInterceptor", () => {
  beforeAll(() => propagation.setGlobalPropagator(w3c));
  afterAll(() => propagation.disable());

  function setup() {
    const spans: RecordedSpan[] = [];
    const tracer = recordingTracer(spans);
    const seenHeaders: (string | null)[] = [];
    const handlerContexts: Context[] = [];
    const transport = createRouterTransport(
      ({ service }) =>
        service(Health, {
          check(req, ctx) {
            seenHeaders.push(ctx.requestHeader.get("traceparent"));
            handlerContexts.push(ctx.values.get(traceContextKey));
            if (req.service === "broken") throw new ConnectError("store is corrupt", Code.Internal);
            if (req.service === "missing") throw new ConnectError("no such service", Code.NotFound);
            return { status: Status.SERVING };
          },
          async *watch() {
            yield { status: Status.SERVING };
          },
        }),
      {
        router: { interceptors: [tracingInterceptor({ side: "server", tracer })] },
        transport: { interceptors: [tracingInterceptor({ side: "client", tracer })] },
      },
    );
    return { spans, seenHeaders, handlerContexts, client: createClient(Health, transport) };
  }

  it("creates a client and a server span in one trace, passing traceparent", async () => {
    const { spans, seenHeaders, handlerContexts, client } = setup();
    await client.check({});
    expect(spans.map((s) => [s.name, s.kind])).toEqual([
      ["grpc.health.v1.Health/Check", 2 /* CLIENT */],
      ["grpc.health.v1.Health/Check", 1 /* SERVER */],
    ]);
    const [clientSpan, serverSpan] = spans as [RecordedSpan, RecordedSpan];
    expect(serverSpan.context.traceId).toBe(clientSpan.context.traceId);
    expect(serverSpan.parentSpanId).toBe(clientSpan.context.spanId);
    expect(seenHeaders).toEqual([`00-${clientSpan.context.traceId}-${clientSpan.context.spanId}-01`]);
    expect(trace.getSpanContext(handlerContexts[0]!)?.spanId).toBe(serverSpan.context.spanId);
    expect(serverSpan.attributes).toMatchObject({
      "rpc.system": "connect_rpc",
      "rpc.service": "grpc.health.v1.Health",
      "rpc.method": "Check",
      "rpc.grpc.status_code": 0,
    });
    expect(spans.every((s) => s.ended)).toBe(true);
  });

  it("marks server spans as errors only for server faults, client spans for every failure", async () => {
    const { spans, client } = setup();
    await expect(client.check({ service: "missing" })).rejects.toThrow();
    await expect(client.check({ service: "broken" })).rejects.toThrow();
    const [c1, s1, c2, s2] = spans as [RecordedSpan, RecordedSpan, RecordedSpan, RecordedSpan];
    expect(s1.attributes["rpc.grpc.status_code"]).toBe(Code.NotFound);
    expect(s1.status.code).toBe(SpanStatusCode.UNSET);
    expect(c1.status.code).toBe(SpanStatusCode.ERROR);
    expect(s2.status).toEqual({ code: SpanStatusCode.ERROR, message: "store is corrupt" });
    expect(c2.status.code).toBe(SpanStatusCode.ERROR);
  });

  it("ends a streaming span when the stream ends", async () => {
    const { spans, client } = setup();
    const stream = client.watch({});
    expect(spans.some((s) => s.ended)).toBe(false);
    for await (const _ of stream) {
      /* drain */
    }
    expect(spans).toHaveLength(2);
    expect(spans.every((s) => s.ended)).toBe(true);
  });

  it("starts a root span when the caller sent no trace context", async () => {
    const spans: RecordedSpan[] = [];
    const transport = createRouterTransport(({ service }) => service(Health, { check: () => ({ status: Status.SERVING }) }), {
      router: { interceptors: [tracingInterceptor({ side: "server", tracer: recordingTracer(spans) })] },
    });
    await createClient(Health, transport).check({});
    expect(spans).toHaveLength(1);
    expect(spans[0]?.parentSpanId).toBeUndefined();
  });
});
