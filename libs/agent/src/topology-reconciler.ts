/**
 * The agent's level-triggered loop. The key is a topology: each pass compiles its persisted
 * desired state, converges the kernel to it (the data plane observes, plans and applies) and
 * records the outcome. Work on one topology is serialized (passes, link flips, impairments,
 * deletion: one at a time, in order); different topologies proceed in parallel. A failed
 * pass is retried with backoff; every topology is re-converged periodically to repair drift.
 *
 * Cross-host wires: after a pass, the agent tells the agent at the far end of each new or
 * changed VXLAN wire (PrepareTunnel), outside the topology's queue so two agents calling
 * each other never wait on each other. A peer that is down is retried on later passes.
 */
import { equals } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import {
  type CommandRunner,
  type DataplaneError,
  type Impairments,
  type KernelFeatures,
  type KernelOperation,
  ApplyError,
  applyOperations,
  assertFeatures,
  converge,
  deleteNamespaces,
  hasImpairments,
  deleteTopology as deleteTopologyObjects,
  isOwnedNetns,
  listNetns,
  mapLimit,
  probeKernelFeatures,
  refreshLink,
  setImpairments as setEndpointImpairments,
  validateIpAddress,
  vniForUid,
} from "@kne/dataplane";
import { agentv1 } from "@kne/proto";
import type { ResolvedAgentOptions } from "./agent-options.ts";
import { type CompiledTopology, type LocalEndpointInfo, type PeerTunnel, type PreparedTunnel, compileTopology, endpointKey } from "./desired-wires.ts";
import { AgentError } from "./errors.ts";
import type { LinkStateSessions } from "./link-state-sessions.ts";
import type { PeerClientFactory } from "./peer-clients.ts";
import { createParallelRunner } from "./parallel-runner.ts";
import { KeyedSerialQueue } from "./serial-queue.ts";
import { type StateStore, type TopologyRecord, emptyRecord } from "./state-store.ts";

/** What one pass did. */
export interface PassOutcome {
  topology: string;
  generation: bigint;
  operations: number;
  created: number;
  deleted: number;
  unchanged: number;
  /** Plan problems and failed operations; empty when the pass converged. */
  errors: DataplaneError[];
  /** Cross-host wires left out until the peer's underlay address is known. */
  pending: string[];
  elapsedMs: number;
  phaseMs: Record<string, number>;
}

interface Runtime {
  record: TopologyRecord;
  compiled?: CompiledTopology;
  /** Peers told about each cross-host wire: uid → what they were told. */
  confirmedPeers: Map<string, string>;
  /** Addresses last put in place, and for which state. */
  addressesApplied?: string;
  /** Foreign namespaces the topology has used (where stale devices of ours may remain). */
  foreign: Set<string>;
  retryDelayMs: number;
  retryTimer?: NodeJS.Timeout;
  /** A journal compaction waiting for a quiet moment. */
  compactionTimer?: NodeJS.Timeout;
}

/** Quiet time after a link flip before a long journal is folded into the snapshot. */
const COMPACTION_QUIET_MS = 500;
/** How soon after a flip its far end is asked for (see refreshSoon). */
const PEER_REFRESH_DELAY_MS = 20;

export interface ReconcilerDeps {
  store: StateStore;
  sessions: LinkStateSessions;
  peers: PeerClientFactory;
}

/** A wire made or remade (the planner's action lines; a LAN member counts, its bridge not). */
function isCreate(action: string): boolean {
  return /^(create|recreate) (veth|vxlan|macvlan) |^(create|recreate) lan \S+ member /.test(action);
}

function isDelete(action: string): boolean {
  return /^(remove |delete netns )/.test(action);
}

function peerSignature(p: PeerTunnel, localUnderlay: string | undefined): string {
  return [p.vni, localUnderlay ?? "", p.remote.agentAddress, p.local.node, p.local.interface, p.local.mtu, p.remote.node, p.remote.interface].join("|");
}

export class TopologyReconciler {
  private readonly runtimes = new Map<string, Runtime>();
  private readonly queue = new KeyedSerialQueue();
  private readonly queuedPasses = new Map<string, Promise<PassOutcome | undefined>>();
  private readonly listeners = new Map<string, Set<() => void>>();
  private resyncTimer?: NodeJS.Timeout;
  private features?: Promise<KernelFeatures | undefined>;
  private closed = false;
  /** Far ends to ask for soon, by netns and ifname. */
  private readonly peerRefreshes = new Map<string, NodeJS.Timeout>();
  /** How every kernel command of a pass runs (multiplexed phases spread over processes). */
  private readonly runner: CommandRunner;

