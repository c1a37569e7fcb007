/**
 * The one place where Kubernetes API failures become gRPC codes. `KubeApiError` is a
 * ConnectError, so the layers above pass it through unchanged; the HTTP status and the
 * API's `Status.reason` stay on it for callers that branch on them (`isNotFound`, …).
 */
import { Code, ConnectError } from "@connectrpc/connect";

/** The body of a failed API call (`kind: Status`), as far as it is useful here. */
export interface KubeStatusBody {
  reason?: string;
  message?: string;
  details?: { name?: string; kind?: string; causes?: Array<{ field?: string; message?: string; reason?: string }> };
}

/** The gRPC code of an API answer: the status code first, refined by `Status.reason`. */
export function codeForKubeStatus(status: number, reason?: string): Code {
  if (reason === "AlreadyExists") return Code.AlreadyExists;
  if (reason === "Conflict") return Code.Aborted;
  if (reason === "Expired" || reason === "Gone") return Code.Aborted;
  if (reason === "Timeout" || reason === "ServerTimeout") return Code.Unavailable;
  if (reason === "TooManyRequests") return Code.ResourceExhausted;
  switch (status) {
    case 400:
    case 422:
      return Code.InvalidArgument;
    case 401:
      return Code.Unauthenticated;
    case 403:
      return Code.PermissionDenied;
    case 404:
      return Code.NotFound;
    case 405:
      return Code.Unimplemented;
    case 409:
      return Code.Aborted;
    case 410:
      return Code.Aborted;
    case 413:
    case 429:
      return Code.ResourceExhausted;
    case 504:
      return Code.DeadlineExceeded;
    default:
      return status >= 500 ? Code.Unavailable : Code.Unknown;
  }
}

/**
 * Keeps the name "ConnectError": Connect recognizes its errors by that name (not the
 * prototype), so a renamed subclass would reach clients as INTERNAL.
 */
export class KubeApiError extends ConnectError {
  // ConnectError's own check accepts any error named so; this one only its own instances.
  static override [Symbol.hasInstance](v: unknown): boolean {
    return typeof v === "object" && v !== null && Object.prototype.isPrototypeOf.call(KubeApiError.prototype, v);
  }

  constructor(
    readonly method: string,
    readonly path: string,
    readonly status: number,
    readonly body: KubeStatusBody,
  ) {
    const detail = body.details?.causes?.map((c) => (c.field ? `${c.field}: ${c.message}` : c.message)).filter(Boolean).join("; ");
    super(`kubernetes ${method} ${path}: ${status} ${body.reason ?? ""}: ${body.message ?? "no message"}${detail && !(body.message ?? "").includes(detail) ? ` (${detail})` : ""}`, codeForKubeStatus(status, body.reason));
  }
}

/** A connection-level failure (refused, reset, TLS) while talking to the API server. */
export function kubeTransportError(method: string, path: string, cause: unknown): ConnectError {
  return new ConnectError(`kubernetes ${method} ${path}: ${(cause as Error)?.message ?? String(cause)}`, Code.Unavailable, undefined, undefined, cause);
}

export function isNotFound(err: unknown): boolean {
  return err instanceof KubeApiError && err.status === 404;
}

export function isConflict(err: unknown): boolean {
  return err instanceof KubeApiError && err.status === 409;
}

/** Worth retrying: throttled, the server busy or starting (a new CRD's storage), or the connection. */
export function isRetriable(err: unknown): boolean {
  if (err instanceof KubeApiError) return err.status === 429 || err.status >= 500;
  return err instanceof ConnectError && err.code === Code.Unavailable;
}

export function isGone(err: unknown): boolean {
  return err instanceof KubeApiError && err.status === 410;
}
