/**
 * Options of the agent: raw (what callers pass) → resolved (defaults filled, checked, frozen).
 * A bad option fails at construction with a message naming it, not at the first request.
 */
import { availableParallelism } from "node:os";
import { isAbsolute } from "node:path";
import { type DesiredScope, HOST_NETNS, InvalidArgumentError, validateIpAddress, validateNetnsName } from "@kne/dataplane";
import type { Logger } from "@kne/telemetry";
import type { PeerClientFactory } from "./peer-clients.ts";

/** Time source; injected so tests control timestamps. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

export interface AgentServiceOptions {
  /** Where desired state is persisted (created when missing). */
  stateDir: string;
  /** This host's underlay address for VXLAN, unless a request names one. */
  underlayAddress?: string;
  /**
   * The namespace that holds the underlay (VXLAN sockets) and host interfaces. Default: the
   * agent's own namespace (HOST_NETNS). A test may run an agent in the root namespace and
   * point this at a namespace that plays the host.
   */
  hostNetns?: string;
  /**
   * "topology" (default): the agent owns every object of a topology on this kernel and
   * removes what its desired state does not name. "listed": several agents share the
   * kernel's named namespaces (emulated hosts on one machine); each manages only the
   * namespaces its desired state names.
   */
  namespaceScope?: DesiredScope;
  /** Re-converge every topology this often to repair drift (default 10 s; 0 turns it off). */
  resyncIntervalMs?: number;
  /** First retry after a failed pass (default 1 s), doubling up to the resync interval. */
  retryMinMs?: number;
  /** Deadline of a PrepareTunnel call to a peer (default 10 s). */
  peerTimeoutMs?: number;
  /** fsync snapshots of the desired state (default true). */
  fsync?: boolean;
  /**
   * Per-namespace kernel batches run on this many processes at once (default: cores + 1,
   * at most 8; 1 runs them one after the other, as the data plane does by itself).
   */
  kernelParallelism?: number;
  logger: Logger;
  clock?: Clock;
  /** Clients of peer agents (default: gRPC over h2c to `http://host:port`). */
  peerClientFactory?: PeerClientFactory;
}

export interface ResolvedAgentOptions {
  readonly stateDir: string;
  readonly underlayAddress?: string;
  readonly hostNetns: string;
  readonly namespaceScope: DesiredScope;
  readonly resyncIntervalMs: number;
  readonly retryMinMs: number;
  readonly peerTimeoutMs: number;
  readonly fsync: boolean;
  readonly kernelParallelism: number;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly peerClientFactory?: PeerClientFactory;
}

function nonNegative(value: number | undefined, fallback: number, name: string): number {
  const v = value ?? fallback;
  if (!Number.isFinite(v) || v < 0) throw new InvalidArgumentError(`${v} must be a non-negative number of milliseconds`, name);
  return v;
}

function parallelism(value: number | undefined): number {
  const v = value ?? Math.min(8, availableParallelism() + 1);
  if (!Number.isInteger(v) || v < 1 || v > 64) throw new InvalidArgumentError(`${v} must be an integer in 1..64`, "kernelParallelism");
  return v;
}

export function resolveAgentOptions(raw: AgentServiceOptions): ResolvedAgentOptions {
  if (!raw.stateDir || !isAbsolute(raw.stateDir)) throw new InvalidArgumentError(`state directory ${JSON.stringify(raw.stateDir)} must be an absolute path`, "stateDir");
  if (raw.underlayAddress !== undefined && raw.underlayAddress !== "") validateIpAddress(raw.underlayAddress, "underlayAddress");
  const hostNetns = raw.hostNetns ?? HOST_NETNS;
  validateNetnsName(hostNetns, "hostNetns");
  const scope = raw.namespaceScope ?? "topology";
  if (scope !== "topology" && scope !== "listed") throw new InvalidArgumentError(`${String(scope)} must be "topology" or "listed"`, "namespaceScope");
  return Object.freeze({
    stateDir: raw.stateDir,
    underlayAddress: raw.underlayAddress === "" ? undefined : raw.underlayAddress,
    hostNetns,
    namespaceScope: scope,
    resyncIntervalMs: nonNegative(raw.resyncIntervalMs, 10_000, "resyncIntervalMs"),
    retryMinMs: nonNegative(raw.retryMinMs, 1_000, "retryMinMs"),
    peerTimeoutMs: nonNegative(raw.peerTimeoutMs, 10_000, "peerTimeoutMs"),
    fsync: raw.fsync ?? true,
    kernelParallelism: parallelism(raw.kernelParallelism),
    logger: raw.logger,
    clock: raw.clock ?? systemClock,
    peerClientFactory: raw.peerClientFactory,
  });
}
