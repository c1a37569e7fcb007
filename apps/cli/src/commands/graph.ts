/** `kne graph NAME|FILE --format dot|mermaid` — draw a topology. */
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { detectTopologyFormat, formatProblem, loadTopology, TopologyParseError } from "@kne/topology";
import { ExitCode, type CliIo } from "../cli-io";
import { reportError, topologyName } from "../cli-support";
import type { Command } from "../command";
import { type GraphFormat, renderGraph } from "../graph";
import { connectionHelp, connectionOptions, withManager } from "../manager-client";
import { UsageError } from "../usage-error";

export const graphCommand: Command = {
  words: ["graph"],
  summary: "Draw a topology (file or running) as Graphviz DOT or Mermaid",
  help: `Draw a topology: nodes labelled with their vendor, links labelled with the interfaces
at each end. The argument is a topology file (nothing needs to run) or the name of a
running topology.

Usage:
  kne graph NAME|FILE [--format dot|mermaid]

Flags:
      --format FORMAT   dot (default; render with 'dot -Tsvg') or mermaid
${connectionHelp}
  -h, --help            Show this help

Examples:
  kne graph examples/frr-clos/topology.pb.txt | dot -Tsvg > clos.svg
  kne graph frr-clos --format mermaid
`,
  async run(args: string[], io: CliIo) {
    const { values, positionals } = parseArgs({ args, options: { ...connectionOptions, format: { type: "string", default: "dot" } }, allowPositionals: true, strict: true });
    if (positionals.length !== 1) throw new UsageError("graph takes one topology NAME or FILE");
    const format = values.format as GraphFormat;
    if (format !== "dot" && format !== "mermaid") throw new UsageError(`--format must be dot or mermaid, got "${values.format}"`);
    const arg = positionals[0]!;
    if (detectTopologyFormat(arg) !== undefined && existsSync(resolve(io.cwd, arg))) {
      try {
        const loaded = await loadTopology(arg, { cwd: io.cwd });
        io.stdout.write(renderGraph(loaded.topology, format));
        return ExitCode.ok;
      } catch (error) {
        if (!(error instanceof TopologyParseError)) throw error;
        io.stderr.write(`${formatProblem(error.problem)}\n`);
        return ExitCode.failure;
      }
    }
    const name = await topologyName(arg, io);
    return withManager(values, async (m) => {
      try {
        const r = await m.topology.getTopology({ name });
        io.stdout.write(renderGraph(r.topology!, format));
        return ExitCode.ok;
      } catch (error) {
        return reportError("kne graph", error, io);
      }
    });
  },
};
