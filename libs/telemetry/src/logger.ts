import { context, trace } from "@opentelemetry/api";
import { pino, type DestinationStream, type Logger } from "pino";

/** The levels a logger accepts, most severe first; `silent` turns logging off. */
export const logLevels = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
export type LogLevel = (typeof logLevels)[number];

/** The environment variable that sets the level when no level is given explicitly. */
export const logLevelEnv = "KNE_LOG_LEVEL";

export interface LoggerOptions {
  /** The component name, carried on every line as `name`. */
  name: string;
  /** Overrides KNE_LOG_LEVEL; the default is `info`. */
  level?: string;
  /** Where JSON lines go; stdout unless given (tests pass a stream). */
  destination?: DestinationStream;
}

/**
 * Reads a log level from a flag or the environment. An unknown level is an error that
 * names the accepted ones: a typo must not silently fall back to a default.
 */
export function parseLogLevel(value: string): LogLevel {
  const level = value.trim().toLowerCase();
  if ((logLevels as readonly string[]).includes(level)) return level as LogLevel;
  throw new Error(`unknown log level "${value}": expected one of ${logLevels.join(", ")}`);
}

/**
 * Creates the process logger: one JSON object per line, level as a label (log pipelines
 * filter on `"level":"error"` more readily than on 50) and ISO timestamps.
 * Messages are past tense and context goes into fields, never into the message string.
 */
export function createLogger(options: LoggerOptions): Logger {
  const fromEnv = process.env[logLevelEnv];
  const level = parseLogLevel(options.level ?? (fromEnv !== undefined && fromEnv !== "" ? fromEnv : "info"));
  return pino(
    {
      name: options.name,
      level,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      // Lines written inside a traced call carry its ids (OpenTelemetry's log field names),
      // so logs and traces join. Without an SDK there is never an active span: no fields.
      mixin: activeTraceFields,
    },
    // Synchronous writes: lines stay in order and none is lost when the process exits
    // right after logging (pino's default is asynchronous, flushed on exit, and can
    // reorder the last lines). Our log volume is far too low for this to cost anything.
    options.destination ?? pino.destination({ dest: 1, sync: true }),
  );
}

export type { Logger };

function activeTraceFields(): Record<string, string> {
  const span = trace.getSpanContext(context.active());
  return span && span.traceFlags !== 0 ? { trace_id: span.traceId, span_id: span.spanId } : {};
}
