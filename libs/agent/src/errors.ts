/**
 * The agent's one error boundary: data plane errors (which carry gRPC code names) and the
 * agent's own refusals become `ConnectError`s here, and nowhere else. Bad input keeps its
 * field path as a `google.rpc.BadRequest` violation (through `invalidArgument`).
 */
import { Code, ConnectError } from "@connectrpc/connect";
import { ApplyError, type DataplaneCode, DataplaneError, InvalidArgumentError } from "@kne/dataplane";
import { invalidArgument, toConnectError } from "@kne/rpc";

const codes: Readonly<Record<DataplaneCode, Code>> = {
  INVALID_ARGUMENT: Code.InvalidArgument,
  NOT_FOUND: Code.NotFound,
  ALREADY_EXISTS: Code.AlreadyExists,
  PERMISSION_DENIED: Code.PermissionDenied,
  FAILED_PRECONDITION: Code.FailedPrecondition,
  RESOURCE_EXHAUSTED: Code.ResourceExhausted,
  UNAVAILABLE: Code.Unavailable,
  DEADLINE_EXCEEDED: Code.DeadlineExceeded,
  INTERNAL: Code.Internal,
};

/** The agent refuses a request, or cannot serve it, for a reason with a gRPC code. */
export class AgentError extends Error {
  override readonly name = "AgentError";
  constructor(
    readonly code: Code,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * Translates anything thrown while serving a call into a ConnectError. Bad fields (the data
 * plane's validators are called with request field paths) become BadRequest violations;
 * several failures of one pass (`ApplyError`) answer with the first one's code and list all.
 */
export function toAgentConnectError(err: unknown): ConnectError {
  if (err instanceof ConnectError) return err;
  if (err instanceof AgentError) return new ConnectError(err.message, err.code, undefined, undefined, err);
  if (err instanceof InvalidArgumentError) {
    const field = err.field ?? "";
    const description = field !== "" && err.message.startsWith(`${field}: `) ? err.message.slice(field.length + 2) : err.message;
    return invalidArgument("invalid request", [{ field, description }]);
  }
  if (err instanceof ApplyError && err.errors.length > 1) {
    return new ConnectError(`${err.errors.length} problems: ${err.errors.map((e) => e.message).join("; ")}`, codes[err.code], undefined, undefined, err);
  }
  if (err instanceof DataplaneError) return new ConnectError(err.message, codes[err.code], undefined, undefined, err);
  return toConnectError(err);
}

/** The gRPC code a data plane code name stands for. */
export function codeOf(code: DataplaneCode): Code {
  return codes[code];
}
