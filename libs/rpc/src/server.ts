import http2 from "node:http2";
import type { Socket } from "node:net";
import type { AddressInfo } from "node:net";
import { setTimeout as delay } from "node:timers/promises";
import type { DescFile } from "@bufbuild/protobuf";
import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { healthv1, rpcstatus } from "@kne/proto";
import { loggingInterceptor, metricsInterceptor, tracingInterceptor, type Logger } from "@kne/telemetry";
import { createFastUnaryHandler, routeUnaryCallsAroundAdapter } from "./fast-unary-server";
import { createHealthService, type HealthService } from "./health";
import { answerOnAbortInterceptor, errorInterceptor } from "./interceptors";
import { createReflectionServices, DescriptorIndex, reflectionServices } from "./reflection";
import type { ServiceRegistration } from "./service-registration";

/** PEM material for TLS; with `requestClientCert`, clients must present a cert signed by `ca` (mTLS). */
export interface TlsOptions {
  cert: string | Buffer;
  key: string | Buffer;
  ca?: string | Buffer;
  requestClientCert?: boolean;
}

export interface ServerOptions {
  /** 0 picks a free port; the chosen one is reported back. */
  port: number;
  /** The address to bind; default 127.0.0.1, so nothing is exposed by accident. */
  host?: string;
  /** The application's services; health and reflection are added by the server. */
  services: readonly ServiceRegistration[];
  logger: Logger;
  /** Without TLS the server speaks HTTP/2 in cleartext (h2c, "prior knowledge"). */
  tls?: TlsOptions;
  /**
   * Run after the standard chain (tracing, logging, error translation), nearest the
   * handler: authInterceptor goes here, so rejected calls are logged and traced too.
   */
  interceptors?: readonly Interceptor[];
  /** More files for reflection to describe, beyond those of the services (e.g. Any payloads). */
  reflectionFiles?: readonly DescFile[];
  /** How long close() lets in-flight calls finish before cancelling them; default 5000 ms. */
  shutdownGraceMs?: number;
  /**
   * The largest request message accepted, in bytes (default 4 MiB, as gRPC servers): a
   * larger one fails with RESOURCE_EXHAUSTED naming both sizes.
   */
  readMaxBytes?: number;
  /**
   * Serve plain unary gRPC calls (HTTP/2, application/grpc[+proto], uncompressed) on a lean
   * path beside Connect's adapter: same interceptors, codes and metadata, a fraction of the
   * CPU per call (see fast-unary-server.ts). Default true; false sends every request
   * through the adapter.
   */
  fastUnary?: boolean;
  /**
   * Methods (`package.Service/Method`) whose successful calls are logged at debug rather
   * than info (high-rate calls their caller logs already); failures are logged as always.
   */
  quietMethods?: readonly string[];
}

export interface RunningServer {
  readonly port: number;
  /** Where clients connect, e.g. http://127.0.0.1:43123. */
  readonly url: string;
  readonly health: HealthService;
  /**
   * Stops accepting calls, marks health NOT_SERVING, lets in-flight calls finish within the
   * grace period, then cancels the rest (clients see UNAVAILABLE) and drops connections.
   * Idempotent.
   */
  close(): Promise<void>;
}

const defaultReadMaxBytes = 4 << 20;

/** Time for cancelled calls to send their final status before connections are cut. */
const cancelFlushMs = 200;

/**
 * Starts a Connect server on Node's HTTP/2 server: gRPC, gRPC-Web and the Connect protocol
 * on one port, with `grpc.health.v1.Health` and server reflection (v1 and v1alpha), so
 * grpc clients, `buf curl` and `grpcurl` work without local schemas.
 */
