/**
 * Applies kernel operations: phase by phase, one process per (tool, namespace) batch. A phase
 * with a handful of batches spawns them directly, in parallel; a phase with many (one per
 * namespace, typically) runs them through one `xargs` (see process-multiplexer.ts), which is
 * 2-3 times cheaper per process here. Failures come back per operation as typed errors; an
 * operation whose error code it declared in `ignore` counts as done.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { type Batch, type KernelOperation, type Phase, batchCommand, batchInput, groupIntoBatches, nftScriptText, parseBatchFailures } from "./batch.ts";
import { type CommandRunner, DEFAULT_CONCURRENCY, mapLimit, processRunner } from "./command-runner.ts";
import { ApplyError, type DataplaneError, translateCommandFailure } from "./errors.ts";
import { NETLINK_HELPER_COMMAND, NETLINK_HELPER_FROM, type StartedHelper, helperSupportsBatch, startNetlinkHelper } from "./netlink-helper.ts";
import { DEFAULT_MULTIPLEX_FROM, runMultiplexed } from "./process-multiplexer.ts";

export interface ExecutorOptions {
  runner?: CommandRunner;
  /** Processes at a time for directly spawned batches (default 8). */
  concurrency?: number;
  /**
   * Run a phase through one xargs process when it has at least this many batches (default 6;
   * `Infinity` never multiplexes).
   */
  multiplexFrom?: number;
  /**
   * Run the in-namespace `ip` lines of a phase with many namespaces through the netlink
   * helper (netlink-helper.ts: one process for all of them). Default: with the default
   * runner only, since it starts `python3` rather than `ip`.
   */
  netlinkHelper?: boolean;
}

export interface OperationFailure {
  operation: KernelOperation;
  error: DataplaneError;
}

export interface ApplyReport {
  operations: number;
  /** Processes started. */
  processes: number;
  failures: OperationFailure[];
  elapsedMs: number;
  /** Wall time per phase that had work. */
  phaseMs: Partial<Record<Phase, number>>;
}

interface BatchResult {
  failures: OperationFailure[];
  processes: number;
}

function failureFor(op: KernelOperation, command: readonly string[], stderr: string, exitCode: number | undefined, line?: string): OperationFailure | undefined {
  const error = translateCommandFailure({ command, stderr, exitCode, object: op.object, line });
  if (op.ignore?.includes(error.code)) return undefined;
  return { operation: op, error };
}

/** Per-operation failures of an ip/tc batch from its error output. */
function lineBatchFailures(batch: Batch, argv: readonly string[], stderr: string, exitCode: number | undefined): OperationFailure[] {
  const parsed = parseBatchFailures(stderr);
  const failures: OperationFailure[] = [];
  const lastReported = Math.max(0, ...parsed.byLine.keys());
  batch.operations.forEach((op, i) => {
    const lineNo = i + 1;
    const line = op.args.join(" ");
    const text = parsed.byLine.get(lineNo);
    let f: OperationFailure | undefined;
    if (text !== undefined) f = failureFor(op, argv, text, exitCode, line);
    // The tool stopped without a per-line marker: it did not run this line (or failed on it).
    else if (parsed.unattributed && lineNo > lastReported) f = failureFor(op, argv, parsed.unattributed, exitCode, line);
    if (f) failures.push(f);
  });
  return failures;
}

async function runNftOneByOne(batch: Batch, runner: CommandRunner): Promise<BatchResult> {
  // One nft transaction is all or nothing: run the scripts one by one to find the culprit and
  // to let the others take effect.
  const argv = batchCommand(batch);
  const failures: OperationFailure[] = [];
  for (const op of batch.operations) {
    const r = await runner.run(argv[0]!, argv.slice(1), { input: nftScriptText([op]) });
    if (r.exitCode !== 0) {
      const f = failureFor(op, argv, r.stderr, r.exitCode);
      if (f) failures.push(f);
    }
  }
  return { failures, processes: batch.operations.length };
}

