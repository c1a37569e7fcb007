/**
 * The `kne` command line: finds the command named by the leading words of argv and runs
 * it. Help, usage errors and exit statuses are handled here once for every command.
 */
import { ExitCode, type CliIo } from "./cli-io";
import type { CommandEntry } from "./command";
import { commands as allCommands } from "./commands";
import { isParseArgsError, UsageError } from "./usage-error";

const helpFlags = new Set(["-h", "--help"]);

function topLevelHelp(commands: readonly CommandEntry[]): string {
  const width = Math.max(...commands.map((c) => c.words.join(" ").length));
  const list = commands.map((c) => `  ${c.words.join(" ").padEnd(width)}   ${c.summary}`).join("\n");
  return `kne — Kubernetes Network Emulation: network topologies of routers and hosts, wired
together, for developing and testing network control planes without hardware.

Usage:
  kne COMMAND [flags]

Commands:
${list}

Flags:
  -h, --help      Show help (after a command: that command's help)
      --version   Same as 'kne version'

Exit status: 0 success, 1 the command failed (for example an invalid topology),
2 wrong command line.

Run 'kne COMMAND --help' for what a command does, its flags and examples.
`;
}

/** Commands under a group word (`kne topology`), for its help. */
function groupHelp(group: string, members: readonly CommandEntry[]): string {
  const width = Math.max(...members.map((c) => c.words.join(" ").length));
  return `Usage:
  kne ${group} COMMAND [flags]

Commands:
${members.map((c) => `  ${c.words.join(" ").padEnd(width)}   ${c.summary}`).join("\n")}

Run 'kne ${group} COMMAND --help' for details.
`;
}

/** The command whose words start argv, longest match first. */
function findCommand(commands: readonly CommandEntry[], argv: string[]): CommandEntry | undefined {
  return [...commands]
    .sort((a, b) => b.words.length - a.words.length)
    .find((command) => command.words.every((word, i) => argv[i] === word));
}

/**
 * `-o FORMAT` may come before the command (`kne -o json version`): it is taken off the
 * front and handed to the command, which rejects it if it has no output to format.
 */
function takeLeadingOutputFlag(args: string[]): string[] {
  const taken: string[] = [];
  while (args.length > 0) {
    const first = args[0]!;
    if ((first === "-o" || first === "--output") && args.length > 1) taken.push(...args.splice(0, 2));
    else if (first.startsWith("--output=") || (first.startsWith("-o") && first.length > 2)) taken.push(...args.splice(0, 1));
    else break;
  }
  return taken;
}

/** parseArgs explains itself at length; users need the flag's name. */
function usageMessage(error: Error): string {
  const unknown = /^Unknown option '([^']+)'/.exec(error.message);
  if (unknown) return `unknown flag ${unknown[1]}`;
  const missing = /^Option '([^']+)' argument missing/.exec(error.message);
  if (missing) return `${missing[1]} needs a value`;
  return error.message;
}

/** Runs `kne` with argv (without `node` and the script) and returns the exit status. */
export async function run(argv: readonly string[], io: CliIo, commands: readonly CommandEntry[] = allCommands): Promise<ExitCode> {
  const args = [...argv];
  if (args.length === 0) {
    io.stderr.write(topLevelHelp(commands));
    return ExitCode.usage;
  }
  if (helpFlags.has(args[0]!) || args[0] === "help") {
    const target = args[0] === "help" ? findCommand(commands, args.slice(1)) : undefined;
    io.stdout.write(target ? (await target.load()).help : topLevelHelp(commands));
    return ExitCode.ok;
  }
  if (args[0] === "--version") args[0] = "version";
  const global = takeLeadingOutputFlag(args);

  const entry = findCommand(commands, args);
  if (!entry) {
    const members = commands.filter((c) => c.words.length > 1 && c.words[0] === args[0]);
    if (members.length > 0 && (args.length === 1 || helpFlags.has(args[1]!))) {
      // `kne topology` alone: show what it groups.
      (args.length === 1 ? io.stderr : io.stdout).write(groupHelp(args[0]!, members));
      return args.length === 1 ? ExitCode.usage : ExitCode.ok;
    }
    const known = members.length > 0 ? `kne ${args[0]} ${args[1]}` : `kne ${args[0]}`;
    io.stderr.write(`kne: unknown command "${known.slice(4)}"\nRun 'kne --help' for the list of commands.\n`);
    return ExitCode.usage;
  }

  const rest = [...args.slice(entry.words.length), ...global];
  const name = `kne ${entry.words.join(" ")}`;
  const command = await entry.load();
  if (rest.some((arg) => helpFlags.has(arg))) {
    io.stdout.write(command.help);
    return ExitCode.ok;
  }
  try {
    return await command.run(rest, io);
  } catch (error) {
    if (error instanceof UsageError || isParseArgsError(error)) {
      io.stderr.write(`${name}: ${usageMessage(error)}\nRun '${name} --help' for usage.\n`);
      return ExitCode.usage;
    }
    // A failure the command did not expect: say so plainly rather than print a stack to users.
    io.stderr.write(`${name}: ${error instanceof Error ? error.message : String(error)}\n`);
    if (process.env["KNE_DEBUG"] && error instanceof Error && error.stack) io.stderr.write(`${error.stack}\n`);
    return ExitCode.failure;
  }
}
