/** `kne logs NAME NODE` — what a node's processes wrote. */
import { parseArgs } from "node:util";
import { ExitCode, type CliIo } from "../cli-io";
import { reportError, topologyName } from "../cli-support";
import type { Command } from "../command";
import { connectionHelp, connectionOptions, withManager } from "../manager-client";
import { UsageError } from "../usage-error";

export const logsCommand: Command = {
  words: ["logs"],
  summary: "Print the output of a node's processes",
  help: `Print what a node's processes wrote (stdout and stderr, each line stamped with the time
and the process name), and the supervisor's notes about them: starts, exits, restarts.

Usage:
  kne logs NAME NODE [--tail N]

Flags:
      --tail N          only the last N lines
${connectionHelp}
  -h, --help            Show this help

Examples:
  kne logs frr-clos spine1
  kne logs frr-clos leaf1 --tail 20
`,
  async run(args: string[], io: CliIo) {
    const { values, positionals } = parseArgs({ args, options: { ...connectionOptions, tail: { type: "string" } }, allowPositionals: true, strict: true });
    if (positionals.length !== 2) throw new UsageError("logs needs NAME and NODE");
    const tail = values.tail !== undefined ? Number(values.tail) : 0;
    if (!Number.isInteger(tail) || tail < 0) throw new UsageError(`--tail must be a number of lines, got "${values.tail}"`);
    const name = await topologyName(positionals[0]!, io);
    return withManager(values, async (m) => {
      try {
        const r = await m.node.getNodeLogs({ topology: name, node: positionals[1]!, tailLines: tail });
        io.stdout.write(Buffer.from(r.logs).toString("utf8"));
        return ExitCode.ok;
      } catch (error) {
        return reportError("kne logs", error, io);
      }
    });
  },
};
