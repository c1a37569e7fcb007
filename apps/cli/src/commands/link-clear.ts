/** `kne link clear NAME LINK` — remove a link's impairments. */
import { parseArgs } from "node:util";
import { ExitCode, type CliIo } from "../cli-io";
import { reportError, topologyName } from "../cli-support";
import type { Command } from "../command";
import { writeLinkTable } from "../link-table";
import { connectionHelp, connectionOptions, withManager } from "../manager-client";
import { UsageError } from "../usage-error";

export const linkClearCommand: Command = {
  words: ["link", "clear"],
  summary: "Remove every impairment of a link",
  help: `Remove every impairment of a running link, in both directions.

Usage:
  kne link clear NAME LINK

Flags:
${connectionHelp}
  -h, --help            Show this help

Examples:
  kne link clear frr-clos leaf1:eth1
`,
  async run(args: string[], io: CliIo) {
    const { values, positionals } = parseArgs({ args, options: { ...connectionOptions }, allowPositionals: true, strict: true });
    if (positionals.length !== 2) throw new UsageError("link clear needs NAME and LINK");
    const name = await topologyName(positionals[0]!, io);
    return withManager(values, async (m) => {
      try {
        const r = await m.link.setLinkImpairments({ topology: name, link: positionals[1]! });
        writeLinkTable(io, [r.link!]);
        return ExitCode.ok;
      } catch (error) {
        return reportError("kne link clear", error, io);
      }
    });
  },
};
