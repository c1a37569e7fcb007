/**
 * Errors of vendor resolution and of vendor runtimes. One base class carries a gRPC code
 * name, so the manager's RPC edge maps every one of them without knowing the subclasses;
 * `field` (when set) is the topology field path the problem is about.
 */

/** gRPC status code names used here (the RPC edge maps them to numbers). */
export type VendorErrorCode =
  | "INVALID_ARGUMENT"
  | "FAILED_PRECONDITION"
  | "UNIMPLEMENTED"
  | "UNAVAILABLE"
  | "DEADLINE_EXCEEDED"
  | "INTERNAL";

export class VendorError extends Error {
  override readonly name: string = "VendorError";
  constructor(
    readonly code: VendorErrorCode,
    message: string,
    /** Field path in the topology, for example `nodes[r1].model`. */
    readonly field?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The node's vendor is not in the registry. */
export class UnsupportedVendorError extends VendorError {
  override readonly name = "UnsupportedVendorError";
  constructor(
    readonly vendor: string,
    readonly supported: readonly string[],
    field?: string,
  ) {
    super("INVALID_ARGUMENT", `vendor ${vendor} is not supported; supported vendors: ${supported.join(", ")}`, field);
  }
}

/** The node's model is not one its vendor knows (or the vendor needs a model and got none). */
export class UnsupportedModelError extends VendorError {
  override readonly name = "UnsupportedModelError";
  constructor(
    readonly vendor: string,
    readonly model: string,
    readonly supported: readonly string[],
    field?: string,
  ) {
    super(
      "INVALID_ARGUMENT",
      model === ""
        ? `vendor ${vendor} needs a model; supported models: ${supported.join(", ")}`
        : `vendor ${vendor} has no model "${model}"; supported models: ${supported.join(", ")}`,
      field,
    );
  }
}

/** The vendor exists but cannot run on this backend. */
export class BackendRequiredError extends VendorError {
  override readonly name = "BackendRequiredError";
  constructor(
    readonly vendor: string,
    readonly model: string | undefined,
    readonly backend: string,
    reason: string,
    readonly localVendors: readonly string[],
    field?: string,
  ) {
    super(
      "FAILED_PRECONDITION",
      `vendor ${vendor}${model ? ` (model ${model})` : ""} needs the ${backend} backend: ${reason}; ` +
        `the local backend runs ${localVendors.join(", ")}`,
      field,
    );
  }
}

/** The vendor has no such operation (push, reset, save) — UNIMPLEMENTED, as upstream answers. */
export class UnsupportedOperationError extends VendorError {
  override readonly name = "UnsupportedOperationError";
  constructor(
    readonly vendor: string,
    readonly operation: string,
  ) {
    super("UNIMPLEMENTED", `vendor ${vendor} does not support ${operation} on the local backend`);
  }
}

/** A config the vendor's own checker rejected, before anything was applied. */
export class ConfigRejectedError extends VendorError {
  override readonly name = "ConfigRejectedError";
  constructor(
    readonly node: string,
    readonly problems: string,
    what = "config",
  ) {
    super("INVALID_ARGUMENT", `node ${node}: ${what} rejected: ${problems}`);
  }
}

/** A command inside the node failed (exit code and output kept for logs). */
export class NodeCommandError extends VendorError {
  override readonly name = "NodeCommandError";
  constructor(
    readonly node: string,
    readonly argv: readonly string[],
    readonly exitCode: number,
    readonly output: string,
    doing: string,
    code: VendorErrorCode = "INTERNAL",
  ) {
    super(code, `node ${node}: ${doing} failed (${argv[0] ?? "command"} exited ${exitCode}): ${output || "no output"}`);
  }
}

/** What a runtime needs on this machine is missing or unusable (a binary, a path too long). */
export class LocalPreconditionError extends VendorError {
  override readonly name = "LocalPreconditionError";
  constructor(message: string, field?: string) {
    super("FAILED_PRECONDITION", message, field);
  }
}

/** A node cannot be turned into Kubernetes objects; names the topology and the field. */
export class KubeObjectsError extends VendorError {
  override readonly name = "KubeObjectsError";
  constructor(
    readonly topology: string,
    field: string,
    readonly problem: string,
  ) {
    super("INVALID_ARGUMENT", `topology ${topology}: ${field}: ${problem}`, field);
  }
}

/** Keeps the useful end of a tool's output for an error message. */
export function summarizeOutput(text: string, maxLines = 12): string {
  const lines = text
    .split("\n")
    .map((l) => l.trimEnd())
    .filter((l) => l.trim() !== "");
  const kept = lines.length > maxLines ? ["…", ...lines.slice(-maxLines)] : lines;
  return kept.join("\n");
}
