/** `kne version` — which kne this is, and on what. */
// The entry of its own, not @kne/telemetry: `kne version` need not load the logger and RPC interceptors.
import { buildInfo } from "@kne/telemetry/build-info";
import { parseArgs } from "node:util";
import { ExitCode, type CliIo } from "../cli-io";
import type { Command } from "../command";
import { formatTable, outputOption, parseOutputFormat, writeStructured } from "../output";

export const versionCommand: Command = {
  words: ["version"],
  summary: "Print the version of kne and of the Node.js it runs on",
  help: `Print the version of kne, and the Node.js version and platform it runs on.

Usage:
  kne version [-o table|json|yaml]

Flags:
  -o, --output FORMAT   table (default), json or yaml
  -h, --help            Show this help

Examples:
  kne version
  kne version -o json
`,
  async run(args: string[], io: CliIo) {
    const { values } = parseArgs({ args, options: { ...outputOption }, allowPositionals: false, strict: true });
    const output = parseOutputFormat(values.output);
    const info = buildInfo();
    if (output === "table") {
      io.stdout.write(formatTable([["kne", info.version], ["node", info.node], ["platform", info.platform]]));
    } else {
      await writeStructured(io.stdout, output, info);
    }
    return ExitCode.ok;
  },
};
