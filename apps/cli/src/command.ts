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

/**
 * A command as the registry lists it: what `kne --help` and dispatch need, and how to load
 * the command itself (its module is imported only when it runs or shows its help).
 */
export interface CommandEntry {
  words: readonly string[];
  summary: string;
  load(): Promise<Command>;
}

/** An entry for a command already in memory (tests). */
export function loadedEntry(command: Command): CommandEntry {
  return { words: command.words, summary: command.summary, load: async () => command };
}
