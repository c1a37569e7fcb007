/**
 * service-exposer — process entry point: flags, logger, server, SIGINT/SIGTERM.
 * Run `service-exposer --help` for the flags.
 */
import { FlagError, runServerCommand, serverHelp } from "@kne/rpc";
import { createServiceExposerApp, serviceExposerCommand, serviceExposerFlagsHelp } from "./app";
import { splitExposerFlags } from "./exposer-flags";

const argv = process.argv.slice(2);
if (argv.includes("--help") || argv.includes("-h")) {
  process.stdout.write(serverHelp(serviceExposerCommand) + serviceExposerFlagsHelp);
  process.exit(0);
}
let split;
try {
  split = splitExposerFlags(argv);
} catch (err) {
  if (!(err instanceof FlagError)) throw err;
  process.stderr.write(`${serviceExposerCommand.name}: ${err.message}\nRun "${serviceExposerCommand.name} --help" for usage.\n`);
  process.exit(2);
}
const { forwardAddress, rest } = split;
await runServerCommand(serviceExposerCommand, (server) => createServiceExposerApp({ ...server, ...(forwardAddress ? { forwardAddress } : {}) }), {
  argv: rest,
  stdout: (text) => void process.stdout.write(text),
  stderr: (text) => void process.stderr.write(text),
  exit: (code) => process.exit(code),
});
