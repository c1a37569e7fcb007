/**
 * @kne/rpc — how every KNE process serves its gRPC APIs.
 *
 * - `startServer`: Connect on Node's HTTP/2 server (h2c, or TLS/mTLS): gRPC, gRPC-Web and
 *   Connect on one port, plus `grpc.health.v1.Health` and server reflection (v1, v1alpha).
 *   Every call passes tracing → logging → error translation → the caller's interceptors
 *   (e.g. `authInterceptor`). `close()` never hangs: in-flight calls get a grace period,
 *   then are cancelled with UNAVAILABLE.
 * - Errors: `toConnectError` is the one translation of foreign errors (errno, aborts) into
 *   gRPC codes; `invalidArgument` attaches `google.rpc.BadRequest` field violations.
 * - Plain unary gRPC calls take a lean path on both ends: `startServer` answers them from
 *   the raw HTTP/2 stream (same interceptors, codes and metadata as Connect's adapter;
 *   `fastUnary: false` turns it off), and `createFastGrpcTransport` is a client transport
 *   whose unary calls use one raw HTTP/2 session (streams go through connect-node).
 * - Process plumbing for the apps: `runServerCommand` (flags, --help, logger, server,
 *   SIGINT/SIGTERM) built from `parseServerFlags`, `serverHelp` and `closeOnSignals`; and
 *   `notImplementedService` for methods whose implementation has not landed yet.
 */
export { startServer } from "./server";
export type { ServerOptions, RunningServer, TlsOptions } from "./server";
export { serviceRegistration } from "./service-registration";
export type { ServiceRegistration } from "./service-registration";
export { createHealthService, ServingStatus } from "./health";
export type { HealthService } from "./health";
export { createReflectionServices, DescriptorIndex, reflectionServices } from "./reflection";
export type { ReflectionQuery, ReflectionAnswer } from "./reflection";
export { toConnectError, invalidArgument, fieldViolationsOf } from "./errors";
export type { FieldViolation } from "./errors";
export { errorInterceptor, authInterceptor, isMutatingMethod } from "./interceptors";
export type { AuthOptions } from "./interceptors";
export { notImplementedService } from "./not-implemented";
export { runServerCommand, parseServerFlags, parseServerCommandLine, serverHelp, closeOnSignals, FlagError } from "./server-main";
export type { ServerCommand, ServerFlags, ServerOptionNames, ProcessIo } from "./server-main";
export { createFastGrpcTransport } from "./fast-grpc-transport";
export { createDirectTransport } from "./direct-transport";
export type { DirectTransportOptions } from "./direct-transport";
export type { FastGrpcTransport, FastGrpcTransportOptions } from "./fast-grpc-transport";
