/**
 * The manager's one error boundary. Backends and the service layer throw `ManagerError`
 * (a gRPC code name, a message, optional field violations); errors of the libraries the
 * manager uses (topology validation, vendors, data plane, agent) are translated here once,
 * by `toManagerConnectError`, and nowhere else.
 */
import { Code, ConnectError } from "@connectrpc/connect";
import { DataplaneError, InvalidArgumentError } from "@kne/dataplane";
import { type FieldViolation, invalidArgument, toConnectError } from "@kne/rpc";
import { type Problem, TopologyParseError, TopologyValidationError, formatProblem } from "@kne/topology";
import { VendorError } from "@kne/vendors";

export type ManagerCode =
  | "INVALID_ARGUMENT"
  | "NOT_FOUND"
  | "ALREADY_EXISTS"
  | "PERMISSION_DENIED"
  | "UNAUTHENTICATED"
  | "FAILED_PRECONDITION"
  | "RESOURCE_EXHAUSTED"
  | "UNIMPLEMENTED"
  | "UNAVAILABLE"
  | "DEADLINE_EXCEEDED"
  | "ABORTED"
  | "CANCELLED"
  | "INTERNAL";

const codes: Readonly<Record<string, Code>> = {
  INVALID_ARGUMENT: Code.InvalidArgument,
  NOT_FOUND: Code.NotFound,
  ALREADY_EXISTS: Code.AlreadyExists,
  PERMISSION_DENIED: Code.PermissionDenied,
  UNAUTHENTICATED: Code.Unauthenticated,
  FAILED_PRECONDITION: Code.FailedPrecondition,
  RESOURCE_EXHAUSTED: Code.ResourceExhausted,
  UNIMPLEMENTED: Code.Unimplemented,
  UNAVAILABLE: Code.Unavailable,
  DEADLINE_EXCEEDED: Code.DeadlineExceeded,
  ABORTED: Code.Aborted,
  CANCELLED: Code.Canceled,
  INTERNAL: Code.Internal,
};

export class ManagerError extends Error {
  override readonly name = "ManagerError";
  constructor(
    readonly code: ManagerCode,
    message: string,
    readonly violations: readonly FieldViolation[] = [],
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function notFound(message: string): ManagerError {
  return new ManagerError("NOT_FOUND", message);
}

export function failedPrecondition(message: string, field?: string): ManagerError {
  return new ManagerError("FAILED_PRECONDITION", message, field ? [{ field, description: message }] : []);
}

/** Field violations of topology problems, under the request field that carried the topology. */
export function problemViolations(problems: readonly Problem[], prefix = "topology"): FieldViolation[] {
  return problems.map((p) => ({
    field: p.path === "" ? prefix : `${prefix}.${p.path}`,
    description: p.line !== undefined || p.file ? formatProblem({ ...p, path: "" }) : p.message,
  }));
}

/** The gRPC code of any error the manager may see. */
export function toManagerConnectError(err: unknown, topologyField = "topology"): ConnectError {
  if (err instanceof ConnectError) return err;
  if (err instanceof ManagerError) {
    if (err.code === "INVALID_ARGUMENT") return invalidArgument(err.message, err.violations);
    const out = new ConnectError(err.message, codes[err.code] ?? Code.Internal, undefined, undefined, err);
    return out;
  }
  if (err instanceof TopologyValidationError) return invalidArgument("invalid topology", problemViolations(err.problems, topologyField));
  if (err instanceof TopologyParseError) return invalidArgument("invalid topology", problemViolations([err.problem], topologyField));
  if (err instanceof VendorError) {
    if (err.code === "INVALID_ARGUMENT") {
      return invalidArgument(err.message, err.field ? [{ field: `${topologyField}.${err.field}`, description: err.message }] : []);
    }
    return new ConnectError(err.message, codes[err.code] ?? Code.Internal, undefined, undefined, err);
  }
  if (err instanceof InvalidArgumentError) return invalidArgument(err.message, err.field ? [{ field: err.field, description: err.message }] : []);
  if (err instanceof DataplaneError) return new ConnectError(err.message, codes[err.code] ?? Code.Internal, undefined, undefined, err);
  return toConnectError(err);
}

/** Wraps an implementation method so every failure leaves as a ConnectError with a proper code. */
export async function guarded<T>(work: () => Promise<T>, topologyField = "topology"): Promise<T> {
  try {
    return await work();
  } catch (err) {
    throw toManagerConnectError(err, topologyField);
  }
}
