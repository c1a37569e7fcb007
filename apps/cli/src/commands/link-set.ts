/** `kne link set NAME LINK up|down` — admin state of a link (both ends, or one). */
import { parseArgs } from "node:util";
import { topo } from "@kne/proto";
import { ExitCode, type CliIo } from "../cli-io";
import { reportError, topologyName } from "../cli-support";
import type { Command } from "../command";
import { writeLinkTable } from "../link-table";
import { connectionHelp, connectionOptions, withManager } from "../manager-client";
import { UsageError } from "../usage-error";

export const linkSetCommand: Command = {
  words: ["link", "set"],
  summary: "Set a link up or down (both endpoints, or one with --endpoint)",
  help: `Set the administrative state of a running link. Down on both endpoints by default, so
both nodes see the link go down at once (their routing daemons react to the carrier loss);
--endpoint sets only one end (its peer then sees no carrier). The state is kept across
'kne apply' and agent restarts until set again.

LINK is a link id (a_node:a_int--z_node:z_int) or either endpoint (node:interface), as
'kne link list' shows.

Usage:
  kne link set NAME LINK up|down [--endpoint NODE:INTERFACE]

Flags:
      --endpoint EP     only this endpoint
${connectionHelp}
  -h, --help            Show this help

Examples:
  kne link set frr-clos leaf1:eth1 down
  kne link set frr-clos spine1:eth1--leaf1:eth1 up
`,
  async run(args: string[], io: CliIo) {
    const { values, positionals } = parseArgs({ args, options: { ...connectionOptions, endpoint: { type: "string" } }, allowPositionals: true, strict: true });
    if (positionals.length !== 3) throw new UsageError("link set needs NAME, LINK and up or down");
    const word = positionals[2]!.toLowerCase();
    if (word !== "up" && word !== "down") throw new UsageError(`the state must be up or down, got "${positionals[2]}"`);
    const name = await topologyName(positionals[0]!, io);
    return withManager(values, async (m) => {
      try {
        const r = await m.link.setLinkState({ topology: name, link: positionals[1]!, state: word === "up" ? topo.LinkState.UP : topo.LinkState.DOWN, endpoint: values.endpoint ?? "" });
        writeLinkTable(io, [r.link!]);
        return ExitCode.ok;
      } catch (error) {
        return reportError("kne link set", error, io);
      }
    });
  },
};
