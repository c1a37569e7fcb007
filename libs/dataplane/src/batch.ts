/**
 * Kernel operations as data, and the text of the batches that carry them: one `ip -batch -`
 * (or `tc -batch -`, `nft -f -`, `sysctl -w`) per namespace per phase. Pure: no processes.
 */
import type { DataplaneCode } from "./errors.ts";
import { InvalidArgumentError } from "./errors.ts";
import { HOST_NETNS, isSafeBatchToken } from "./names.ts";

/**
 * Phases run in this order; inside a phase, the batches of different namespaces and tools run
 * concurrently, and the lines of one batch run in order.
 * - netns-add: `netns add` in the host namespace.
 * - prepare: deletions of stale or mismatched devices, qdisc/nft removals, helper devices a
 *   later phase needs (bridges, the loss sink), loopback up.
 * - create: wire devices, created directly in their target namespaces (`link add ... netns X`);
 *   moving devices between namespaces costs an RCU grace period each (500 moves took 20 s here).
 * - setup: per-namespace settings of the new and existing devices (alias, up, mtu, master),
 *   qdiscs, nft chains, sysctls.
 * - netns-delete: `netns del` of namespaces no longer wanted.
 */
export type Phase = "netns-add" | "prepare" | "create" | "setup" | "netns-delete";
export const PHASES: readonly Phase[] = ["netns-add", "prepare", "create", "setup", "netns-delete"];

export type Tool = "ip" | "tc" | "nft" | "sysctl";

/** One kernel operation. */
export interface KernelOperation {
  phase: Phase;
  tool: Tool;
  /** Namespace the tool runs in; HOST_NETNS for the host. */
  netns: string;
  /**
   * ip/tc: the tokens of one batch line; nft: the lines of a script (one transaction);
   * sysctl: `key=value` settings.
   */
  args: readonly string[];
  /** The kernel object concerned, for messages: `netns kne.t1.r1 dev eth1`. */
  object: string;
  /** Error codes that count as success (NOT_FOUND for deletes makes them idempotent). */
  ignore?: readonly DataplaneCode[];
}

/** Operations of one tool in one namespace in one phase: one process. */
export interface Batch {
  phase: Phase;
  tool: Tool;
  netns: string;
  operations: KernelOperation[];
}

/** Groups operations into batches: phase order first, then first appearance. */
export function groupIntoBatches(operations: readonly KernelOperation[]): Batch[][] {
  return PHASES.map((phase) => {
    const byKey = new Map<string, Batch>();
    for (const op of operations) {
      if (op.phase !== phase) continue;
      const key = `${op.tool}\u0000${op.netns}`;
      let batch = byKey.get(key);
      if (!batch) {
        batch = { phase, tool: op.tool, netns: op.netns, operations: [] };
        byKey.set(key, batch);
      }
      batch.operations.push(op);
    }
    return [...byKey.values()];
  }).filter((phaseBatches) => phaseBatches.length > 0);
}

/** One `ip`/`tc` batch line; every token must be safe to place unquoted. */
export function batchLine(tokens: readonly string[]): string {
  for (const t of tokens) {
    if (!isSafeBatchToken(t)) {
      throw new InvalidArgumentError(`unsafe token ${JSON.stringify(t)} in a kernel command`);
    }
  }
  return tokens.join(" ");
}

/** stdin of `ip -batch -` / `tc -batch -` for the batch. */
export function batchText(batch: Batch): string {
  return batch.operations.map((op) => batchLine(op.args)).join("\n") + "\n";
}

/** stdin of `nft -f -`: the scripts of the operations, concatenated (one transaction). */
export function nftScriptText(operations: readonly KernelOperation[]): string {
  return operations.map((op) => op.args.join("\n")).join("\n") + "\n";
}

/**
 * `nsenter --net=/run/netns/NS --` prefix that runs a tool inside a named namespace. Used for
 * ip and tc too instead of their `-n`: `-n` unshares the mount namespace and remounts /sys,
 * copying the whole mount table (one mount per netns) on every call.
 */
export function nsenterPrefix(netns: string): string[] {
  return netns === HOST_NETNS ? [] : ["nsenter", `--net=/run/netns/${netns}`, "--"];
}

/** argv (file first) of `tool args...` run inside `netns`. */
export function toolArgv(netns: string, tool: string, args: readonly string[]): string[] {
  return [...nsenterPrefix(netns), tool, ...args];
}

/** argv (file first) that runs the batch reading its input from `input` ("-" = stdin). */
export function batchCommand(batch: Batch, input = "-"): string[] {
  const prefix = nsenterPrefix(batch.netns);
  switch (batch.tool) {
    case "ip":
      return [...prefix, "ip", "-force", "-batch", input];
    case "tc":
      return [...prefix, "tc", "-force", "-batch", input];
    case "nft":
      return [...prefix, "nft", "-f", input];
    case "sysctl":
      return [...prefix, "sysctl", "-q", "-w", ...batch.operations.flatMap((op) => op.args)];
  }
}

/** stdin (or file content) of the batch; undefined for tools that take no input. */
export function batchInput(batch: Batch): string | undefined {
  switch (batch.tool) {
    case "ip":
    case "tc":
      return batchText(batch);
    case "nft":
      return nftScriptText(batch.operations);
    case "sysctl":
      return undefined;
  }
}

/** What `ip -force -batch` / `tc -force -batch` said about each failed line (1-based). */
export interface BatchFailures {
  byLine: Map<number, string>;
  /** Error text not followed by a `Command failed` marker (a fatal parse error aborts the batch). */
  unattributed: string;
}

/**
 * iproute2 prints a failing line's error(s) and then `Command failed -:N`; with -force it goes
 * on with the next line. Without the marker the process stopped (for example on a syntax
 * error), and the lines after the last marker did not run.
 */
export function parseBatchFailures(stderr: string): BatchFailures {
  const byLine = new Map<number, string>();
  let pending: string[] = [];
  for (const line of stderr.split("\n")) {
    const m = /^Command failed (?:.*):(\d+)\s*$/.exec(line);
    if (m) {
      byLine.set(Number(m[1]), pending.join("\n").trim());
      pending = [];
    } else if (line.trim() !== "") {
      pending.push(line);
    }
  }
  return { byLine, unattributed: pending.join("\n").trim() };
}
