/** The shape every `kne` command has; main dispatches on `words`. */
import type { CliIo, ExitCode } from "./cli-io";

export interface Command {
  /** The words that select it, for example ["topology", "validate"]. */
  words: readonly string[];
  /** One line for the command list in `kne --help`. */
  summary: string;
  /** The full `--help` text: usage, what it does, flags, examples. */
  help: string;
  /** Runs with the arguments after the command words. Throws UsageError for a wrong command line. */
  run(args: string[], io: CliIo): Promise<ExitCode>;
}
