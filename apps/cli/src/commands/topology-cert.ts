/** `kne topology cert NAME NODE` — generate a node's certificate (where the vendor has one). */
import { parseArgs } from "node:util";
import { ExitCode, type CliIo } from "../cli-io";
import { reportError, topologyName } from "../cli-support";
import type { Command } from "../command";
import { connectionHelp, connectionOptions, withManager } from "../manager-client";
import { UsageError } from "../usage-error";

export const topologyCertCommand: Command = {
  words: ["topology", "cert"],
  summary: "Generate a node's TLS certificate (vendors that serve TLS; not on the local backend)",
  help: `Generate a self-signed TLS certificate on a node, as its topology's cert settings say.
Vendors that serve gNMI/gRIBI over TLS do this on the kubernetes backend; the local
backend's vendors (FRR, GoBGP, BIRD, hosts) have none, so the answer there is
UNIMPLEMENTED, as upstream answers for vendors without certificates.

Usage:
  kne topology cert NAME NODE

Flags:
${connectionHelp}
  -h, --help            Show this help

Examples:
  kne topology cert lab ceos1
`,
  async run(args: string[], io: CliIo) {
    const { values, positionals } = parseArgs({ args, options: { ...connectionOptions }, allowPositionals: true, strict: true });
    if (positionals.length !== 2) throw new UsageError("topology cert needs NAME and NODE");
    const name = await topologyName(positionals[0]!, io);
    return withManager(values, async (m) => {
      try {
        const r = await m.node.generateCertificate({ topology: name, node: positionals[1]! });
        io.stdout.write(Buffer.from(r.certificatePem).toString("utf8"));
        return ExitCode.ok;
      } catch (error) {
        return reportError("kne topology cert", error, io);
      }
    });
  },
};