  constructor(
    private readonly options: ResolvedAgentOptions,
    private readonly deps: ReconcilerDeps,
  ) {
    this.runner = createParallelRunner(options.kernelParallelism);
  }

  private get logger() {
    return this.options.logger;
  }

  /** Kernel features, probed once; undefined where probing is impossible (not root). */
  kernelFeatures(): Promise<KernelFeatures | undefined> {
    this.features ??= probeKernelFeatures().catch((err: unknown) => {
      this.logger.warn({ err }, "kernel features not probed");
      this.features = undefined;
      return undefined;
    });
    return this.features;
  }

  // ---- lifecycle ----------------------------------------------------------------------------

  /** Reads the persisted state; returns the topologies found. */
  async load(): Promise<string[]> {
    const records = await this.deps.store.loadAll();
    for (const record of records) this.runtimes.set(record.topology, this.newRuntime(record));
    this.logger.info({ topologies: records.map((r) => r.topology), stateDir: this.options.stateDir }, "desired state loaded");
    return records.map((r) => r.topology);
  }

  startResync(): void {
    if (this.options.resyncIntervalMs <= 0 || this.resyncTimer) return;
    this.resyncTimer = setInterval(() => {
      for (const topology of this.runtimes.keys()) void this.converge(topology).catch(() => undefined);
    }, this.options.resyncIntervalMs);
    this.resyncTimer.unref();
  }

