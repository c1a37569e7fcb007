/** A wrong command line: reported with a pointer to the command's help, exit status 2. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

/** node:util parseArgs throws TypeErrors with ERR_PARSE_ARGS_* codes for bad flags. */
export function isParseArgsError(error: unknown): error is Error {
  return error instanceof TypeError && typeof (error as NodeJS.ErrnoException).code === "string" && (error as NodeJS.ErrnoException).code!.startsWith("ERR_PARSE_ARGS");
}
