/** `kne link list NAME` — links with desired and observed state, impairments and counters. */
import { parseArgs } from "node:util";
import { create } from "@bufbuild/protobuf";
import { managerv1 } from "@kne/proto";
import { ExitCode, type CliIo } from "../cli-io";
import { protoJson, reportError, topologyName } from "../cli-support";
import type { Command } from "../command";
import { writeLinkTable } from "../link-table";
import { connectionHelp, connectionOptions, withManager } from "../manager-client";
import { outputOption, parseOutputFormat, writeStructured } from "../output";
import { UsageError } from "../usage-error";

export const linkListCommand: Command = {
  words: ["link", "list"],
  summary: "List a topology's links: admin and observed state, impairments, counters",
  help: `List the links of a running topology. Each link is named by its id
(a_node:a_int--z_node:z_int, as other link commands accept, or either endpoint
node:interface). For each endpoint: the admin state asked for, the state observed in the
kernel (up; lower-layer-down when its peer is down; down; absent), its egress impairments
and packet counters.

Usage:
  kne link list NAME [--node NODE] [-o table|json|yaml]

Flags:
      --node NODE       only links of this node
  -o, --output FORMAT   table (default), json or yaml
${connectionHelp}
  -h, --help            Show this help

Examples:
  kne link list frr-clos
  kne link list frr-clos --node spine1 -o json
`,
  async run(args: string[], io: CliIo) {
    const { values, positionals } = parseArgs({ args, options: { ...outputOption, ...connectionOptions, node: { type: "string" } }, allowPositionals: true, strict: true });
    const output = parseOutputFormat(values.output);
    if (positionals.length !== 1) throw new UsageError("link list takes one topology NAME");
    const name = await topologyName(positionals[0]!, io);
    return withManager(values, async (m) => {
      try {
        const r = await m.link.listLinks({ topology: name, node: values.node ?? "" });
        if (output !== "table") await writeStructured(io.stdout, output, protoJson(managerv1.ListLinksResponseSchema, create(managerv1.ListLinksResponseSchema, r)));
        else writeLinkTable(io, r.links);
        return ExitCode.ok;
      } catch (error) {
        return reportError("kne link list", error, io);
      }
    });
  },
};
