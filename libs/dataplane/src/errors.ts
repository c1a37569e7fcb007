/**
 * Errors of the data plane. One base class carries a gRPC code name so the agent's RPC
 * edge can map it without knowing each subclass; `translateCommandFailure` is the one place
 * where `ip`/`tc`/`nft`/`sysctl` failures (exit code + stderr) become typed errors.
 */

/** gRPC status code names used by the data plane (the RPC edge maps them to numbers). */
export type DataplaneCode =
  | "INVALID_ARGUMENT"
  | "NOT_FOUND"
  | "ALREADY_EXISTS"
  | "PERMISSION_DENIED"
  | "FAILED_PRECONDITION"
  | "RESOURCE_EXHAUSTED"
  | "UNAVAILABLE"
  | "DEADLINE_EXCEEDED"
  | "INTERNAL";

/** What went wrong while talking to the kernel: the command and the object it was about. */
export interface CommandContext {
  /** argv of the process that ran, for example `["ip", "-n", "kne.t1.r1", "-batch", "-"]`. */
  command?: readonly string[];
  /** The batch line or script fragment that failed, when the process ran a batch. */
  line?: string;
  /** The kernel object concerned, for example `netns kne.t1.r1 dev eth1`. */
  object?: string;
  /** The tool's error output, trimmed. */
  stderr?: string;
  exitCode?: number;
}

export class DataplaneError extends Error {
  override readonly name: string = "DataplaneError";
  readonly command?: readonly string[];
  readonly line?: string;
  readonly object?: string;
  readonly stderr?: string;
  readonly exitCode?: number;

  constructor(
    readonly code: DataplaneCode,
    message: string,
    context: CommandContext = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.command = context.command;
    this.line = context.line;
    this.object = context.object;
    this.stderr = context.stderr;
    this.exitCode = context.exitCode;
  }
}

/** A name or value that must not reach the kernel (bad characters, too long, out of range). */
export class InvalidArgumentError extends DataplaneError {
  override readonly name = "InvalidArgumentError";
  constructor(
    message: string,
    /** Where in the request, for example `wires[3].a.ifname`. */
    readonly field?: string,
  ) {
    super("INVALID_ARGUMENT", field ? `${field}: ${message}` : message);
  }
}

/** Kernel features the data plane knows how to detect (see `probeKernelFeatures`). */
export type KernelFeature =
  | "veth"
  | "vxlan"
  | "macvlan"
  | "bridge"
  | "ifb"
  | "sch_tbf"
  | "sch_htb"
  | "sch_netem"
  | "nft_netdev_egress"
  | "nft_fwd";

/**
 * The request needs something this kernel (or host) does not have, for example a delay
 * impairment on a kernel without `sch_netem`. Never swallowed: the caller must learn that the
 * impairment is not in effect.
 */
export class KernelFeatureMissingError extends DataplaneError {
  override readonly name = "KernelFeatureMissingError";
  constructor(
    readonly feature: KernelFeature | string,
    /** What asked for it, for example `delay on kne.t1.r1/eth1`. */
    readonly requestedBy: string,
    context: CommandContext = {},
  ) {
    super(
      "FAILED_PRECONDITION",
      `kernel feature ${feature} is not available on this host (needed for ${requestedBy})`,
      context,
    );
  }
}

/** A required tool (`ip`, `tc`, `nft`, `nsenter`, `sysctl`) is not installed. */
export class ToolMissingError extends DataplaneError {
  override readonly name = "ToolMissingError";
  constructor(readonly tool: string) {
    super("FAILED_PRECONDITION", `command ${tool} was not found (install iproute2, nftables, util-linux, procps)`, {
      command: [tool],
    });
  }
}

/** The kernel refused: the object already exists (`File exists`). */
export class KernelObjectExistsError extends DataplaneError {
  override readonly name = "KernelObjectExistsError";
  constructor(message: string, context: CommandContext) {
    super("ALREADY_EXISTS", message, context);
  }
}

/** The kernel refused: the object (namespace, device, table, qdisc) does not exist. */
export class KernelObjectNotFoundError extends DataplaneError {
  override readonly name = "KernelObjectNotFoundError";
  constructor(message: string, context: CommandContext) {
    super("NOT_FOUND", message, context);
  }
}

