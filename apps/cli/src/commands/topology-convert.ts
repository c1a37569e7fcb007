/** `kne topology convert FILE --to FORMAT [--resolved]` — the same topology in another format, or as a manager resolves it. */
import { writeFile } from "node:fs/promises";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import {
  detectTopologyFormat,
  formatProblem,
  isTopologyFormat,
  loadTopology,
  resolveTopology,
  serializeTopology,
  topologyFormats,
  TopologyParseError,
  type TopologyFormat,
  validateTopology,
} from "@kne/topology";
import type { topo } from "@kne/proto";
import { applyConfigDefaults, applyVendorDefaults, mapInterfaceNames } from "@kne/vendors";
import { ExitCode, type CliIo } from "../cli-io";
import type { Command } from "../command";
import { UsageError } from "../usage-error";

function formatFlag(flag: string, value: string): TopologyFormat {
  if (!isTopologyFormat(value)) throw new UsageError(`${flag} must be one of ${topologyFormats.join(", ")}, got "${value}"`);
  return value;
}

/** Each node with its vendor's defaults where the file leaves them empty (a vendor the registry refuses: as written). */
function withDefaults(topology: topo.Topology): topo.Topology {
  for (const node of topology.nodes) {
    try {
      applyConfigDefaults(applyVendorDefaults(node));
    } catch {
      // Validation passed; an unknown model is for the backend to refuse, naming what it supports.
    }
  }
  return topology;
}

export const topologyConvertCommand: Command = {
  words: ["topology", "convert"],
  summary: "Convert a topology between text format, YAML and JSON",
  help: `Convert a topology file to another format: textproto (KNE's text format), yaml or
json. YAML and JSON use the protobuf JSON mapping with proto field names (a_node, not
aNode), the form upstream KNE's YAML topologies use. The topology is parsed, not
validated (run 'kne topology validate' for that); comments are not carried over.

With --resolved, the topology is validated and written as a manager resolves it: every
link end an interface of its node (keyed by its Linux name: a Ciena "1/5/1" is
interfaces["eth1"] with int_name "1/5/1"), link uids, and each node's vendor defaults
(model, services, labels, and config: image, command, entry command, config path and
file, certificate) where the file leaves them empty, as upstream fills them.

The input format comes from the file name (.pb.txt .pbtxt .textproto .txtpb .txt,
.yaml .yml, .json) unless --from says otherwise. Without --to, the output format comes
from the -O file name.

Usage:
  kne topology convert FILE --to textproto|yaml|json [-O OUTFILE] [--from FORMAT] [--resolved]

Flags:
      --to FORMAT       textproto, yaml or json
  -O, --out-file FILE   write here instead of stdout (replaced if it exists)
      --from FORMAT     the input's format, when its name does not say
      --resolved        validate, then write the resolved topology with vendor defaults
  -h, --help            Show this help

Exit status: 0 converted, 1 the input cannot be read or parsed (or, with --resolved, is
invalid), 2 wrong command line.

Examples:
  kne topology convert examples/host-3node/topology.pb.txt --to yaml
  kne topology convert lab.yaml -O lab.pb.txt
  kne topology convert lab.pb.txt --to json -O lab.json
  kne topology convert lab.pb.txt --to yaml --resolved
`,
  async run(args: string[], io: CliIo) {
    const { values, positionals } = parseArgs({
      args,
      options: { to: { type: "string" }, "out-file": { type: "string", short: "O" }, from: { type: "string" }, resolved: { type: "boolean" } },
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
      let output = loaded.topology;
      if (values.resolved) {
        const { errors } = validateTopology(loaded.topology, { ...loaded, interfaceNames: mapInterfaceNames });
        if (errors.length > 0) {
          for (const e of errors) io.stderr.write(`${formatProblem(e)}\n`);
          return ExitCode.failure;
        }
        output = withDefaults(resolveTopology(loaded.topology, { interfaceNames: mapInterfaceNames }));
      }
      text = serializeTopology(output, to);
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