export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const { logger } = options;
  const host = options.host ?? "127.0.0.1";
  const graceMs = options.shutdownGraceMs ?? 5000;

  const services = [...options.services.map((s) => s.service), healthv1.Health, ...reflectionServices];
  const serviceNames = services.map((s) => s.typeName);
  const health = createHealthService(serviceNames);
  // google.rpc.BadRequest travels in error details: clients resolve it by reflection too.
  const reflection = createReflectionServices(
    new DescriptorIndex(services, [rpcstatus.file_google_rpc_error_details, ...(options.reflectionFiles ?? [])]),
  );
  const registrations = [...options.services, health.registration, ...reflection];

  const shutdown = new AbortController();
  const interceptors = [
    tracingInterceptor({ side: "server" }),
    metricsInterceptor(),
    loggingInterceptor(logger, { quietMethods: options.quietMethods }),
    errorInterceptor(logger),
    answerOnAbortInterceptor(),
    ...(options.interceptors ?? []),
  ];
  const readMaxBytes = options.readMaxBytes ?? defaultReadMaxBytes;
  const handler = connectNodeAdapter({
    routes(router) {
      for (const r of registrations) router.service(r.service, r.impl);
    },
    interceptors,
    shutdownSignal: shutdown.signal,
    readMaxBytes,
  });

  const server = options.tls
    ? http2.createSecureServer(
        {
          cert: options.tls.cert,
          key: options.tls.key,
          ca: options.tls.ca,
          requestCert: options.tls.requestClientCert ?? false,
          rejectUnauthorized: options.tls.requestClientCert ?? false,
          // Browsers and plain curl may speak HTTP/1.1 (gRPC-Web and Connect work over it).
          allowHTTP1: true,
        },
        handler,
      )
    : http2.createServer({}, handler);
  if (options.fastUnary ?? true) {
    const fast = createFastUnaryHandler({ registrations, interceptors, shutdownSignal: shutdown.signal, readMaxBytes });
    if (!routeUnaryCallsAroundAdapter(server, fast)) {
      logger.warn("the lean unary path is off: Node's http2 server no longer looks as expected (one compat 'stream' listener)");
    }
  }

  // http2.Server.close() waits for every open session, and clients keep theirs open:
  // track sessions and sockets so shutdown can end them.
  const sessions = new Set<http2.ServerHttp2Session>();
  const sockets = new Set<Socket>();
  server.on("session", (session) => {
    sessions.add(session);
    session.once("close", () => sessions.delete(session));
    session.on("error", (err) => logger.debug({ err }, "http2 session failed"));
  });
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });
  // A client speaking HTTP/1.1 to the cleartext port or a broken TLS handshake: the
  // client's problem, not worth more than a debug line.
  server.on("sessionError", (err) => logger.debug({ err }, "http2 session failed"));
  server.on("tlsClientError", (err) => logger.debug({ err }, "tls handshake failed"));

  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    server.once("error", onError);
    server.listen(options.port, host, () => {
      server.off("error", onError);
      resolve();
    });
  });
  server.on("error", (err) => logger.error({ err }, "server failed"));

  const port = (server.address() as AddressInfo).port;
  const url = `${options.tls ? "https" : "http"}://${urlHost(host)}:${port}`;
  logger.info({ url, services: serviceNames, tls: options.tls !== undefined }, "server started");

  const stop = async (): Promise<void> => {
    const started = performance.now();
    health.shutdown();
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    // GOAWAY: clients open no new streams; running calls go on until they finish.
    for (const session of sessions) session.close();
    const drained = await Promise.race([closed.then(() => true), delay(graceMs, false, { ref: false })]);
    if (!drained) {
      // What calls still running when the grace period ends answer: UNAVAILABLE, which
      // clients treat as "retry elsewhere".
      shutdown.abort(new ConnectError("the server is shutting down", Code.Unavailable));
      await Promise.race([closed, delay(cancelFlushMs, undefined, { ref: false })]);
      for (const session of sessions) session.destroy();
      for (const socket of sockets) socket.destroy();
      await closed;
    }
    logger.info(
      { url, durationMs: Math.round(performance.now() - started), cancelledCalls: !drained },
      "server stopped",
    );
  };
  let stopping: Promise<void> | undefined;

  return {
    port,
    url,
    health,
    close: () => (stopping ??= stop()),
  };
}

function urlHost(host: string): string {
  // A wildcard address is where the server listens, not where a client connects.
  if (host === "0.0.0.0" || host === "") return "127.0.0.1";
  if (host === "::") return "[::1]";
  return host.includes(":") ? `[${host}]` : host;
}
