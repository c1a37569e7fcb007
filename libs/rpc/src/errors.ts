import { Code, ConnectError } from "@connectrpc/connect";
import { rpcstatus } from "@kne/proto";

/** One bad field of a request: a path into the request and why it is bad. */
export interface FieldViolation {
  /** A field path such as `topology.nodes[r1].interfaces[eth1]`. */
  field: string;
  description: string;
}

/**
 * errno codes of Node's system errors and the gRPC code that tells a caller the same thing.
 * Anything not listed is INTERNAL: an errno we did not anticipate is our fault, not the caller's.
 */
const errnoCodes: Readonly<Record<string, Code>> = {
  ENOENT: Code.NotFound,
  ENOTDIR: Code.NotFound,
  EEXIST: Code.AlreadyExists,
  EPERM: Code.PermissionDenied,
  EACCES: Code.PermissionDenied,
  ETIMEDOUT: Code.DeadlineExceeded,
  ECONNREFUSED: Code.Unavailable,
  ECONNRESET: Code.Unavailable,
  EHOSTUNREACH: Code.Unavailable,
  ENETUNREACH: Code.Unavailable,
  ENOSPC: Code.ResourceExhausted,
  EMFILE: Code.ResourceExhausted,
  ENFILE: Code.ResourceExhausted,
};

/**
 * Translates any thrown value into a ConnectError with a gRPC code. The one place where
 * foreign errors (Node system errors, aborts, plain Errors) meet the RPC boundary; the
 * original error stays reachable as `cause` for logs.
 */
export function toConnectError(err: unknown): ConnectError {
  if (err instanceof ConnectError) return err;
  if (err instanceof Error) {
    if (err.name === "AbortError") return new ConnectError(err.message, Code.Canceled, undefined, undefined, err);
    if (err.name === "TimeoutError") return new ConnectError(err.message, Code.DeadlineExceeded, undefined, undefined, err);
    const errno = errnoOf(err);
    if (errno !== undefined) {
      return new ConnectError(err.message, errnoCodes[errno] ?? Code.Internal, undefined, undefined, err);
    }
    return new ConnectError(err.message, Code.Internal, undefined, undefined, err);
  }
  return new ConnectError(String(err), Code.Internal, undefined, undefined, err);
}

/** The errno name (`ENOENT`) of a Node system error, if it is one. */
function errnoOf(err: Error): string | undefined {
  const code = (err as NodeJS.ErrnoException).code;
  return typeof code === "string" && /^E[A-Z0-9]+$/.test(code) ? code : undefined;
}

/**
 * An INVALID_ARGUMENT error that names the bad fields twice: in the message, for clients
 * that show only the message, and as `google.rpc.BadRequest` field violations in the error
 * details, for clients that act on them (buf curl and grpcurl print both).
 */
export function invalidArgument(message: string, violations: readonly FieldViolation[] = []): ConnectError {
  const text =
    violations.length === 0 ? message : `${message}: ${violations.map((v) => `${v.field}: ${v.description}`).join("; ")}`;
  return new ConnectError(text, Code.InvalidArgument, undefined, [
    {
      desc: rpcstatus.BadRequestSchema,
      value: { fieldViolations: violations.map((v) => ({ field: v.field, description: v.description })) },
    },
  ]);
}

/** The field violations carried by an error's `google.rpc.BadRequest` details, if any. */
export function fieldViolationsOf(err: ConnectError): FieldViolation[] {
  return err
    .findDetails(rpcstatus.BadRequestSchema)
    .flatMap((d) => d.fieldViolations.map((v) => ({ field: v.field, description: v.description })));
}
