/** `kne topology cert NAME NODE` — generate a node's self-signed certificate. */
import { parseArgs } from "node:util";
import { ExitCode, type CliIo } from "../cli-io";
import { reportError, topologyName } from "../cli-support";
import type { Command } from "../command";
import { connectionHelp, connectionOptions, withManager } from "../manager-client";
import { UsageError } from "../usage-error";

export const topologyCertCommand: Command = {
  words: ["topology", "cert"],
  summary: "Generate a node's self-signed TLS certificate from its config.cert settings",
  help: `Generate a self-signed TLS certificate (and its RSA key) for a node, as the node's
config.cert.self_signed says (upstream's fields): common_name (default: the node's
name), key_size (default 2048), cert_name and key_name (the file names; default
cert.pem and key.pem). The certificate also names the node (DNS) and its management
address (IP) as subject alternative names. Prints the certificate (PEM) on stdout.

On the local backend the files go to the node's certs/ directory (the key readable by
root only); a HOST node's command runs in its node directory and reads them as
certs/CERT_NAME and certs/KEY_NAME. Nodes whose topology sets config.cert get them at
create, before their command starts; this command makes new ones. Vendors that serve
nothing over TLS (FRR, GoBGP, BIRD) answer UNIMPLEMENTED naming the vendor, as upstream
answers for vendors without certificates.

Usage:
  kne topology cert NAME NODE

Flags:
${connectionHelp}
  -h, --help            Show this help

Examples:
  kne topology cert lab h1
  kne topology cert lab h1 | openssl x509 -noout -subject -ext subjectAltName
`,
  async run(args: string[], io: CliIo) {
    const { values, positionals } = parseArgs({ args, options: { ...connectionOptions }, allowPositionals: true, strict: true });
    if (positionals.length !== 2) throw new UsageError("topology cert needs NAME and NODE");
    const name = await topologyName(positionals[0]!, io);
    return withManager(values, async (m) => {
      try {
        const r = await m.node.generateCertificate({ topology: name, node: positionals[1]! });
        io.stdout.write(Buffer.from(r.certificatePem).toString("utf8"));
        if (r.certificatePath !== "") io.stderr.write(`certificate of ${positionals[1]!}: ${r.certificatePath}, key: ${r.keyPath}\n`);
        return ExitCode.ok;
      } catch (error) {
        return reportError("kne topology cert", error, io);
      }
    });
  },
};
