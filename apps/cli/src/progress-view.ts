/**
 * What the progress of create, apply and delete looks like, kept apart from where the events
 * come from (progress.ts) so that it is tested as plain text: a model of the nodes' phases
 * and renderers for a terminal's live area, for one line per second, and for the summary.
 */

/** A node's phase as the progress shows it (the manager's NodePhase names, lower case). */
export type NodePhaseLabel = "pending" | "starting" | "ready" | "failed" | "stopped";

const phaseOrder: readonly NodePhaseLabel[] = ["ready", "starting", "pending", "stopped", "failed"];

interface NodeProgress {
  phase: NodePhaseLabel;
  message: string;
  /** When the node was first seen (ms, the caller's clock). */
  since: number;
  /** When it reached the goal phase. */
  doneAt: number | undefined;
}

export interface ProgressModelOptions {
  /** "create"/"apply" wait for ready nodes, "delete" for stopped ones. */
  verb: "creating" | "applying" | "deleting";
  topology: string;
  /** Nodes the operation is about, when known up front (create knows the file's). */
  expected?: number;
  /** The clock's value at the start. */
  started: number;
}

/** A node that failed, for the line printed when it happens. */
export interface NodeError {
  node: string;
  message: string;
}

export class ProgressModel {
  private readonly nodes = new Map<string, NodeProgress>();
  private readonly goal: NodePhaseLabel;
  readonly errors: NodeError[] = [];

  constructor(readonly options: ProgressModelOptions) {
    this.goal = options.verb === "deleting" ? "stopped" : "ready";
  }

  /** Records a node's status; returns the error it newly reports, if any. */
  update(name: string, phase: NodePhaseLabel, message: string, now: number): NodeError | undefined {
    const node = this.nodes.get(name);
    const before = node?.phase;
    if (node) {
      node.phase = phase;
      node.message = message;
    } else {
      this.nodes.set(name, { phase, message, since: now, doneAt: undefined });
    }
    const current = this.nodes.get(name)!;
    if (phase === this.goal && current.doneAt === undefined) current.doneAt = now;
    if (phase === "failed" && before !== "failed") {
      const error = { node: name, message: message || "failed" };
      this.errors.push(error);
      return error;
    }
    return undefined;
  }

  /**
   * The operation returned successfully: every node not failed is at the goal (a delete's
   * watch may end before the last nodes' removal reaches it).
   */
  complete(now: number): void {
    for (const n of this.nodes.values()) {
      if (n.phase === "failed" || n.phase === this.goal) continue;
      n.phase = this.goal;
      n.doneAt = now;
    }
  }

  /** Nodes per phase, in a fixed order, phases with none left out. */
  counts(): [NodePhaseLabel, number][] {
    const counts = new Map<NodePhaseLabel, number>();
    for (const n of this.nodes.values()) counts.set(n.phase, (counts.get(n.phase) ?? 0) + 1);
    return phaseOrder.filter((p) => counts.has(p)).map((p) => [p, counts.get(p)!]);
  }

  get total(): number {
    return Math.max(this.options.expected ?? 0, this.nodes.size);
  }

  get done(): number {
    let done = 0;
    for (const n of this.nodes.values()) if (n.phase === this.goal) done++;
    return done;
  }

  /** Nodes not at the goal yet, longest waiting first; when all are, the last to get there. */
  slowest(now: number, count: number): { node: string; phase: NodePhaseLabel; ms: number }[] {
    const waiting = [...this.nodes].filter(([, n]) => n.phase !== this.goal);
    const list =
      waiting.length > 0
        ? waiting.map(([node, n]) => ({ node, phase: n.phase, ms: now - n.since }))
        : [...this.nodes].map(([node, n]) => ({ node, phase: n.phase, ms: (n.doneAt ?? now) - this.options.started }));
    return list.sort((a, b) => b.ms - a.ms || a.node.localeCompare(b.node, "en", { numeric: true })).slice(0, count);
  }
}

const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)}s`;

function countsText(model: ProgressModel): string {
  const goal = model.options.verb === "deleting" ? "stopped" : "ready";
  const others = model
    .counts()
    .filter(([phase]) => phase !== goal)
    .map(([phase, n]) => `${n} ${phase}`);
  return [`${model.done}/${model.total} ${goal}`, ...others].join(", ");
}

/** A bar of `width` cells filled in proportion to done/total. */
export function progressBar(done: number, total: number, width: number): string {
  const filled = total === 0 ? 0 : Math.min(width, Math.round((done / total) * width));
  return `[${"#".repeat(filled)}${".".repeat(width - filled)}]`;
}

/**
 * The live area on a terminal: the bar with the counts and the elapsed time, then the
 * slowest nodes. Lines are cut to the terminal's width, so that none wraps (a wrapped line
 * would break the redraw, which moves up by line count).
 */
export function renderLive(model: ProgressModel, now: number, columns = 80): string[] {
  const header = `${model.options.verb} ${model.options.topology} ${progressBar(model.done, model.total, 20)} ${countsText(model)}  ${seconds(now - model.options.started)}`;
  const slow = model.slowest(now, 3);
  const lines = [header];
  if (slow.length > 0 && model.done < model.total) lines.push(`  slowest: ${slow.map((s) => `${s.node} (${s.phase} ${seconds(s.ms)})`).join(", ")}`);
  return lines.map((l) => (l.length > columns - 1 ? `${l.slice(0, columns - 2)}…` : l));
}

/** One line for a log or a pipe (printed at most once a second). */
export function renderLine(model: ProgressModel, now: number): string {
  return `${seconds(now - model.options.started).padStart(6)}  ${countsText(model)}`;
}

/** The line that stays when the operation has finished. */
export function renderSummary(model: ProgressModel, now: number): string {
  const slow = model.slowest(now, 3).filter((s) => s.ms > 0);
  const slowText = slow.length > 0 ? `; slowest: ${slow.map((s) => `${s.node} ${seconds(s.ms)}`).join(", ")}` : "";
  return `${countsText(model)} after ${seconds(now - model.options.started)}${slowText}`;
}

export function renderError(error: NodeError, model: ProgressModel, now: number): string {
  return `${seconds(now - model.options.started).padStart(6)}  ${error.node} failed: ${error.message}`;
}
