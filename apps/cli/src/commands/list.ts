/** `kne list` — the topologies the manager knows. */
import { parseArgs } from "node:util";
import { create } from "@bufbuild/protobuf";
import { managerv1 } from "@kne/proto";
import { ExitCode, type CliIo } from "../cli-io";
import { protoJson, reportError } from "../cli-support";
import type { Command } from "../command";
import { connectionHelp, connectionOptions, withManager } from "../manager-client";
import { formatTable, outputOption, parseOutputFormat, writeStructured } from "../output";
import { phaseName } from "../progress";
import { UsageError } from "../usage-error";

export const listCommand: Command = {
  words: ["list"],
  summary: "List topologies with their phase and size",
  help: `List the topologies the manager knows, with their phase, how many nodes are ready,
their link count and the backend running them.

Usage:
  kne list [-o table|json|yaml]

Flags:
  -o, --output FORMAT   table (default), json or yaml
${connectionHelp}
  -h, --help            Show this help

Examples:
  kne list
  kne list -o json
`,
  async run(args: string[], io: CliIo) {
    const { values, positionals } = parseArgs({ args, options: { ...outputOption, ...connectionOptions }, allowPositionals: true, strict: true });
    const output = parseOutputFormat(values.output);
    if (positionals.length > 0) throw new UsageError("list takes no arguments");
    return withManager(values, async (m) => {
      try {
        const r = await m.topology.listTopologies({});
        if (output !== "table") {
          await writeStructured(io.stdout, output, protoJson(managerv1.ListTopologiesResponseSchema, create(managerv1.ListTopologiesResponseSchema, r)));
        } else if (r.topologies.length === 0) {
          io.stderr.write("no topologies\n");
        } else {
          const rows = [["NAME", "PHASE", "READY", "LINKS", "BACKEND"]];
          for (const t of r.topologies) {
            const ready = t.status?.nodes.filter((n) => n.phase === managerv1.NodePhase.READY).length ?? 0;
            rows.push([t.name, phaseName(t.status?.phase ?? 0, "topology"), `${ready}/${t.nodeCount}`, String(t.linkCount), t.status?.backend ?? ""]);
          }
          io.stdout.write(formatTable(rows));
        }
        return ExitCode.ok;
      } catch (error) {
        return reportError("kne list", error, io);
      }
    });
  },
};
