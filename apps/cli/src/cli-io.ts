/**
 * What a command may touch of the outside world, passed in rather than taken from
 * `process`, so that tests run commands in-process and read what they printed.
 */
export interface TextSink {
  write(text: string): unknown;
  /** A terminal (process.stderr has these): progress is drawn in place. */
  isTTY?: boolean;
  columns?: number;
}

export interface CliIo {
  stdout: TextSink;
  stderr: TextSink;
  /** The directory relative file arguments are relative to. */
  cwd: string;
}

/** The real process's streams and directory. */
export function processIo(): CliIo {
  return { stdout: process.stdout, stderr: process.stderr, cwd: process.cwd() };
}

/** Exit statuses: documented in `kne --help`, relied on by scripts. */
export const ExitCode = {
  ok: 0,
  /** The command ran and found a problem (an invalid topology, a file that cannot be read). */
  failure: 1,
  /** The command line itself is wrong (unknown command or flag, missing argument). */
  usage: 2,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];
