/**
 * The whole life of the topology-manager process: flags and environment (--help; exit 2 on
 * a bad command line or an unreadable certificate or token file), the logger, the server
 * with TLS/mTLS and the bearer-token check when asked for, and a clean stop on SIGINT/SIGTERM.
 */
import { closeOnSignals, FlagError, type ProcessIo, type RunningServer } from "@kne/rpc";
import { createLogger } from "@kne/telemetry";
import { createTopologyManagerApp, topologyManagerCommand } from "./app";
import { loadManagerOptions, parseManagerFlags, topologyManagerHelp, type LoadedManagerOptions, type TopologyManagerFlags } from "./manager-options";

const realIo: ProcessIo = {
  argv: process.argv.slice(2),
  stdout: (text) => void process.stdout.write(text),
  stderr: (text) => void process.stderr.write(text),
  exit: (code) => process.exit(code),
};

/** Resolves once the server runs (or the process was told to exit); returns the server, if any. */
export async function runTopologyManager(io: ProcessIo = realIo, env: Readonly<Record<string, string | undefined>> = process.env): Promise<RunningServer | undefined> {
  const command = topologyManagerCommand;
  let flags: TopologyManagerFlags;
  let loaded: LoadedManagerOptions;
  try {
    flags = parseManagerFlags(io.argv, command, env);
    loaded = flags.help ? {} : await loadManagerOptions(flags.manager);
  } catch (err) {
    if (!(err instanceof FlagError)) throw err;
    io.stderr(`${command.name}: ${err.message}\nRun "${command.name} --help" for usage.\n`);
    io.exit(2);
    return undefined;
  }
  if (flags.help) {
    io.stdout(topologyManagerHelp(command));
    io.exit(0);
    return undefined;
  }
  const { port, host, logLevel } = flags.server;
  const logger = createLogger({ name: command.name, level: logLevel });
  let server: RunningServer;
  try {
    server = await createTopologyManagerApp({ port, host, logger, ...loaded });
  } catch (err) {
    // EADDRINUSE, a key that does not match its certificate, a locked state dir: say so in
    // the log, where operators look, and fail the process.
    logger.fatal({ err, port, host }, "server failed to start");
    io.exit(1);
    return undefined;
  }
  logger.info({ tls: loaded.tls !== undefined, mtls: loaded.tls?.requestClientCert === true, auth: loaded.authToken !== undefined, stateDir: loaded.stateDir }, "security configured");
  closeOnSignals(() => server.close(), logger, io.exit);
  return server;
}