  /** Waits for queued and running work. */
  idle(): Promise<void> {
    return this.queue.idle();
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.resyncTimer) clearInterval(this.resyncTimer);
    this.resyncTimer = undefined;
    for (const rt of this.runtimes.values()) {
      if (rt.retryTimer) clearTimeout(rt.retryTimer);
      if (rt.compactionTimer) clearTimeout(rt.compactionTimer);
    }
    for (const t of this.peerRefreshes.values()) clearTimeout(t);
    this.peerRefreshes.clear();
    await this.queue.idle();
    // A probe still running owns a throwaway namespace: let it remove it.
    await this.features?.catch(() => undefined);
  }

  private newRuntime(record: TopologyRecord): Runtime {
    return { record, confirmedPeers: new Map(), foreign: new Set(), retryDelayMs: this.options.retryMinMs };
  }

  // ---- reading --------------------------------------------------------------------------------

  topologies(): string[] {
    return [...this.runtimes.keys()];
  }

  /** The desired state last accepted for a topology (not one being deleted). */
  appliedRequest(topology: string): agentv1.ApplyWiresRequest | undefined {
    const rt = this.runtimes.get(topology);
    return !rt || rt.record.deleting ? undefined : rt.record.request;
  }

  /** The compiled desired state of a topology, or undefined when the agent has none. */
  compiled(topology: string): CompiledTopology | undefined {
    const rt = this.runtimes.get(topology);
    if (!rt || rt.record.deleting) return undefined;
    return this.compile(rt);
  }

  private compile(rt: Runtime): CompiledTopology {
    rt.compiled ??= compileTopology(rt.record.request, {
      underlayAddress: this.options.underlayAddress,
      hostNetns: this.options.hostNetns,
      scope: this.options.namespaceScope,
      learnedUnderlay: rt.record.learnedUnderlay,
      tunnels: rt.record.tunnels,
      overrides: rt.record.overrides,
    });
    return rt.compiled;
  }

  /** Notified when the topology's desired state changes or it is deleted. */
  subscribe(topology: string, listener: () => void): () => void {
    let set = this.listeners.get(topology);
    if (!set) this.listeners.set(topology, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0 && this.listeners.get(topology) === set) this.listeners.delete(topology);
    };
  }

  private notify(topology: string): void {
    for (const l of [...(this.listeners.get(topology) ?? [])]) l();
  }

  private require(topology: string): Runtime {
    const rt = this.runtimes.get(topology);
    if (!rt || rt.record.deleting) throw new AgentError(Code.NotFound, `topology ${topology} has no wires on this host`);
    return rt;
  }

  /**
   * The far end's carrier change reaches watchers (and routing daemons in its namespace) when
   * the kernel's link watch runs: at once when the two ends' ifindexes differ, up to a second
   * later when they are equal (each namespace numbers its own devices, so both ends are
   * often 2). Asking for the far end by name makes the kernel do it now. Asked a few
   * milliseconds after the flip, once for a burst of flips: the link work it triggers (the
   * peer's notifications, IPv6 on carrier) is then done once, not once per flip, and never
   * inside the flip's answer.
   */
  private refreshSoon(topology: string, peer: LocalEndpointInfo): void {
    const key = `${peer.netns}\0${peer.ifname}`;
    if (this.peerRefreshes.has(key)) return;
    const timer = setTimeout(() => {
      this.peerRefreshes.delete(key);
      const rt = this.runtimes.get(topology);
      if (this.closed || !rt || rt.record.deleting) return;
      void refreshLink({ netns: peer.netns, ifname: peer.ifname }).catch(() => undefined);
    }, PEER_REFRESH_DELAY_MS);
    timer.unref();
    this.peerRefreshes.set(key, timer);
  }

  private endpoint(topology: string, node: string, iface: string) {
    const rt = this.require(topology);
    const compiled = this.compile(rt);
    const key = endpointKey(node, iface);
    const info = compiled.endpoints.get(key);
    const spec = compiled.specs.get(key);
    if (!info || !spec) throw new AgentError(Code.NotFound, `topology ${topology} has no endpoint ${key} on this host`);
    return { rt, key, info, spec, farEnd: compiled.farEnds.get(key) };
  }

  // ---- passes -----------------------------------------------------------------------------

  /**
   * Converges the topology: one pass in its queue (a request made while a pass is already
   * queued shares that pass), then the peers of cross-host wires not told yet.
   */
  async converge(topology: string): Promise<{ outcome?: PassOutcome; peerFailures: string[] }> {
    const outcome = await this.requestPass(topology);
    const peers = await this.syncPeers(topology);
    return { outcome: peers.outcome ?? outcome, peerFailures: peers.failures };
  }

  requestPass(topology: string): Promise<PassOutcome | undefined> {
    const queued = this.queuedPasses.get(topology);
    if (queued) return queued;
    const pass = this.queue.run(topology, () => {
      this.queuedPasses.delete(topology);
      return this.pass(topology);
    });
    this.queuedPasses.set(topology, pass);
    return pass;
  }

  /** One pass; runs inside the topology's queue. A pass that throws is logged and retried. */
  private async pass(topology: string): Promise<PassOutcome | undefined> {
    const rt = this.runtimes.get(topology);
    if (!rt || this.closed) return undefined;
    try {
      if (rt.record.deleting) {
        await this.deleteInQueue(topology);
        return undefined;
      }
      return await this.convergePass(topology, rt);
    } catch (err) {
      this.logger.warn({ topology, err, retryInMs: rt.retryDelayMs }, "topology pass failed");
      if (this.runtimes.get(topology) === rt) this.scheduleRetry(topology, rt);
      throw err;
    }
  }

  private async convergePass(topology: string, rt: Runtime): Promise<PassOutcome> {
    if (rt.retryTimer) clearTimeout(rt.retryTimer);
    rt.retryTimer = undefined;
    const started = performance.now();
    const compiled = this.compile(rt);
    const errors: DataplaneError[] = [];

    // Sessions and retired namespaces first: a process inside a namespace keeps it alive.
    const leaving = this.deps.sessions.openNamespaces().filter((n) => isOwnedNetns(n, topology) && !compiled.namespaces.has(n));
    const retired = rt.record.retiredNamespaces.filter((n) => !compiled.namespaces.has(n));
    await this.deps.sessions.closeNamespaces([...leaving, ...retired]);
    if (retired.length > 0) {
      const report = await deleteNamespaces(retired, { runner: this.runner }).catch((err: unknown) => err as DataplaneError);
      if (report instanceof Error) errors.push(report);
    }
    if (rt.record.retiredNamespaces.length > 0 && errors.length === 0) {
      rt.record.retiredNamespaces = [];
      await this.deps.store.save(rt.record);
    }

    for (const n of compiled.namespaces) if (!isOwnedNetns(n, topology)) rt.foreign.add(n);
    // Features matter only to impairments; a pass without any does not wait for the probe.
    const impaired = [...compiled.specs.values()].some((spec) => hasImpairments(spec.impairments));
    const features = impaired ? await this.kernelFeatures() : undefined;
    const result = await converge(compiled.desired, {
      features,
      extraNamespaces: [...rt.foreign],
      runner: this.runner,
      netlinkHelper: true,
    });
    errors.push(...result.errors);

    const addressSignature = JSON.stringify(compiled.addresses);
    if (compiled.addresses.length > 0 && (result.plan.operations.length > 0 || rt.addressesApplied !== addressSignature)) {
      const ops: KernelOperation[] = compiled.addresses.map((a) => ({
        phase: "setup",
        tool: "ip",
        netns: a.netns,
        args: ["addr", "replace", a.cidr, "dev", a.ifname],
        object: `netns ${a.netns || "(host)"} dev ${a.ifname} address ${a.cidr}`,
      }));
      const report = await applyOperations(ops, { runner: this.runner, netlinkHelper: true });
      errors.push(...report.failures.map((f) => f.error));
      rt.addressesApplied = report.failures.length === 0 ? addressSignature : undefined;
    }

    const created = result.plan.actions.filter(isCreate).length;
    const outcome: PassOutcome = {
      topology,
      generation: rt.record.generation,
      operations: result.plan.operations.length,
      created,
      deleted: result.plan.actions.filter(isDelete).length + retired.length,
      unchanged: Math.max(0, compiled.wireCount - created),
      errors,
      pending: compiled.pending,
      elapsedMs: performance.now() - started,
      phaseMs: result.report.phaseMs as Record<string, number>,
    };
    const log = { topology, generation: rt.record.generation.toString(), operations: outcome.operations, created, deleted: outcome.deleted, elapsedMs: Math.round(outcome.elapsedMs), phaseMs: outcome.phaseMs };
    if (errors.length === 0) {
      rt.retryDelayMs = this.options.retryMinMs;
      if (outcome.operations > 0) this.logger.info(log, "topology converged");
      else this.logger.debug(log, "topology checked");
    } else {
      this.logger.warn({ ...log, errors: errors.map((e) => e.message), retryInMs: rt.retryDelayMs }, "topology pass failed");
      this.scheduleRetry(topology, rt);
    }
    return outcome;
  }

  private scheduleRetry(topology: string, rt: Runtime): void {
    if (this.closed || rt.retryTimer) return;
    const delay = rt.retryDelayMs;
    rt.retryDelayMs = Math.min(delay * 2, Math.max(this.options.resyncIntervalMs, this.options.retryMinMs, 1000));
    rt.retryTimer = setTimeout(() => {
      rt.retryTimer = undefined;
      void this.converge(topology).catch(() => undefined);
    }, delay);
    rt.retryTimer.unref();
  }

  // ---- cross-host wires -----------------------------------------------------------------------

  /**
   * Tells peers about cross-host wires they have not confirmed. Returns what failed, and the
   * outcome of the pass that ran when peers answered underlay addresses we did not know.
   */
  async syncPeers(topology: string): Promise<{ failures: string[]; outcome?: PassOutcome }> {
    const rt = this.runtimes.get(topology);
    if (!rt || rt.record.deleting || this.closed) return { failures: [] };
    const compiled = this.safeCompile(rt);
    if (!compiled) return { failures: [] };
    const localUnderlay = rt.record.request.underlayAddress || this.options.underlayAddress;
    const todo = compiled.peers.filter((p) => rt.confirmedPeers.get(p.uid) !== peerSignature(p, localUnderlay));
    if (todo.length === 0 || localUnderlay === undefined) return { failures: [] };
    const failures: string[] = [];
    const learned: Array<[string, string]> = [];
    await mapLimit(todo, 16, async (p) => {
      try {
        const res = await this.deps.peers(p.remote.agentAddress).prepareTunnel(
          {
            topology,
            uid: BigInt(p.uid),
            local: { node: p.remote.node, interface: p.remote.interface, mtu: p.local.mtu },
            peerUnderlayAddress: localUnderlay,
            vni: p.vni,
          },
          { timeoutMs: this.options.peerTimeoutMs },
        );
        rt.confirmedPeers.set(p.uid, peerSignature(p, localUnderlay));
        if (res.underlayAddress !== "" && res.underlayAddress !== p.remote.underlayAddress) learned.push([p.uid, res.underlayAddress]);
      } catch (err) {
        failures.push(`wire ${p.uid}: agent ${p.remote.agentAddress}: ${(err as Error).message}`);
      }
    });
    if (learned.length > 0) {
      await this.queue.run(topology, async () => {
        const current = this.runtimes.get(topology);
        if (current !== rt || rt.record.deleting) return;
        for (const [uid, address] of learned) {
          try {
            rt.record.learnedUnderlay[uid] = validateIpAddress(address, "underlay_address");
          } catch {
            failures.push(`wire ${uid}: peer answered an invalid underlay address ${JSON.stringify(address)}`);
          }
        }
        rt.compiled = undefined;
        await this.deps.store.save(rt.record);
      });
    }
    const outcome = learned.length > 0 ? await this.requestPass(topology) : undefined;
    if (failures.length > 0) {
      this.logger.warn({ topology, failures }, "peer agents not reached");
      this.scheduleRetry(topology, rt);
    } else {
      this.logger.info({ topology, wires: todo.map((p) => p.uid) }, "peer agents prepared tunnels");
    }
    return { failures, outcome };
  }

  // ---- requests -------------------------------------------------------------------------------

  /**
   * Accepts a new desired state (generation checked, compiled, features checked, persisted
   * before the kernel is touched), then converges it.
   */
  async apply(request: agentv1.ApplyWiresRequest): Promise<{ outcome: PassOutcome; peerFailures: string[] }> {
    const topology = request.topology;
    const outcome = await this.queue.run(topology, async () => {
      const accepting = performance.now();
      const current = this.runtimes.get(topology);
      const old = current && !current.record.deleting ? current.record : undefined;
      const applied = old !== undefined && (old.generation !== 0n || old.request.wires.length > 0 || old.request.namespaces.length > 0);
      if (applied && request.generation < old.generation) {
        throw new AgentError(Code.FailedPrecondition, `generation ${request.generation} of topology ${topology} is older than the applied generation ${old.generation}`);
      }
      const same = applied && request.generation === old.generation && equals(agentv1.ApplyWiresRequestSchema, request, old.request);
      if (applied && request.generation === old.generation && !same) {
        throw new AgentError(Code.Aborted, `generation ${request.generation} of topology ${topology} was already applied with different wires; send a newer generation`);
      }
      if (!same) {
        const declared = new Set(request.wires.map((w) => w.uid.toString()));
        const record: TopologyRecord = {
          ...emptyRecord(topology),
          generation: request.generation,
          request,
          learnedUnderlay: { ...(old?.learnedUnderlay ?? {}) },
          // Tunnels a peer prepared that the manager now declares itself are the manager's.
          tunnels: (old?.tunnels ?? []).filter((t) => !declared.has(t.uid)),
          retiredNamespaces: [...(old?.retiredNamespaces ?? [])],
        };
        const next = this.newRuntime(record);
        const compiled = this.compile(next); // throws on bad input, before anything is persisted
        await this.checkFeatures(compiled);
        if (this.options.namespaceScope === "listed" && current) {
          const before = this.safeCompile(current);
          for (const n of before?.namespaces ?? []) {
            if (isOwnedNetns(n, topology) && !compiled.namespaces.has(n) && !record.retiredNamespaces.includes(n)) record.retiredNamespaces.push(n);
          }
        }
        if (current) {
          next.confirmedPeers = current.confirmedPeers;
          next.foreign = current.foreign;
          if (current.retryTimer) clearTimeout(current.retryTimer);
        }
        await this.deps.store.save(record);
        this.runtimes.set(topology, next);
        this.notify(topology);
      }
      this.logger.info(
        { topology, generation: request.generation.toString(), wires: request.wires.length, namespaces: request.namespaces.length, unchanged: same, elapsedMs: Math.round(performance.now() - accepting) },
        "desired wires accepted",
      );
      const passed = await this.pass(topology);
      if (!passed) throw new AgentError(Code.Unavailable, "the agent is stopping; the desired state is kept and converged at the next start");
      return passed;
    });
    const peers = await this.syncPeers(topology);
    if (peers.outcome) {
      // Peers told us their underlay addresses, and another pass wired those tunnels.
      const again = peers.outcome;
      return { outcome: { ...again, created: outcome.created + again.created, deleted: outcome.deleted + again.deleted }, peerFailures: peers.failures };
    }
    return { outcome, peerFailures: peers.failures };
  }

  private safeCompile(rt: Runtime): CompiledTopology | undefined {
    try {
      return this.compile(rt);
    } catch {
      return undefined;
    }
  }

  private async checkFeatures(compiled: CompiledTopology): Promise<void> {
    const wanted = [...compiled.specs.entries()].filter(([, s]) => s.impairments !== undefined);
    if (wanted.length === 0) return;
    const features = await this.kernelFeatures();
    if (!features) return;
    for (const [key, spec] of wanted) assertFeatures(spec.impairments, features.available, key);
  }

  /** Admin state of one local endpoint: persisted (journal), then applied through the fast path. */
  setLinkState(topology: string, node: string, iface: string, up: boolean): Promise<void> {
    return this.queue.run(topology, async () => {
      const { rt, key, info, spec, farEnd } = this.endpoint(topology, node, iface);
      const compact = this.deps.store.appendOverride(rt.record, key, { adminUp: up });
      spec.adminUp = up;
      await this.deps.sessions.setLinkState(info.netns, info.ifname, up);
      if (farEnd) this.refreshSoon(topology, farEnd);
      if (compact) this.scheduleCompaction(topology, rt);
    });
  }

  /**
   * Folds a long journal into the snapshot once the topology has been quiet for a moment,
   * not inside the flip that filled it: the snapshot's fsync and rename cost milliseconds,
   * which would land on that one call (and on the calls queued behind it). The journal
   * keeps every change meanwhile, so a crash before the compaction loses nothing.
   */
  private scheduleCompaction(topology: string, rt: Runtime): void {
    if (rt.compactionTimer) clearTimeout(rt.compactionTimer);
    rt.compactionTimer = setTimeout(() => {
      rt.compactionTimer = undefined;
      void this.queue
        .run(topology, async () => {
          if (this.runtimes.get(topology) !== rt || rt.record.deleting || this.closed) return;
          await this.deps.store.save(rt.record);
        })
        .catch((err: unknown) => this.logger.warn({ topology, err }, "journal not compacted"));
    }, COMPACTION_QUIET_MS);
    rt.compactionTimer.unref();
  }

  /** Egress impairments of one local endpoint; a kernel feature it needs and lacks fails first. */
  setImpairments(topology: string, node: string, iface: string, impairments: Impairments): Promise<void> {
    return this.queue.run(topology, async () => {
      const { rt, key, info, spec } = this.endpoint(topology, node, iface);
      const features = await this.kernelFeatures();
      if (features) assertFeatures(impairments, features.available, `${key} (netns ${info.netns} dev ${info.ifname})`);
      const compact = this.deps.store.appendOverride(rt.record, key, { impairments });
      spec.impairments = impairments;
      await setEndpointImpairments(topology, { netns: info.netns, ifname: info.ifname }, impairments, features ? { features } : {});
      if (compact) this.scheduleCompaction(topology, rt);
    });
  }

  /**
   * A peer set up its end of a cross-host wire and asks for ours: recorded (persisted) and
   * converged. Returns this host's underlay address.
   */
  async prepareTunnel(request: agentv1.PrepareTunnelRequest): Promise<string> {
    const topology = request.topology;
    const uid = request.uid.toString();
    const local = request.local!;
    const underlay = await this.queue.run(topology, async () => {
      let rt = this.runtimes.get(topology);
      if (rt?.record.deleting) throw new AgentError(Code.FailedPrecondition, `topology ${topology} is being deleted on this host`);
      const mine = rt?.record.request.underlayAddress || this.options.underlayAddress;
      if (mine === undefined) throw new AgentError(Code.FailedPrecondition, "this agent has no underlay address (start it with --underlay-address)");
      if (!rt) {
        rt = this.newRuntime(emptyRecord(topology));
      }
      const record = rt.record;
      const wire = record.request.wires.find((w) => w.uid.toString() === uid);
      let changed = false;
      if (wire) {
        if (wire.peer.case !== "remote" || wire.a?.node !== local.node || wire.a.interface !== local.interface) {
          throw new AgentError(Code.FailedPrecondition, `wire ${uid} of topology ${topology} on this host is not a cross-host wire of ${endpointKey(local.node, local.interface)}`);
        }
        const declared = wire.peer.value.underlayAddress;
        if (declared !== "" && declared !== request.peerUnderlayAddress) {
          throw new AgentError(Code.FailedPrecondition, `wire ${uid}: this host expects the peer at underlay ${declared}, not ${request.peerUnderlayAddress}`);
        }
        if (declared === "" && record.learnedUnderlay[uid] !== request.peerUnderlayAddress) {
          record.learnedUnderlay[uid] = request.peerUnderlayAddress;
          changed = true;
        }
      } else {
        const tunnel: PreparedTunnel = {
          uid,
          node: local.node,
          interface: local.interface,
          ...(local.mtu ? { mtu: local.mtu } : {}),
          remoteUnderlay: request.peerUnderlayAddress,
          vni: request.vni || vniForUid(topology, uid),
        };
        const existing = record.tunnels.find((t) => t.uid === uid);
        if (JSON.stringify(existing) !== JSON.stringify(tunnel)) {
          record.tunnels = [...record.tunnels.filter((t) => t.uid !== uid), tunnel];
          changed = true;
        }
      }
      if (changed || !this.runtimes.has(topology)) {
        rt.compiled = undefined;
        this.compile(rt);
        await this.deps.store.save(record);
        this.runtimes.set(topology, rt);
        this.notify(topology);
      }
      // The caller has its side: no need to call it back for this wire.
      const peer = this.compile(rt).peers.find((p) => p.uid === uid);
      if (peer) rt.confirmedPeers.set(uid, peerSignature(peer, mine));
      return mine;
    });
    const outcome = await this.requestPass(topology);
    // Only what concerns this tunnel fails the call; the rest is this host's business.
    const netns = this.compiled(topology)?.endpoints.get(endpointKey(local.node, local.interface))?.netns;
    const relevant = (outcome?.errors ?? []).filter((e) => `${e.object ?? ""} ${e.message}`.includes(`vxlan ${uid}`) || (netns !== undefined && `${e.object ?? ""}`.includes(`${netns} dev ${local.interface}`)));
    if (relevant.length === 1) throw relevant[0]!;
    if (relevant.length > 1) throw new ApplyError(relevant);
    return underlay;
  }

  /** Removes every object of the topology on this host; returns how many were removed. */
  delete(topology: string): Promise<number> {
    return this.queue.run(topology, async () => {
      let rt = this.runtimes.get(topology);
      if (!rt) {
        rt = this.newRuntime(emptyRecord(topology));
        this.runtimes.set(topology, rt);
      }
      if (rt.retryTimer) clearTimeout(rt.retryTimer);
      rt.retryTimer = undefined;
      if (!rt.record.deleting) {
        rt.record.deleting = true;
        await this.deps.store.save(rt.record);
      }
      try {
        return await this.deleteInQueue(topology);
      } catch (err) {
        // The tombstone stays: later passes finish the removal.
        this.scheduleRetry(topology, rt);
        throw err;
      }
    });
  }

  private async deleteInQueue(topology: string): Promise<number> {
    const rt = this.runtimes.get(topology)!;
    this.notify(topology);
    const started = performance.now();
    const compiled = this.safeCompile(rt);
    const ours = new Set<string>([...(compiled?.namespaces ?? []), ...rt.record.retiredNamespaces].filter((n) => isOwnedNetns(n, topology)));
    await this.deps.sessions.closeNamespaces([...this.deps.sessions.openNamespaces().filter((n) => isOwnedNetns(n, topology))]);
    let count: number;
    if (this.options.namespaceScope === "topology") {
      const report = await deleteTopologyObjects(topology, { runner: this.runner });
      if (report.failures.length > 0) throw report.failures.length === 1 ? report.failures[0]!.error : new ApplyError(report.failures.map((f) => f.error));
      count = report.deletedNamespaces.length + report.deletedInterfaces.length;
    } else {
      // Other agents' namespaces of this topology share the kernel: delete only ours, then
      // our marked devices in the foreign namespaces (and the host's) we used.
      const existing = new Set(await listNetns(this.runner));
      const names = [...ours].filter((n) => existing.has(n));
      await deleteNamespaces(names, { runner: this.runner });
      const foreign = [...new Set([...rt.foreign, ...(compiled ? [...compiled.namespaces].filter((n) => !isOwnedNetns(n, topology)) : []), this.options.hostNetns])];
      const result = await converge({ topology, scope: "listed", wires: [] }, { extraNamespaces: foreign, runner: this.runner });
      if (result.errors.length > 0) throw result.errors.length === 1 ? result.errors[0]! : new ApplyError(result.errors);
      count = names.length + result.plan.actions.filter(isDelete).length;
    }
    await this.deps.store.remove(topology);
    if (this.runtimes.get(topology) === rt) this.runtimes.delete(topology);
    this.notify(topology);
    this.logger.info({ topology, deleted: count, elapsedMs: Math.round(performance.now() - started) }, "topology deleted");
    return count;
  }
}