/** The kernel refused for lack of privilege (not root, or missing CAP_NET_ADMIN / CAP_SYS_ADMIN). */
export class KernelPermissionError extends DataplaneError {
  override readonly name = "KernelPermissionError";
  constructor(message: string, context: CommandContext) {
    super("PERMISSION_DENIED", message, context);
  }
}

/** Any other failure of a kernel command; `code` says how a caller should treat it. */
export class KernelCommandError extends DataplaneError {
  override readonly name = "KernelCommandError";
}

/** The plan has problems that block part of it (for example a foreign device in the way). */
export class PlanConflictError extends DataplaneError {
  override readonly name = "PlanConflictError";
  constructor(readonly problems: readonly string[]) {
    super(
      "FAILED_PRECONDITION",
      problems.length === 1 ? problems[0]! : `${problems.length} problems:\n  ${problems.join("\n  ")}`,
    );
  }
}

/** Several operations failed in one pass; each failure keeps its own typed error. */
export class ApplyError extends DataplaneError {
  override readonly name = "ApplyError";
  constructor(readonly errors: readonly DataplaneError[]) {
    const first = errors[0];
    super(
      first?.code ?? "INTERNAL",
      errors.length === 1 ? first!.message : `${errors.length} kernel operations failed; first: ${first?.message}`,
      first ? { command: first.command, line: first.line, object: first.object, stderr: first.stderr } : {},
    );
  }
}

interface ErrorRule {
  pattern: RegExp;
  build: (summary: string, context: CommandContext) => DataplaneError;
}

// Order matters: the first matching rule wins. The texts are those printed by iproute2 6.x,
// nftables 1.0 and procps sysctl; netlink's extack message ("Error: ...") comes first when
// the kernel gives one.
const RULES: readonly ErrorRule[] = [
  { pattern: /File exists|already exists/i, build: (s, c) => new KernelObjectExistsError(s, c) },
  {
    pattern: /Specified qdisc kind is unknown|Unknown device type|Unknown qdisc|Could not find a matching qdisc|Protocol not supported|Operation not supported|Not supported/i,
    build: (s, c) => new KernelCommandError("FAILED_PRECONDITION", s, c),
  },
  {
    pattern: /Cannot find device|does not exist|No such device|No such file or directory|Cannot open network namespace|Cannot delete qdisc with handle of zero|Object not found|not found/i,
    build: (s, c) => new KernelObjectNotFoundError(s, c),
  },
  { pattern: /Operation not permitted|Permission denied/i, build: (s, c) => new KernelPermissionError(s, c) },
  {
    pattern: /No buffer space|Cannot allocate memory|Too many open files|No space left/i,
    build: (s, c) => new KernelCommandError("RESOURCE_EXHAUSTED", s, c),
  },
  { pattern: /Device or resource busy|Resource temporarily unavailable/i, build: (s, c) => new KernelCommandError("UNAVAILABLE", s, c) },
  {
    pattern: /Invalid argument|Numerical result out of range|is wrong|invalid|syntax error|Garbage instead of arguments|Error: argument/i,
    build: (s, c) => new KernelCommandError("INVALID_ARGUMENT", s, c),
  },
];

/** First meaningful line of a tool's error output, without the `RTNETLINK answers:` noise. */
export function summarizeStderr(stderr: string): string {
  const lines = stderr
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "" && !/^Command failed /.test(l) && !/^\^+$/.test(l));
  const first = lines[0] ?? "";
  return first.replace(/^RTNETLINK answers:\s*/, "").replace(/^Error:\s*/, "");
}

/**
 * Translates a failed kernel command into a typed error naming the command and the object.
 * `stderr` is the text the tool printed for this failure (for a batch: the lines before its
 * `Command failed -:N` marker).
 */
export function translateCommandFailure(context: CommandContext): DataplaneError {
  const stderr = (context.stderr ?? "").trim();
  const summary = summarizeStderr(stderr) || `exit code ${context.exitCode ?? "unknown"}`;
  const tool = context.command?.[0] ?? "command";
  const what = context.object ? ` (${context.object})` : "";
  const line = context.line ? `: ${context.line}` : "";
  const message = `${tool} failed${what}${line}: ${summary}`;
  const ctx: CommandContext = { ...context, stderr };
  for (const rule of RULES) {
    if (rule.pattern.test(stderr)) return rule.build(message, ctx);
  }
  return new KernelCommandError("INTERNAL", message, ctx);
}
