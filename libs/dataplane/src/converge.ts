/**
 * One reconcile pass: observe → plan → apply. Level-triggered: call it with the whole desired
 * state whenever anything may have changed (and periodically); a pass over a converged state
 * reads the kernel and changes nothing.
 */
import { probeKernelFeatures, type KernelFeatures } from "./capabilities.ts";
import { type DesiredState, validateDesiredState, wireEndpoints } from "./desired-state.ts";
import { ApplyError, type DataplaneError } from "./errors.ts";
import { type ApplyReport, type ExecutorOptions, applyOperations } from "./executor.ts";
import { hasImpairments } from "./impairments.ts";
import { listNetns, observeNamespaces, type ObservedState } from "./observe.ts";
import { processRunner } from "./command-runner.ts";
import { type Plan, observationRequests, planReconcile } from "./reconcile.ts";

export interface ConvergeOptions extends ExecutorOptions {
  /** Foreign namespaces to look into for stale devices of ours (pod namespaces, say). */
  extraNamespaces?: readonly string[];
  /** Kernel features; probed (once per process) when the state has impairments and this is absent. */
  features?: KernelFeatures;
  /** Plan only: observe and plan, apply nothing. */
  dryRun?: boolean;
}

export interface ConvergeResult {
  observed: ObservedState;
  plan: Plan;
  report: ApplyReport;
  /** Plan problems followed by failed operations: empty when the pass converged. */
  errors: DataplaneError[];
}

/** Reads what the desired state concerns, in one `ip` process per namespace. */
export async function observeForReconcile(desired: DesiredState, options: ConvergeOptions = {}): Promise<ObservedState> {
  const runner = options.runner ?? processRunner;
  const netnsNames = await listNetns(runner);
  const requests = observationRequests(desired, netnsNames, options.extraNamespaces);
  return observeNamespaces(requests, { runner, concurrency: options.concurrency, multiplexFrom: options.multiplexFrom, topology: desired.topology, netnsNames });
}

export async function converge(desired: DesiredState, options: ConvergeOptions = {}): Promise<ConvergeResult> {
  validateDesiredState(desired);
  const runner = options.runner ?? processRunner;
  const needsFeatures = desired.wires.some((w) => wireEndpoints(w).some(({ endpoint }) => hasImpairments(endpoint.impairments)));
  const features = options.features ?? (needsFeatures ? await probeKernelFeatures(runner) : undefined);
  const observed = await observeForReconcile(desired, { ...options, runner });
  const plan = planReconcile(desired, observed, { features: features?.available });
  const report: ApplyReport = options.dryRun
    ? { operations: plan.operations.length, processes: 0, failures: [], elapsedMs: 0, phaseMs: {} }
    : await applyOperations(plan.operations, { ...options, runner });
  return { observed, plan, report, errors: [...plan.problems, ...report.failures.map((f) => f.error)] };
}

/** `converge`, then throw the problem (one) or an `ApplyError` (several) if the pass did not converge. */
export async function convergeOrThrow(desired: DesiredState, options: ConvergeOptions = {}): Promise<ConvergeResult> {
  const result = await converge(desired, options);
  if (result.errors.length === 1) throw result.errors[0]!;
  if (result.errors.length > 1) throw new ApplyError(result.errors);
  return result;
}