/** Interprets what a batch wrote to stderr (and its exit code, when known). */
async function outcome(batch: Batch, argv: readonly string[], stderr: string, exitCode: number | undefined, runner: CommandRunner): Promise<BatchResult> {
  const failed = exitCode === undefined ? stderr.trim() !== "" : exitCode !== 0 || (batch.tool === "sysctl" && stderr.trim() !== "");
  if (!failed) return { failures: [], processes: 1 };
  switch (batch.tool) {
    case "ip":
    case "tc":
      return { failures: lineBatchFailures(batch, argv, stderr, exitCode), processes: 1 };
    case "nft": {
      if (batch.operations.length === 1) {
        const f = failureFor(batch.operations[0]!, argv, stderr, exitCode);
        return { failures: f ? [f] : [], processes: 1 };
      }
      const retried = await runNftOneByOne(batch, runner);
      return { failures: retried.failures, processes: retried.processes + 1 };
    }
    case "sysctl": {
      const failures = batch.operations.map((op) => failureFor(op, argv, stderr || `exit code ${exitCode}`, exitCode)).filter((f): f is OperationFailure => !!f);
      return { failures, processes: 1 };
    }
  }
}

async function runDirect(batch: Batch, runner: CommandRunner): Promise<BatchResult> {
  const argv = batchCommand(batch);
  const input = batchInput(batch);
  const r = await runner.run(argv[0]!, argv.slice(1), input === undefined ? {} : { input });
  return outcome(batch, argv, r.stderr, r.exitCode, runner);
}

/** The phase's batches the helper can run go through it; the rest, and any it did not finish, the usual way. */
async function runPhaseWithHelper(batches: readonly Batch[], helper: StartedHelper, runner: CommandRunner, multiplexFrom: number, concurrency: number): Promise<BatchResult[]> {
  const viaHelper: number[] = [];
  const others: number[] = [];
  batches.forEach((b, i) => (helperSupportsBatch(b) ? viaHelper : others).push(i));
  const results = new Array<BatchResult>(batches.length);
  const usual = async (indexes: readonly number[]): Promise<void> => {
    const list = indexes.map((i) => batches[i]!);
    const done = list.length >= multiplexFrom ? await runPhaseMultiplexed(list, runner) : await mapLimit(list, concurrency, (batch) => runDirect(batch, runner));
    indexes.forEach((batchIndex, k) => (results[batchIndex] = done[k]!));
    // runPhaseMultiplexed appends the xargs process itself.
    if (done.length > list.length) results.push(...done.slice(list.length));
  };
  const helped = async (): Promise<void> => {
    const list = viaHelper.map((i) => batches[i]!);
    const chunks = await helper.run(list);
    const unfinished: number[] = [];
    await Promise.all(
      chunks.map(async (chunk, k) => {
        const batchIndex = viaHelper[k]!;
        if (!chunk.done) {
          unfinished.push(batchIndex);
          return;
        }
        const r = await outcome(list[k]!, NETLINK_HELPER_COMMAND, chunk.stderr, undefined, runner);
        results[batchIndex] = { failures: r.failures, processes: 0 };
      }),
    );
    results.push({ failures: [], processes: 1 });
    if (unfinished.length > 0) await usual(unfinished.sort((a, b) => a - b));
  };
  await Promise.all([helped(), others.length > 0 ? usual(others) : Promise.resolve()]);
  return results;
}

