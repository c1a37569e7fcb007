import { ConnectError, type Interceptor } from "@connectrpc/connect";
import { metrics, type Histogram } from "@opentelemetry/api";
import { observeCall } from "./observe-stream";

/**
 * Buckets in milliseconds: from a fast unary call on loopback (sub-millisecond) to a
 * topology's creation (seconds to minutes).
 */
export const rpcDurationBucketsMs = [0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000, 30_000, 60_000, 300_000];

/**
 * Records `rpc.server.duration` (milliseconds, OpenTelemetry's RPC conventions) per call,
 * with `rpc.service`, `rpc.method` and `rpc.grpc.status_code`; a stream is recorded when it
 * ends. Uses the global meter provider: nothing is recorded until the process sets an SDK.
 */
export function metricsInterceptor(): Interceptor {
  let histogram: Histogram | undefined;
  return (next) => async (req) => {
    histogram ??= metrics.getMeter("@kne/telemetry").createHistogram("rpc.server.duration", {
      unit: "ms",
      description: "Duration of RPCs served, by service, method and gRPC status code",
      advice: { explicitBucketBoundaries: rpcDurationBucketsMs },
    });
    const recorder = histogram;
    const started = performance.now();
    const finish = (err?: unknown): void => {
      recorder.record(performance.now() - started, {
        "rpc.system": "connect_rpc",
        "rpc.service": req.service.typeName,
        "rpc.method": req.method.name,
        "rpc.grpc.status_code": err === undefined ? 0 : ConnectError.from(err).code,
      });
    };
    return observeCall(() => next(req), finish);
  };
}
