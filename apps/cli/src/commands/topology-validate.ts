/** `kne topology validate FILE...` — load and validate topology files, reporting every problem. */
import { parseArgs } from "node:util";
import {
  formatProblem,
  knownTopologyExtensions,
  loadTopology,
  TopologyParseError,
  validateTopology,
  type Problem,
  type TopologyFormat,
} from "@kne/topology";
import { mapInterfaceNames } from "@kne/vendors";
import { ExitCode, type CliIo } from "../cli-io";
import type { Command } from "../command";
import { outputOption, parseOutputFormat, writeStructured } from "../output";
import { UsageError } from "../usage-error";

/** What `-o json|yaml` prints for one file. */
export interface FileReport {
  file: string;
  valid: boolean;
  format?: TopologyFormat;
  topology?: string;
  nodes?: number;
  links?: number;
  errors: Problem[];
  warnings: Problem[];
}

/** What `-o json|yaml` prints: one report per file, in argument order. */
export interface ValidationReport {
  valid: boolean;
  files: FileReport[];
}

async function validateFile(file: string, cwd: string): Promise<FileReport> {
  try {
    const loaded = await loadTopology(file, { cwd });
    const { errors, warnings } = validateTopology(loaded.topology, { ...loaded, interfaceNames: mapInterfaceNames });
    return {
      file,
      valid: errors.length === 0,
      format: loaded.format,
      topology: loaded.topology.name,
      nodes: loaded.topology.nodes.length,
      links: loaded.topology.links.length,
      errors,
      warnings,
    };
  } catch (error) {
    if (error instanceof TopologyParseError) return { file, valid: false, errors: [error.problem], warnings: [] };
    throw error;
  }
}

function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? "" : "s"}`;
}

export const topologyValidateCommand: Command = {
  words: ["topology", "validate"],
  summary: "Check topology files and report every problem in them",
  help: `Check topology files: parse them and validate everything that can be known before
anything is created — names usable by Kubernetes and Linux, links between existing nodes
and interfaces wired once, service ports, impairment ranges, and config files present
(relative paths are relative to the topology file).

Every problem is printed to stderr as
  FILE:LINE:COL: PATH: MESSAGE
where PATH names the field, for example nodes[r1].interfaces[eth1]. Warnings (for
example a link listed twice) do not make a file invalid. Each valid file gets one line on
stdout with its node and link counts.

Formats are told apart by file name: ${knownTopologyExtensions().join(" ")}
(text format, YAML, JSON).

Usage:
  kne topology validate FILE... [-o table|json|yaml]

Flags:
  -o, --output FORMAT   table (default): problems on stderr, one OK line per valid file;
                        json or yaml: one report of every file on stdout, nothing on stderr
  -h, --help            Show this help

Exit status: 0 when every file is valid, 1 when any is not (or cannot be read), 2 for a
wrong command line.

Examples:
  kne topology validate examples/frr-2node-ebgp/topology.pb.txt
  kne topology validate examples/*/topology.pb.txt
  kne topology validate lab.yaml -o json | jq '.files[].errors[]'
`,
  async run(args: string[], io: CliIo) {
    const { values, positionals } = parseArgs({ args, options: { ...outputOption }, allowPositionals: true, strict: true });
    const output = parseOutputFormat(values.output);
    if (positionals.length === 0) throw new UsageError("at least one topology FILE is needed");

    const files: FileReport[] = [];
    for (const file of positionals) files.push(await validateFile(file, io.cwd));
    const report: ValidationReport = { valid: files.every((f) => f.valid), files };

    if (output !== "table") {
      await writeStructured(io.stdout, output, report);
    } else {
      for (const file of files) {
        for (const problem of file.errors) io.stderr.write(`${formatProblem(problem)}\n`);
        for (const problem of file.warnings) io.stderr.write(`${formatProblem({ ...problem, message: `warning: ${problem.message}` })}\n`);
        if (file.valid) {
          const warnings = file.warnings.length > 0 ? `, ${plural(file.warnings.length, "warning")}` : "";
          io.stdout.write(`OK ${file.file}: topology "${file.topology}", ${plural(file.nodes ?? 0, "node")}, ${plural(file.links ?? 0, "link")}${warnings}\n`);
        }
      }
      const invalid = files.filter((f) => !f.valid);
      if (invalid.length > 0) {
        const problems = invalid.reduce((sum, f) => sum + f.errors.length, 0);
        io.stderr.write(`${plural(invalid.length, "file")} of ${files.length} invalid (${plural(problems, "error")})\n`);
      }
    }
    return report.valid ? ExitCode.ok : ExitCode.failure;
  },
};
