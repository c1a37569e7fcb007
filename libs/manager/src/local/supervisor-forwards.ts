/**
 * Host port forwards of a topology's node services on the local backend. A node's services
 * are reachable from this host at its management address already; a forward adds a port
 * on a host address (127.0.0.1 unless told otherwise) for tools that want one address, or
 * for users who reach the host only (an SSH tunnel to one port).
 *
 * Create records what was asked in the topology's `forwarding.json`; the topology's
 * supervisor (the process that outlives `kne create`) runs the forwards with
 * `@kne/exposer`, follows the topology as it changes (apply), and reports every forward —
 * its host port, or why it could not be bound — in `forwards.json`. Delete stops the
 * supervisor, which closes them; the topology's directory goes with their records.
 *
 * ```
 * topologies/NAME/forwarding.json   {all, address}: every service, or those with a node_port
 * topologies/NAME/forwards.json     written by the supervisor: each forward and its host port
 * ```
 */
import { join } from "node:path";
import { clone } from "@bufbuild/protobuf";
import { type Endpoint, DEFAULT_FORWARD_ADDRESS, HostPortExposer, checkForwardAddress, insidePort } from "@kne/exposer";
import { topo } from "@kne/proto";
import type { Logger } from "@kne/telemetry";
import { withVendorDefaults } from "@kne/vendors";
import type { ServiceForwarding } from "../backend.ts";
import { ManagerError } from "../errors.ts";
import { type NodeRecord, type StateStore, type TopologyState, readJson, writeJsonAtomic } from "./state-store.ts";

/** What create was asked for. */
export interface ForwardingFile {
  all: boolean;
  address: string;
}

/** One forward as the supervisor runs it. */
export interface ForwardRecord {
  node: string;
  /** The service's outside port (the topology's map key). */
  outside: number;
  names: string[];
  nodeAddress: string;
  inside: number;
  hostAddress: string;
  /** Bound host port; absent with `error`. */
  hostPort?: number;
  error?: string;
}

export interface ForwardsFile {
  updated: string;
  forwards: ForwardRecord[];
}

export function forwardingPath(store: StateStore, topology: string): string {
  return join(store.topologyDir(topology), "forwarding.json");
}

export function forwardsPath(store: StateStore, topology: string): string {
  return join(store.topologyDir(topology), "forwards.json");
}

/** The forwarding options with their defaults, checked (a bad address is INVALID_ARGUMENT). */
export function resolveForwarding(forwarding: ServiceForwarding | undefined): ForwardingFile {
  const address = forwarding?.address?.trim() || DEFAULT_FORWARD_ADDRESS;
  try {
    return { all: forwarding?.all ?? false, address: checkForwardAddress(address) };
  } catch (err) {
    throw new ManagerError("INVALID_ARGUMENT", (err as Error).message, [{ field: "forward_address", description: "must be an IP address of this host" }]);
  }
}

export async function writeForwarding(store: StateStore, topology: string, forwarding: ForwardingFile): Promise<void> {
  await writeJsonAtomic(forwardingPath(store, topology), forwarding);
}

export async function readForwarding(store: StateStore, topology: string): Promise<ForwardingFile | undefined> {
  return readJson<ForwardingFile>(forwardingPath(store, topology)).catch(() => undefined);
}

export async function readForwards(store: StateStore, topology: string): Promise<ForwardsFile | undefined> {
  return readJson<ForwardsFile>(forwardsPath(store, topology)).catch(() => undefined);
}

/** The node's services (the vendor's defaults when the topology gives none). */
function nodeServices(node: topo.Node): Record<number, topo.Service> {
  try {
    return withVendorDefaults(node).services;
  } catch {
    return node.services;
  }
}

/** The services of a node that get a forward: all of them, or those whose topology sets a node_port. */
export function servicesToForward(node: topo.Node, forwarding: ForwardingFile | undefined): Record<number, topo.Service> {
  const out: Record<number, topo.Service> = {};
  for (const [port, service] of Object.entries(nodeServices(node))) {
    if (forwarding?.all || service.nodePort !== 0) out[Number(port)] = service;
  }
  return out;
}

