/**
 * Live progress of create, apply and delete on stderr: one line per node whenever its phase
 * or message changes, read from the manager's WatchTopologies stream (so it works the same
 * in-process and against a server).
 */
import { managerv1 } from "@kne/proto";
import type { CliIo } from "./cli-io";
import type { ManagerConnection } from "./manager-client";

export interface ProgressPrinter {
  /**
   * Stops watching. The watch may lag the call that just returned, so the final node
   * states it carries (when given) are printed for every node whose last line differs.
   */
  stop(finalNodes?: readonly managerv1.NodeStatus[]): Promise<void>;
}

export function phaseName(phase: managerv1.NodePhase | managerv1.TopologyPhase, kind: "node" | "topology"): string {
  const name = kind === "node" ? managerv1.NodePhase[phase as managerv1.NodePhase] : managerv1.TopologyPhase[phase as managerv1.TopologyPhase];
  return (name ?? String(phase)).toLowerCase();
}

/**
 * Prints node changes of `topology` until stopped. Nodes first seen already ready (apply and
 * delete start from a running topology) are not repeated.
 */
export function watchProgress(m: ManagerConnection, topology: string, io: CliIo, started = Date.now()): ProgressPrinter {
  const abort = new AbortController();
  const last = new Map<string, string>();
  const quietWhileReady = new Set<string>();
  const elapsed = (): string => `${((Date.now() - started) / 1000).toFixed(1).padStart(5)}s`;
  const show = (n: managerv1.NodeStatus): void => {
    const line = `${phaseName(n.phase, "node")}${n.message ? `: ${n.message}` : ""}`;
    if (!last.has(n.name) && n.phase === managerv1.NodePhase.READY) quietWhileReady.add(n.name);
    if (quietWhileReady.has(n.name) && n.phase === managerv1.NodePhase.READY) {
      last.set(n.name, line);
      return;
    }
    if (last.get(n.name) === line) return;
    last.set(n.name, line);
    io.stderr.write(`${elapsed()}  ${n.name.padEnd(12)} ${line}\n`);
  };
  const done = (async () => {
    try {
      for await (const { event } of m.topology.watchTopologies({ name: topology }, { signal: abort.signal })) {
        if (event?.type === managerv1.TopologyEvent_Type.NODE_CHANGED && event.node) show(event.node);
      }
    } catch {
      // The stream ends with the command (aborted) or when the manager goes away: progress is best-effort.
    }
  })();
  return {
    async stop(finalNodes) {
      abort.abort();
      await done;
      for (const n of finalNodes ?? []) show(n);
    },
  };
}
