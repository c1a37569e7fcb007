/** `kne apply FILE` — change a running topology to match the file: add and remove nodes and links. */
import { parseArgs } from "node:util";
import { create } from "@bufbuild/protobuf";
import { managerv1 } from "@kne/proto";
import { ExitCode, type CliIo } from "../cli-io";
import { loadForManager, parseDuration, protoJson, reportError } from "../cli-support";
import type { Command } from "../command";
import { connectionHelp, connectionOptions, withManager } from "../manager-client";
import { formatTable, outputOption, parseOutputFormat, writeStructured } from "../output";
import { progressMode, verboseOption, watchProgress } from "../progress";
import { UsageError } from "../usage-error";

export const applyCommand: Command = {
  words: ["apply"],
  summary: "Apply a changed topology file to the running topology (add/remove nodes and links)",
  help: `Apply a changed topology file to the running topology of the same name: nodes and
links that are new are added (and their nodes started and waited for), those no longer in
the file are removed, and nothing else is touched — links and sessions that did not change
never flap. A node or link changed in place is refused: remove it in one apply and add it
back in the next, or use 'kne link set' / 'kne link impair' for link state and impairments.

Usage:
  kne apply FILE [--dryrun] [--timeout 5m] [-o table|json|yaml]

Flags:
      --dryrun          show the changes; make none
      --timeout D       fail when added nodes are not ready by then (default 5m)
  -v, --verbose         progress as a line per node and change (default: a live
                        status on a terminal, a line a second otherwise)
  -o, --output FORMAT   table (default), json or yaml (the result only: no progress)
${connectionHelp}
  -h, --help            Show this help

Exit status: 0 applied (or nothing to do), 1 refused or failed, 2 wrong command line.

Examples:
  kne apply examples/frr-clos/topology-5leaves.pb.txt --dryrun
  kne apply examples/frr-clos/topology-5leaves.pb.txt
`,
  async run(args: string[], io: CliIo) {
    const { values, positionals } = parseArgs({
      args,
      options: { ...outputOption, ...verboseOption, ...connectionOptions, dryrun: { type: "boolean" }, timeout: { type: "string" } },
      allowPositionals: true,
      strict: true,
    });
    const output = parseOutputFormat(values.output);
    if (positionals.length !== 1) throw new UsageError("apply takes exactly one topology FILE");
    const timeoutMs = values.timeout !== undefined ? parseDuration(values.timeout, "--timeout") : 5 * 60_000;
    const input = await loadForManager(positionals[0]!, io);
    if (!input) return ExitCode.failure;
    return withManager(values, async (m) => {
      const started = Date.now();
      const progress = watchProgress(m, io, values.dryrun ? "quiet" : progressMode(io, values), { verb: "applying", topology: input.topology.name, started });
      try {
        const r = await m.topology.updateTopology(
          { topology: input.topology, dryRun: values.dryrun ?? false, baseDir: input.loaded.baseDir ?? "", timeout: { seconds: BigInt(Math.ceil(timeoutMs / 1000)), nanos: 0 } },
          { timeoutMs: timeoutMs + 30_000 },
        );
        await progress.stop(r.status?.nodes);
        if (output !== "table") {
          await writeStructured(io.stdout, output, protoJson(managerv1.UpdateTopologyResponseSchema, create(managerv1.UpdateTopologyResponseSchema, r)));
        } else if (r.changes.length === 0) {
          io.stdout.write(`topology ${input.topology.name}: nothing to change\n`);
        } else {
          const rows = [["CHANGE", "KIND", "NAME", "DETAIL"]];
          for (const c of r.changes) rows.push([(managerv1.Change_Action[c.action] ?? "").toLowerCase(), c.kind, c.name, c.detail]);
          io.stdout.write(formatTable(rows));
          io.stderr.write(`${values.dryrun ? "would apply" : "applied"} ${r.changes.length} changes to ${input.topology.name}${values.dryrun ? "" : ` (${((Date.now() - started) / 1000).toFixed(1)} s)`}\n`);
        }
        return ExitCode.ok;
      } catch (error) {
        await progress.stop();
        return reportError("kne apply", error, io);
      }
    });
  },
};