/** Whether any node of the topology gets a forward (then the topology needs its supervisor). */
export function wantsForwards(spec: topo.Topology, forwarding: ForwardingFile | undefined): boolean {
  return spec.nodes.some((n) => Object.keys(servicesToForward(n, forwarding)).length > 0);
}

/**
 * The forwards of one topology, run inside its supervisor. `reconcile` is level-triggered:
 * called on every pass with the current state, it makes the forwards match the topology's
 * nodes and services and rewrites `forwards.json` when anything changed.
 */
export class TopologyForwards {
  private exposer?: HostPortExposer;
  private readonly failedAt = new Map<string, { key: string; at: number; records: ForwardRecord[] }>();
  private readonly records = new Map<string, ForwardRecord[]>();
  /** Host ports of the previous supervisor (after a restart): asked for again, so they stay. */
  private previous?: Map<string, number>;
  private written = "";

  constructor(
    private readonly store: StateStore,
    private readonly topology: string,
    private readonly logger: Logger,
    /** How long a node whose forwards failed waits before they are tried again. */
    private readonly retryMs = 5000,
  ) {}

  async reconcile(state: TopologyState, spec: topo.Topology): Promise<void> {
    const forwarding = await readForwarding(this.store, this.topology);
    if (!forwarding && !this.exposer && !wantsForwards(spec, undefined)) return;
    const address = forwarding?.address ?? DEFAULT_FORWARD_ADDRESS;
    if (!this.exposer || this.exposer.forwardAddress !== address) {
      await this.exposer?.close();
      this.exposer = new HostPortExposer({ forwardAddress: address, logger: this.logger });
      this.records.clear();
      this.written = "";
    }
    if (this.previous === undefined) {
      const before = await readForwards(this.store, this.topology);
      this.previous = new Map((before?.forwards ?? []).filter((f) => f.hostPort).map((f) => [`${f.node}/${f.outside}`, f.hostPort!]));
    }
    const exposer = this.exposer;
    const live = new Set<string>();
    for (const node of spec.nodes) {
      const record: NodeRecord | undefined = state.nodes[node.name];
      const nodeAddress = record?.managementAddress;
      if (!record || !nodeAddress || record.failed) continue;
      live.add(node.name);
      await this.reconcileNode(exposer, node, nodeAddress, forwarding);
    }
    for (const name of [...this.records.keys()]) {
      if (live.has(name)) continue;
      await exposer.unexpose(this.topology, name);
      this.records.delete(name);
      this.failedAt.delete(name);
    }
    await this.writeRecords();
  }

  private async reconcileNode(exposer: HostPortExposer, node: topo.Node, nodeAddress: string, forwarding: ForwardingFile | undefined): Promise<void> {
    const services = servicesToForward(node, forwarding);
    const key = JSON.stringify([nodeAddress, Object.entries(services).map(([p, s]) => [p, s.inside, s.nodePort])]);
    const failed = this.failedAt.get(node.name);
    if (failed && failed.key === key && Date.now() - failed.at < this.retryMs) return;
    const sticky = (withPrevious: boolean): Record<number, topo.Service> => {
      const out: Record<number, topo.Service> = {};
      for (const [port, service] of Object.entries(services)) {
        const again = withPrevious && service.nodePort === 0 ? this.previous?.get(`${node.name}/${port}`) : undefined;
        const copy = again ? clone(topo.ServiceSchema, service) : service;
        if (again) copy.nodePort = again;
        out[Number(port)] = copy;
      }
      return out;
    };
    const request = { topology: this.topology, node: node.name, nodeAddress, hostPorts: true };
    let endpoints: Endpoint[];
    try {
      try {
        endpoints = await exposer.expose({ ...request, services: sticky(true) });
      } catch (err) {
        // The previous supervisor's port may be taken meanwhile: any free one then.
        if (!this.previous?.size) throw err;
        endpoints = await exposer.expose({ ...request, services: sticky(false) });
      }
    } catch (err) {
      const message = (err as Error & { rawMessage?: string }).rawMessage ?? (err as Error).message;
      const records = Object.entries(services).map(([port, s]) => ({ ...recordOf(node.name, Number(port), s, nodeAddress, exposer.forwardAddress), error: message }));
      if (failed?.key !== key) this.logger.warn({ topology: this.topology, node: node.name, err: message }, "services could not be forwarded");
      this.failedAt.set(node.name, { key, at: Date.now(), records });
      // Forwards of the node made before stay as they were (expose changes nothing on failure).
      this.records.set(node.name, records);
      return;
    }
    this.failedAt.delete(node.name);
    this.records.set(
      node.name,
      endpoints.map((e) => ({ ...recordOf(node.name, e.outside, e.service, nodeAddress, exposer.forwardAddress), ...(e.hostPort ? { hostPort: e.hostPort } : {}) })),
    );
  }

