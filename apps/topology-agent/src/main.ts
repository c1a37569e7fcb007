/**
 * topology-agent — process entry point: flags, logger, server, SIGINT/SIGTERM.
 * Run `topology-agent --help` for the flags.
 */
import { runServerCommand, serverHelp, FlagError } from "@kne/rpc";
import { agentFlagsHelp, splitAgentFlags } from "./agent-flags";
import { createTopologyAgentApp, topologyAgentCommand } from "./app";

const argv = process.argv.slice(2);
if (argv.includes("--help") || argv.includes("-h")) {
  process.stdout.write(serverHelp(topologyAgentCommand) + agentFlagsHelp);
  process.exit(0);
}
let split;
try {
  split = splitAgentFlags(argv);
} catch (err) {
  if (!(err instanceof FlagError)) throw err;
  process.stderr.write(`${topologyAgentCommand.name}: ${err.message}\nRun "${topologyAgentCommand.name} --help" for usage.\n`);
  process.exit(2);
}
const { agent, rest } = split;
await runServerCommand(topologyAgentCommand, (server) => createTopologyAgentApp({ ...server, ...agent }), {
  argv: rest,
  stdout: (text) => void process.stdout.write(text),
  stderr: (text) => void process.stderr.write(text),
  exit: (code) => process.exit(code),
});
