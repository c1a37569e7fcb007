/**
 * @kne/cli — the `kne` command. `run(argv, io)` runs a command line with injectable
 * output streams; bin/kne.mjs runs it for real.
 */
export { run } from "./run";
export { ExitCode, processIo, type CliIo, type TextSink } from "./cli-io";
export { loadedEntry, type Command, type CommandEntry } from "./command";
export { commands } from "./commands";
