/** `kne topology convert FILE --to FORMAT` — the same topology in another format. */
import { writeFile } from "node:fs/promises";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import {
  detectTopologyFormat,
  formatProblem,
  isTopologyFormat,
  loadTopology,
  serializeTopology,
  topologyFormats,
  TopologyParseError,
  type TopologyFormat,
} from "@kne/topology";
import { ExitCode, type CliIo } from "../cli-io";
import type { Command } from "../command";
import { UsageError } from "../usage-error";

function formatFlag(flag: string, value: string): TopologyFormat {
  if (!isTopologyFormat(value)) throw new UsageError(`${flag} must be one of ${topologyFormats.join(", ")}, got "${value}"`);
  return value;
}

export const topologyConvertCommand: Command = {
  words: ["topology", "convert"],
  summary: "Convert a topology between text format, YAML and JSON",
  help: `Convert a topology file to another format: textproto (KNE's text format), yaml or
json. YAML and JSON use the protobuf JSON mapping with proto field names (a_node, not
aNode), the form upstream KNE's YAML topologies use. The topology is parsed, not
validated (run 'kne topology validate' for that); comments are not carried over.

The input format comes from the file name (.pb.txt .pbtxt .textproto .txtpb .txt,
.yaml .yml, .json) unless --from says otherwise. Without --to, the output format comes
from the -O file name.

Usage:
  kne topology convert FILE --to textproto|yaml|json [-O OUTFILE] [--from FORMAT]

Flags:
      --to FORMAT       textproto, yaml or json
  -O, --out-file FILE   write here instead of stdout (replaced if it exists)
      --from FORMAT     the input's format, when its name does not say
  -h, --help            Show this help

Exit status: 0 converted, 1 the input cannot be read or parsed, 2 wrong command line.

Examples:
  kne topology convert examples/host-3node/topology.pb.txt --to yaml
  kne topology convert lab.yaml -O lab.pb.txt
  kne topology convert lab.pb.txt --to json -O lab.json
`,
  async run(args: string[], io: CliIo) {
    const { values, positionals } = parseArgs({
      args,
      options: { to: { type: "string" }, "out-file": { type: "string", short: "O" }, from: { type: "string" } },
      allowPositionals: true,
      strict: true,
    });
    if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? "a topology FILE is needed" : "convert takes exactly one FILE");
    const input = positionals[0]!;
    const outFile = values["out-file"];
    const from = values.from !== undefined ? formatFlag("--from", values.from) : undefined;
    let to: TopologyFormat | undefined = values.to !== undefined ? formatFlag("--to", values.to) : undefined;
    if (to === undefined && outFile !== undefined) to = detectTopologyFormat(outFile);
    if (to === undefined) {
      throw new UsageError(outFile === undefined ? "--to FORMAT is needed" : `--to FORMAT is needed: the name "${outFile}" does not say which`);
    }

    let text: string;
    try {
      const loaded = await loadTopology(input, { cwd: io.cwd, format: from });
      text = serializeTopology(loaded.topology, to);
    } catch (error) {
      if (!(error instanceof TopologyParseError)) throw error;
      io.stderr.write(`${formatProblem(error.problem)}\n`);
      return ExitCode.failure;
    }
    if (outFile === undefined) {
      io.stdout.write(text);
      return ExitCode.ok;
    }
    try {
      await writeFile(resolve(io.cwd, outFile), text);
    } catch (error) {
      io.stderr.write(`${outFile}: cannot write: ${(error as Error).message}\n`);
      return ExitCode.failure;
    }
    return ExitCode.ok;
  },
};