async function runPhaseMultiplexed(batches: readonly Batch[], runner: CommandRunner): Promise<BatchResult[]> {
  const dir = await mkdtemp(join(tmpdir(), "kne-dataplane-"));
  try {
    const commands = await Promise.all(
      batches.map(async (batch, i) => {
        const input = batchInput(batch);
        if (input === undefined) return batchCommand(batch);
        const file = join(dir, `b${i}`);
        await writeFile(file, input, { mode: 0o600 });
        return batchCommand(batch, file);
      }),
    );
    const run = await runMultiplexed(commands, dir, runner);
    const results = await Promise.all(
      batches.map(async (batch, i) => {
        const o = run.outcomes[i]!;
        // xargs stops after a command exits with 255; run what it did not reach directly.
        if (!o.ran) return runDirect(batch, runner);
        const r = await outcome(batch, commands[i]!, o.stderr, undefined, runner);
        // Node spawned only xargs for this one (counted below), plus any retries.
        return { failures: r.failures, processes: r.processes - 1 };
      }),
    );
    results.push({ failures: [], processes: 1 });
    return results;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** From this many `netns add` lines in one batch, they are split over several processes. */
const NETNS_ADD_SPLIT_FROM = 32;

/**
 * Namespaces are made by several processes side by side: most of a namespace's creation
 * (the kernel's per-net setup) runs under a shared lock, so on 2 cores two processes made
 * 100 in 70-77 ms where one took 88-120 ms. Link operations serialize on the RTNL lock and
 * gained nothing, so they stay in one batch.
 */
function splitNamespaceAdds(batches: Batch[]): Batch[] {
  const parts = Math.min(availableParallelism(), 4);
  return batches.flatMap((b) => {
    if (b.phase !== "netns-add" || b.operations.length < NETNS_ADD_SPLIT_FROM || parts < 2) return [b];
    const size = Math.ceil(b.operations.length / parts);
    return Array.from({ length: parts }, (_, i) => ({ ...b, operations: b.operations.slice(i * size, (i + 1) * size) })).filter((part) => part.operations.length > 0);
  });
}

/**
 * Runs the operations and reports per-operation failures. Later phases still run after a
 * failure (an unrelated wire should not wait for a broken one); their own errors say what
 * was missing.
 */
export async function applyOperations(operations: readonly KernelOperation[], options: ExecutorOptions = {}): Promise<ApplyReport> {
  const started = performance.now();
  const runner = options.runner ?? processRunner;
  const concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;
  const multiplexFrom = options.multiplexFrom ?? DEFAULT_MULTIPLEX_FROM;
  const useHelper = options.netlinkHelper ?? runner === processRunner;
  const report: ApplyReport = { operations: operations.length, processes: 0, failures: [], elapsedMs: 0, phaseMs: {} };
  const phases = groupIntoBatches(operations).map(splitNamespaceAdds);
  // Helpers for the phases that will use one start now, while the earlier phases run.
  const helpers = phases.map((phaseBatches) => (useHelper && phaseBatches.filter(helperSupportsBatch).length >= NETLINK_HELPER_FROM ? startNetlinkHelper() : undefined));
  try {
    for (const [i, phaseBatches] of phases.entries()) {
      const phaseStarted = performance.now();
      const helper = helpers[i];
      helpers[i] = undefined;
      const results = helper
        ? await runPhaseWithHelper(phaseBatches, helper, runner, multiplexFrom, concurrency)
        : phaseBatches.length >= multiplexFrom
          ? await runPhaseMultiplexed(phaseBatches, runner)
          : await mapLimit(phaseBatches, concurrency, (batch) => runDirect(batch, runner));
      report.phaseMs[phaseBatches[0]!.phase] = performance.now() - phaseStarted;
      for (const r of results) {
        report.processes += r.processes;
        report.failures.push(...r.failures);
      }
    }
  } finally {
    for (const h of helpers) h?.cancel();
  }
  report.elapsedMs = performance.now() - started;
  return report;
}

/** Like `applyOperations`, but throws: the typed error of a single failure, or an `ApplyError` carrying all. */
export async function applyOperationsOrThrow(operations: readonly KernelOperation[], options: ExecutorOptions = {}): Promise<ApplyReport> {
  const report = await applyOperations(operations, options);
  if (report.failures.length === 1) throw report.failures[0]!.error;
  if (report.failures.length > 1) throw new ApplyError(report.failures.map((f) => f.error));
  return report;
}
