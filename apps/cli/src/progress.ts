/**
 * Live progress of create, apply and delete on stderr, read from the manager's
 * WatchTopologies stream (so it works the same in-process and against a server). How it
 * looks depends on where it goes (progressMode):
 * - a terminal: one live area, redrawn in place (a bar with counts per phase, the elapsed
 *   time, the slowest nodes); a node's failure is printed above it when it happens;
 * - anything else (a pipe, a log): a short line at most once a second while something
 *   changes, and a summary;
 * - `--verbose`: a line per node whenever its phase or message changes;
 * - `-o json|yaml`: nothing (stdout carries only the result).
 */
import { managerv1 } from "@kne/proto";
import type { CliIo } from "./cli-io";
import type { ManagerConnection } from "./manager-client";
import { type NodePhaseLabel, ProgressModel, type ProgressModelOptions, renderError, renderLine, renderLive, renderSummary } from "./progress-view";

export interface ProgressPrinter {
  /**
   * Stops watching. The watch may lag the call that just returned, so the final node
   * states it carries (when given) are applied first; then the summary is printed.
   */
  stop(finalNodes?: readonly managerv1.NodeStatus[], options?: { succeeded?: boolean }): Promise<void>;
}

export type ProgressMode = "live" | "lines" | "verbose" | "quiet";

/** The parseArgs option spec for `-v/--verbose`. */
export const verboseOption = { verbose: { type: "boolean", short: "v" } } as const;

export function progressMode(io: CliIo, flags: { verbose?: boolean; output?: string }): ProgressMode {
  if (flags.output !== undefined && flags.output !== "table") return "quiet";
  if (flags.verbose) return "verbose";
  return io.stderr.isTTY ? "live" : "lines";
}

export function phaseName(phase: managerv1.NodePhase | managerv1.TopologyPhase, kind: "node" | "topology"): string {
  const name = kind === "node" ? managerv1.NodePhase[phase as managerv1.NodePhase] : managerv1.TopologyPhase[phase as managerv1.TopologyPhase];
  return (name ?? String(phase)).toLowerCase();
}

/** What the display does with node changes; one per mode. */
interface ProgressSink {
  node(n: managerv1.NodeStatus): void;
  complete(): void;
  finish(): void;
}

const LIVE_REDRAW_MS = 100;
const LINE_EVERY_MS = 1000;

/** The live area: redrawn at most every 100 ms; a failure is written above it. */
function liveSink(model: ProgressModel, io: CliIo): ProgressSink {
  let drawn = 0;
  let dirty = true;
  const columns = () => io.stderr.columns ?? 80;
  const erase = (): string => (drawn > 1 ? `\r\x1b[${drawn - 1}A\x1b[J` : drawn === 1 ? "\r\x1b[J" : "");
  const draw = (): void => {
    const lines = renderLive(model, Date.now(), columns());
    io.stderr.write(`${erase()}${lines.join("\n")}`);
    drawn = lines.length;
    dirty = false;
  };
  const timer = setInterval(() => {
    if (dirty || model.done < model.total) draw();
  }, LIVE_REDRAW_MS);
  timer.unref();
  draw();
  return {
    complete: () => model.complete(Date.now()),
    node(n) {
      const error = model.update(n.name, phaseName(n.phase, "node") as NodePhaseLabel, n.message, Date.now());
      dirty = true;
      if (!error) return;
      // The failure stays on the screen, above the area, which is drawn again below it.
      io.stderr.write(`${erase()}${renderError(error, model, Date.now())}\n`);
      drawn = 0;
      draw();
    },
    finish() {
      clearInterval(timer);
      io.stderr.write(`${erase()}${renderSummary(model, Date.now())}\n`);
      drawn = 0;
    },
  };
}

/** For pipes and logs: a line when something changed, at most once a second; failures at once. */
function linesSink(model: ProgressModel, io: CliIo): ProgressSink {
  let changed = false;
  const timer = setInterval(() => {
    if (!changed) return;
    changed = false;
    io.stderr.write(`${renderLine(model, Date.now())}\n`);
  }, LINE_EVERY_MS);
  timer.unref();
  return {
    complete: () => model.complete(Date.now()),
    node(n) {
      const error = model.update(n.name, phaseName(n.phase, "node") as NodePhaseLabel, n.message, Date.now());
      if (error) io.stderr.write(`${renderError(error, model, Date.now())}\n`);
      changed = true;
    },
    finish() {
      clearInterval(timer);
      io.stderr.write(`${renderSummary(model, Date.now())}\n`);
    },
  };
}

/** A line per node whenever its phase or message changes; nodes first seen ready are not repeated. */
function verboseSink(started: number, io: CliIo): ProgressSink {
  const last = new Map<string, string>();
  const quietWhileReady = new Set<string>();
  const elapsed = (): string => `${((Date.now() - started) / 1000).toFixed(1).padStart(5)}s`;
  return {
    node(n) {
      const line = `${phaseName(n.phase, "node")}${n.message ? `: ${n.message}` : ""}`;
      if (!last.has(n.name) && n.phase === managerv1.NodePhase.READY) quietWhileReady.add(n.name);
      if (quietWhileReady.has(n.name) && n.phase === managerv1.NodePhase.READY) {
        last.set(n.name, line);
        return;
      }
      if (last.get(n.name) === line) return;
      last.set(n.name, line);
      io.stderr.write(`${elapsed()}  ${n.name.padEnd(12)} ${line}\n`);
    },
    complete() {},
    finish() {},
  };
}

/** Shows node changes of `topology` until stopped, in `mode`. */
export function watchProgress(
  m: ManagerConnection,
  io: CliIo,
  mode: ProgressMode,
  what: Omit<ProgressModelOptions, "started"> & { started?: number },
): ProgressPrinter {
  if (mode === "quiet") return { stop: async () => undefined };
  const started = what.started ?? Date.now();
  const model = new ProgressModel({ ...what, started });
  const sink = mode === "verbose" ? verboseSink(started, io) : mode === "live" ? liveSink(model, io) : linesSink(model, io);
  const abort = new AbortController();
  const done = (async () => {
    try {
      for await (const { event } of m.topology.watchTopologies({ name: what.topology }, { signal: abort.signal })) {
        if (event?.type === managerv1.TopologyEvent_Type.NODE_CHANGED && event.node) sink.node(event.node);
      }
    } catch {
      // The stream ends with the command (aborted) or when the manager goes away: progress is best-effort.
    }
  })();
  return {
    async stop(finalNodes, options) {
      abort.abort();
      await done;
      for (const n of finalNodes ?? []) sink.node(n);
      if (options?.succeeded) sink.complete();
      sink.finish();
    },
  };
}
