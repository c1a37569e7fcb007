import { createHash, timingSafeEqual } from "node:crypto";
import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { MethodOptions_IdempotencyLevel } from "@bufbuild/protobuf/wkt";
import type { DescMethod } from "@bufbuild/protobuf";
import { grpcCodeName, type Logger } from "@kne/telemetry";
import { toConnectError } from "./errors";

/**
 * Turns whatever a handler throws into a ConnectError (see toConnectError), so clients
 * always get a meaningful gRPC code instead of UNKNOWN. A foreign error is logged here,
 * once, with its stack; ConnectErrors were thrown on purpose and pass unlogged.
 */
export function errorInterceptor(logger: Logger): Interceptor {
  return (next) => async (req) => {
    const method = `${req.service.typeName}/${req.method.name}`;
    const translate = (err: unknown): ConnectError => {
      if (err instanceof ConnectError) return err;
      const translated = toConnectError(err);
      logger.error({ method, code: grpcCodeName(translated.code), err }, "handler threw a foreign error");
      return translated;
    };
    try {
      const res = await next(req);
      if (!res.stream) return res;
      return { ...res, message: translateStreamErrors(res.message, translate) };
    } catch (err) {
      throw translate(err);
    }
  };
}

async function* translateStreamErrors<T>(stream: AsyncIterable<T>, translate: (err: unknown) => ConnectError): AsyncIterable<T> {
  try {
    yield* stream;
  } catch (err) {
    throw translate(err);
  }
}

export interface AuthOptions {
  /** The bearer token callers must present in `Authorization: Bearer <token>`. */
  token: string;
  /** Which methods need the token; the default is {@link isMutatingMethod}. */
  isMutating?: (method: DescMethod) => boolean;
}

/**
 * Read-only by declaration (`option idempotency_level = NO_SIDE_EFFECTS`) or by name
 * (Get, List, Watch, Show, Check, and the reflection stream); everything else changes state.
 */
export function isMutatingMethod(method: DescMethod): boolean {
  if (method.idempotency === MethodOptions_IdempotencyLevel.NO_SIDE_EFFECTS) return false;
  return !/^(Get|List|Watch|Show|Check|ServerReflectionInfo)(?![a-z])/.test(method.name);
}

/**
 * Requires a bearer token for mutating methods; reads stay open so health probes,
 * reflection and dashboards need no secret. Answers UNAUTHENTICATED, never saying
 * whether a token was wrong or missing beyond what the caller already knows.
 */
export function authInterceptor(options: AuthOptions): Interceptor {
  if (options.token === "") throw new Error("authInterceptor: the token must not be empty");
  const isMutating = options.isMutating ?? isMutatingMethod;
  // Comparing digests keeps the comparison constant-time whatever the presented length.
  const expected = digest(options.token);
  return (next) => async (req) => {
    if (!isMutating(req.method)) return next(req);
    const header = req.header.get("authorization");
    if (header === null) {
      throw new ConnectError(`${req.method.name} changes state and needs "authorization: Bearer <token>"`, Code.Unauthenticated);
    }
    const match = /^Bearer\s+(.+)$/i.exec(header.trim());
    if (match === null || !timingSafeEqual(digest(match[1] ?? ""), expected)) {
      throw new ConnectError("the bearer token was not accepted", Code.Unauthenticated);
    }
    return next(req);
  };
}

function digest(token: string): Buffer {
  return createHash("sha256").update(token).digest();
}

/**
 * Answers a call as soon as its signal aborts (server shutdown, deadline, client gone)
 * even if the handler ignores the signal: a client then hears UNAVAILABLE from a server
 * going away (and retries elsewhere) instead of a bare stream reset. The handler's late
 * result is dropped.
 */
export function answerOnAbortInterceptor(): Interceptor {
  return (next) => async (req) => {
    const res = await untilAborted(req.signal, next(req));
    if (!res.stream) return res;
    return { ...res, message: streamUntilAborted(req.signal, res.message) };
  };
}

/** A fresh error per call: the abort reason is shared by every call the signal covers. */
function abortError(signal: AbortSignal): ConnectError {
  const reason = ConnectError.from(signal.reason, Code.Canceled);
  return new ConnectError(reason.rawMessage, reason.code, undefined, undefined, signal.reason);
}

function untilAborted<T>(signal: AbortSignal, work: Promise<T>): Promise<T> {
  if (signal.aborted) {
    work.catch(() => undefined);
    return Promise.reject(abortError(signal));
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(abortError(signal));
    signal.addEventListener("abort", onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

async function* streamUntilAborted<T>(signal: AbortSignal, stream: AsyncIterable<T>): AsyncIterable<T> {
  const it = stream[Symbol.asyncIterator]();
  try {
    for (;;) {
      const r = await untilAborted(signal, it.next());
      if (r.done === true) return;
      yield r.value;
    }
  } finally {
    // Let the handler's generator run its cleanup; its outcome no longer matters.
    void it.return?.()?.catch(() => undefined);
  }
}
