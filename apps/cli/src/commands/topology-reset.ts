/** `kne topology reset NAME [NODE] [--push]` — return nodes to their boot config. */
import { parseArgs } from "node:util";
import { ExitCode, type CliIo } from "../cli-io";
import { reportError, topologyName } from "../cli-support";
import type { Command } from "../command";
import { connectionHelp, connectionOptions, withManager } from "../manager-client";
import { UsageError } from "../usage-error";

export const topologyResetCommand: Command = {
  words: ["topology", "reset"],
  summary: "Return a node (or every node) to its boot config",
  help: `Return a running node to its boot config (from the topology), or every node when no
NODE is given (nodes whose vendor cannot reset are skipped then; named alone they answer
UNIMPLEMENTED). FRR computes the difference with frr-reload and applies it, removals
included, without restarting daemons. With --push the boot config is pushed again after
the reset.

Usage:
  kne topology reset NAME [NODE] [--push]

Flags:
      --push            push the boot config after the reset
${connectionHelp}
  -h, --help            Show this help

Examples:
  kne topology reset frr-clos leaf1
  kne topology reset frr-clos --push
`,
  async run(args: string[], io: CliIo) {
    const { values, positionals } = parseArgs({ args, options: { ...connectionOptions, push: { type: "boolean" } }, allowPositionals: true, strict: true });
    if (positionals.length < 1 || positionals.length > 2) throw new UsageError("topology reset needs NAME and optionally NODE");
    const name = await topologyName(positionals[0]!, io);
    return withManager(values, async (m) => {
      try {
        await m.node.resetConfig({ topology: name, node: positionals[1] ?? "", push: values.push ?? false });
        io.stderr.write(`reset ${positionals[1] ? `${name}/${positionals[1]}` : `every node of ${name}`} to its boot config\n`);
        return ExitCode.ok;
      } catch (error) {
        return reportError("kne topology reset", error, io);
      }
    });
  },
};
