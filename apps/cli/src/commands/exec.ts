/** `kne exec NAME NODE -- CMD...` — run a command inside a node. */
import { parseArgs } from "node:util";
import { ExitCode, type CliIo } from "../cli-io";
import { parseDuration, reportError, topologyName } from "../cli-support";
import type { Command } from "../command";
import { connectionHelp, connectionOptions, withManager } from "../manager-client";
import { UsageError } from "../usage-error";

export const execCommand: Command = {
  words: ["exec"],
  summary: "Run a command inside a node and print its output",
  help: `Run a command inside a node's network namespace (argument array, no shell) and print
its output; kne exits with the command's exit status. In an FRR node, 'vtysh' talks to
that node's daemons (kne adds the node's --vty_socket). The command's standard input is
passed on when it is not a terminal. Output is printed when the command ends (this is not
an interactive session: for a shell use 'ip netns exec kne.TOPOLOGY.NODE bash').

Usage:
  kne exec NAME NODE [--timeout D] -- CMD [ARG...]

Flags:
      --timeout D       kill the command after this long (default 60s)
${connectionHelp}
  -h, --help            Show this help (put --help after '--' to ask CMD instead)

Exit status: the command's; 1 when it could not be run (no such node), 2 wrong command line.

Examples:
  kne exec frr-clos spine1 -- vtysh -c 'show bgp summary'
  kne exec frr-clos host1 -- ping -c 3 198.18.104.10
  kne exec host-3node h1 -- ip route
`,
  async run(args: string[], io: CliIo) {
    const dash = args.indexOf("--");
    const own = dash >= 0 ? args.slice(0, dash) : args;
    const command = dash >= 0 ? args.slice(dash + 1) : [];
    const { values, positionals } = parseArgs({ args: own, options: { ...connectionOptions, timeout: { type: "string" } }, allowPositionals: true, strict: true });
    if (positionals.length !== 2) throw new UsageError("exec needs NAME and NODE, then -- and the command");
    if (command.length === 0) throw new UsageError("no command given: put it after --");
    const timeoutMs = values.timeout !== undefined ? parseDuration(values.timeout, "--timeout") : 60_000;
    const name = await topologyName(positionals[0]!, io);
    const stdin = !process.stdin.isTTY && io.stdout === process.stdout ? await readStdin() : undefined;
    return withManager(values, async (m) => {
      try {
        const r = await m.node.execCommand({ topology: name, node: positionals[1]!, command, timeoutMs, ...(stdin ? { stdin } : {}) }, { timeoutMs: timeoutMs + 10_000 });
        io.stdout.write(Buffer.from(r.stdout).toString("utf8"));
        io.stderr.write(Buffer.from(r.stderr).toString("utf8"));
        return r.exitCode as ExitCode;
      } catch (error) {
        return reportError("kne exec", error, io);
      }
    });
  },
};

async function readStdin(): Promise<Uint8Array | undefined> {
  if (process.stdin.readableEnded) return undefined;
  const chunks: Buffer[] = [];
  const timer = setTimeout(() => process.stdin.destroy(), 50);
  try {
    for await (const chunk of process.stdin) {
      clearTimeout(timer);
      chunks.push(chunk as Buffer);
    }
  } catch {
    // stdin closed or not readable
  }
  clearTimeout(timer);
  return chunks.length > 0 ? new Uint8Array(Buffer.concat(chunks)) : undefined;
}
