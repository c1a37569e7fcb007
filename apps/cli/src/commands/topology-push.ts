/** `kne topology push NAME NODE FILE` — apply a config to a running node. */
import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { ExitCode, type CliIo } from "../cli-io";
import { reportError, topologyName } from "../cli-support";
import type { Command } from "../command";
import { connectionHelp, connectionOptions, withManager } from "../manager-client";
import { UsageError } from "../usage-error";

export const topologyPushCommand: Command = {
  words: ["topology", "push"],
  summary: "Push a config to a running node (FRR: merged over vty; GoBGP: reload)",
  help: `Push a configuration file to a running node. FRR: the file is checked by FRR, then
applied on top of the running config through vtysh (as a CLI config session would); the
result becomes the config in force, which restarted daemons get back. GoBGP: the file
replaces gobgpd's config (checked with --dry-run, then applied by SIGHUP or a restart).
Vendors without config push answer UNIMPLEMENTED. 'kne topology reset' returns to the boot
config.

Usage:
  kne topology push NAME NODE FILE

Flags:
${connectionHelp}
  -h, --help            Show this help

Examples:
  kne topology push frr-clos leaf1 extra-route.conf
  kne topology push gobgp-2node r1 r1-new.yaml
`,
  async run(args: string[], io: CliIo) {
    const { values, positionals } = parseArgs({ args, options: { ...connectionOptions }, allowPositionals: true, strict: true });
    if (positionals.length !== 3) throw new UsageError("topology push needs NAME, NODE and FILE");
    const name = await topologyName(positionals[0]!, io);
    let config: Buffer;
    try {
      config = await readFile(resolve(io.cwd, positionals[2]!));
    } catch (error) {
      io.stderr.write(`${positionals[2]}: cannot read: ${(error as Error).message}\n`);
      return ExitCode.failure;
    }
    return withManager(values, async (m) => {
      try {
        await m.node.pushConfig({ topology: name, node: positionals[1]!, config: new Uint8Array(config) });
        io.stderr.write(`pushed ${positionals[2]} to ${name}/${positionals[1]}\n`);
        return ExitCode.ok;
      } catch (error) {
        return reportError("kne topology push", error, io);
      }
    });
  },
};
