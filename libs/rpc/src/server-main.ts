import { parseArgs } from "node:util";
import { buildInfo, createLogger, logLevelEnv, otlpEndpointEnv, parseLogLevel, startTelemetry, type Logger, type LogLevel, type Telemetry } from "@kne/telemetry";

/** How a server process describes itself in --help. */
export interface ServerCommand {
  /** The program name, e.g. `topology-manager`. */
  name: string;
  /** One paragraph: what the server does. */
  description: string;
  defaultPort: number;
  /** The gRPC services it serves, listed in --help. */
  services: readonly string[];
}

export type ServerFlags =
  | { help: true }
  | { help: false; port: number; host: string; logLevel: LogLevel | undefined };

/** A command line that cannot be obeyed; the message says what to change. */
export class FlagError extends Error {
  override readonly name = "FlagError";
}

/** The --help text of a server process. */
export function serverHelp(command: ServerCommand): string {
  return `Usage: ${command.name} [flags]

${wrap(command.description, 88)}

Flags:
  --port <n>           TCP port to listen on (default ${command.defaultPort}; 0 picks a free port,
                       which the "server started" log line reports)
  --host <address>     address to bind (default 127.0.0.1; 0.0.0.0 or :: for all interfaces)
  --log-level <level>  fatal, error, warn, info, debug, trace or silent
                       (default: $${logLevelEnv}, else info)
  -h, --help           print this help and exit

Serves gRPC, gRPC-Web and the Connect protocol on one cleartext HTTP/2 port (h2c), with
grpc.health.v1.Health and server reflection (v1 and v1alpha), so no local schema is needed:
  buf curl --http2-prior-knowledge --list-methods http://127.0.0.1:${command.defaultPort}
  buf curl --http2-prior-knowledge --protocol grpc http://127.0.0.1:${command.defaultPort}/grpc.health.v1.Health/Check

Services:
${command.services.map((s) => `  ${s}`).join("\n")}

Logs are JSON lines on stdout. SIGINT or SIGTERM stops the server gracefully: health turns
NOT_SERVING, running calls get a grace period, then the process exits.
`;
}

function wrap(text: string, width: number): string {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(/\s+/)) {
    if (line !== "" && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line === "" ? word : `${line} ${word}`;
    }
  }
  if (line !== "") lines.push(line);
  return lines.join("\n");
}

/** The string-valued options a server adds to the common ones (`--tls-cert FILE`, ...). */
export type ServerOptionNames = readonly string[];

/**
 * Parses a server's command line in one pass: the flags every KNE server process takes
 * (port, host, log level, help) and the server's own string-valued `extra` options, whose
 * raw values are returned for the server to validate. Throws FlagError on a bad command line.
 */
export function parseServerCommandLine(
  args: readonly string[],
  command: ServerCommand,
  extra: ServerOptionNames = [],
): { server: ServerFlags; values: Readonly<Record<string, string | undefined>> } {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...args],
      strict: true,
      allowPositionals: false,
      options: {
        ...Object.fromEntries(extra.map((name) => [name, { type: "string" as const }])),
        port: { type: "string" },
        host: { type: "string" },
        "log-level": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (err) {
    throw new FlagError((err as Error).message);
  }
  const own = Object.fromEntries(extra.map((name) => [name, values[name] as string | undefined]));
  if (values.help === true) return { server: { help: true }, values: own };
  let logLevel: LogLevel | undefined;
  const level = values["log-level"] as string | undefined;
  if (level !== undefined) {
    try {
      logLevel = parseLogLevel(level);
    } catch (err) {
      throw new FlagError(`--log-level: ${(err as Error).message}`);
    }
  }
  const host = (values.host as string | undefined) ?? "127.0.0.1";
  if (host === "") throw new FlagError("--host must not be empty");
  return { server: { help: false, port: parsePort(values.port as string | undefined, command.defaultPort), host, logLevel }, values: own };
}

/** Parses the flags every KNE server process takes. Throws FlagError on a bad command line. */
export function parseServerFlags(args: readonly string[], command: ServerCommand): ServerFlags {
  return parseServerCommandLine(args, command).server;
}

function parsePort(value: string | undefined, defaultPort: number): number {
  if (value === undefined) return defaultPort;
  const port = /^\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isInteger(port) || port > 65535) {
    throw new FlagError(`--port must be a number from 0 to 65535, got "${value}"`);
  }
  return port;
}

/**
 * Stops the process cleanly on SIGINT and SIGTERM: the first signal runs `close` and exits
 * 0 (1 if closing failed); a second signal exits at once with 1, for an operator who will
 * not wait for the grace period. Returns a function that removes the handlers.
 */
export function closeOnSignals(
  close: () => Promise<void>,
  logger: Logger,
  exit: (code: number) => void = (code) => process.exit(code),
): () => void {
  let closing = false;
  const dispose = (): void => {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    if (closing) {
      logger.warn({ signal }, "second signal received, exited without waiting");
      exit(1);
      return;
    }
    closing = true;
    logger.info({ signal }, "shutdown requested");
    close().then(
      () => {
        dispose();
        exit(0);
      },
      (err: unknown) => {
        logger.error({ err }, "shutdown failed");
        dispose();
        exit(1);
      },
    );
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  return dispose;
}

/** What a server process needs from its host; tests pass fakes. */
export interface ProcessIo {
  argv: readonly string[];
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  exit: (code: number) => void;
}

const realIo: ProcessIo = {
  argv: process.argv.slice(2),
  stdout: (text) => void process.stdout.write(text),
  stderr: (text) => void process.stderr.write(text),
  exit: (code) => process.exit(code),
};

/**
 * The whole life of a server process: flags (--help, exit 2 on a bad command line), the
 * logger, the server, and a clean stop on SIGINT/SIGTERM. Resolves once the server runs
 * (or the process was told to exit); returns the running server, if any.
 */
export async function runServerCommand<S extends { close(): Promise<void> }>(
  command: ServerCommand,
  start: (options: { port: number; host: string; logger: Logger }) => Promise<S>,
  io: ProcessIo = realIo,
): Promise<S | undefined> {
  let flags: ServerFlags;
  try {
    flags = parseServerFlags(io.argv, command);
  } catch (err) {
    if (!(err instanceof FlagError)) throw err;
    io.stderr(`${command.name}: ${err.message}\nRun "${command.name} --help" for usage.\n`);
    io.exit(2);
    return undefined;
  }
  if (flags.help) {
    io.stdout(serverHelp(command));
    io.exit(0);
    return undefined;
  }
  const logger = createLogger({ name: command.name, level: flags.logLevel });
  // First line of every server's log: which build, on which runtime (support starts here).
  logger.info({ ...buildInfo(), pid: process.pid }, "process started");
  let server: S;
  let telemetry: Telemetry | undefined;
  try {
    // Traces and metrics over OTLP when the standard variable names a collector: every
    // server process joins the traces its callers started (traceparent).
    if (process.env[otlpEndpointEnv]) telemetry = await startTelemetry({ serviceName: command.name, logger });
    server = await start({ port: flags.port, host: flags.host, logger });
  } catch (err) {
    // EADDRINUSE and friends: say so in the log, where operators look, and fail the process.
    logger.fatal({ err, port: flags.port, host: flags.host }, "server failed to start");
    io.exit(1);
    return undefined;
  }
  closeOnSignals(
    async () => {
      await server.close();
      await telemetry?.shutdown();
    },
    logger,
    io.exit,
  );
  return server;
}
