/**
 * Errors of topology handling. Every problem names where it is: the file, the 1-based
 * line and column when the input has them, and the field path in the topology
 * (for example `nodes[r1].interfaces[eth1].mtu`).
 */

/** Where a problem is. Line and column are 1-based; absent when unknown. */
export interface SourceLocation {
  file?: string;
  line?: number;
  col?: number;
}

/** One problem found in a topology. */
export interface Problem extends SourceLocation {
  /** Field path, for example `nodes[r1].config.file`; empty for the whole topology. */
  path: string;
  message: string;
}

/** Formats a problem as `file:line:col: path: message`. */
export function formatProblem(p: Problem): string {
  let where = p.file ?? "";
  if (p.line !== undefined) where += `${where ? ":" : ""}${p.line}${p.col !== undefined ? `:${p.col}` : ""}`;
  const parts = [where, p.path, p.message].filter((s) => s !== "");
  return parts.join(": ");
}

/** Input that could not be parsed (syntax, unknown field, wrong type). */
export class TopologyParseError extends Error {
  override readonly name = "TopologyParseError";
  constructor(readonly problem: Problem) {
    super(formatProblem(problem));
  }
}

/** A topology that parsed but is not valid; carries every problem found at once. */
export class TopologyValidationError extends Error {
  override readonly name = "TopologyValidationError";
  constructor(readonly problems: readonly Problem[]) {
    super(
      problems.length === 1
        ? formatProblem(problems[0]!)
        : `${problems.length} problems:\n${problems.map((p) => `  ${formatProblem(p)}`).join("\n")}`,
    );
  }
}
