/** `kne delete FILE|NAME` — remove a topology and everything made for it. */
import { parseArgs } from "node:util";
import { ExitCode, type CliIo } from "../cli-io";
import { reportError, topologyName } from "../cli-support";
import type { Command } from "../command";
import { connectionHelp, connectionOptions, withManager } from "../manager-client";
import { outputOption, parseOutputFormat, writeStructured } from "../output";
import { progressMode, verboseOption, watchProgress } from "../progress";
import { UsageError } from "../usage-error";

export const deleteCommand: Command = {
  words: ["delete"],
  summary: "Delete a topology and everything made for it",
  help: `Delete a topology: stop its processes (the supervisor first, then any recorded process
still alive), remove its namespaces, links and management interfaces, release its
management addresses (the host's kne-mgmt segment goes with the last topology), and remove its
state. It works after a crash too: what the state directory records and what carries the
topology's ownership markers in the kernel are both removed.

Usage:
  kne delete FILE|NAME [-v] [-o table|json|yaml]

Flags:
${connectionHelp}
  -v, --verbose         progress as a line per node and change (default: a live
                        status on a terminal, a line a second otherwise)
  -o, --output FORMAT   table (default: progress and a line on stderr), json or yaml
                        (only the result, {"name": ..., "deleted": true}, on stdout)
  -h, --help            Show this help

Exit status: 0 deleted, 1 no such topology (or removal failed), 2 wrong command line.

Examples:
  kne delete examples/frr-clos/topology.pb.txt
  kne delete frr-clos
`,
  async run(args: string[], io: CliIo) {
    const { values, positionals } = parseArgs({ args, options: { ...outputOption, ...verboseOption, ...connectionOptions }, allowPositionals: true, strict: true });
    if (positionals.length !== 1) throw new UsageError("delete takes one topology FILE or NAME");
    const output = parseOutputFormat(values.output);
    const name = await topologyName(positionals[0]!, io);
    return withManager(values, async (m) => {
      const started = Date.now();
      const mode = progressMode(io, values);
      if (mode !== "quiet") io.stderr.write(`deleting topology ${name} — ${m.where}\n`);
      const progress = watchProgress(m, io, mode, { verb: "deleting", topology: name, started });
      try {
        await m.topology.deleteTopology({ name }, { timeoutMs: 120_000 });
        await progress.stop(undefined, { succeeded: true });
        if (output !== "table") await writeStructured(io.stdout, output, { name, deleted: true });
        else io.stderr.write(`topology ${name} deleted (${((Date.now() - started) / 1000).toFixed(1)} s)\n`);
        return ExitCode.ok;
      } catch (error) {
        await progress.stop();
        return reportError("kne delete", error, io);
      }
    });
  },
};