  private async writeRecords(): Promise<void> {
    const forwards = [...this.records.values()].flat().sort((a, b) => a.node.localeCompare(b.node) || a.outside - b.outside);
    const text = JSON.stringify(forwards);
    if (text === this.written) return;
    this.written = text;
    await writeJsonAtomic(forwardsPath(this.store, this.topology), { updated: new Date().toISOString(), forwards } satisfies ForwardsFile, { fsync: false });
  }

  async close(): Promise<void> {
    await this.exposer?.close();
    this.exposer = undefined;
  }
}

function recordOf(node: string, outside: number, service: topo.Service, nodeAddress: string, hostAddress: string): ForwardRecord {
  return {
    node,
    outside,
    names: service.names.length > 0 ? [...service.names] : service.name ? [service.name] : [],
    nodeAddress,
    inside: insidePort(outside, service),
    hostAddress,
  };
}

/**
 * Waits until the supervisor reports a forward for every service that should have one;
 * fails with FAILED_PRECONDITION naming each forward that could not be bound.
 */
export async function waitForwards(
  store: StateStore,
  state: TopologyState,
  spec: topo.Topology,
  options: { deadline: number; supervisorAlive: () => boolean },
): Promise<ForwardRecord[]> {
  const forwarding = await readForwarding(store, state.name);
  const expected = new Set<string>();
  for (const node of spec.nodes) {
    const record = state.nodes[node.name];
    if (!record?.managementAddress || record.failed) continue;
    for (const port of Object.keys(servicesToForward(node, forwarding))) expected.add(`${node.name}/${port}`);
  }
  for (;;) {
    const file = await readForwards(store, state.name);
    const reported = new Map((file?.forwards ?? []).map((f) => [`${f.node}/${f.outside}`, f]));
    const failed = [...expected].map((k) => reported.get(k)).filter((f): f is ForwardRecord => f?.error !== undefined);
    if (failed.length > 0) {
      throw new ManagerError("FAILED_PRECONDITION", `services could not be forwarded: ${[...new Set(failed.map((f) => f.error))].join("; ")}`);
    }
    if ([...expected].every((k) => reported.get(k)?.hostPort)) return [...expected].map((k) => reported.get(k)!);
    if (!options.supervisorAlive()) throw new ManagerError("INTERNAL", `the supervisor of ${state.name} exited before forwarding the services; see ${store.supervisorLog(state.name)}`);
    if (Date.now() >= options.deadline) {
      const missing = [...expected].filter((k) => !reported.get(k)?.hostPort);
      throw new ManagerError("DEADLINE_EXCEEDED", `services not forwarded in time: ${missing.join(", ")}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Fills each service's `outside_ip` and `node_port` from the forwards, as upstream reports a service's outside address. */
export function applyForwards(node: topo.Node, forwards: readonly ForwardRecord[]): void {
  for (const f of forwards) {
    if (f.node !== node.name || !f.hostPort) continue;
    const service = node.services[f.outside];
    if (!service) continue;
    service.outsideIp = f.hostAddress;
    service.nodePort = f.hostPort;
  }
}
