/**
 * Node services made reachable from this host: each at the node's own address (its
 * management address, reachable from the host already) and, when asked, through a host
 * port forward on the forward address (loopback unless told otherwise).
 *
 * Exposure is declarative per node: `expose` makes the node's forwards match the services
 * it is given (keeping forwards that are already right, so their ports stay), and a failed
 * bind leaves the node as it was. Forwards are keyed by topology, node and outside port.
 */
import { isIP } from "node:net";
import type { topo } from "@kne/proto";
import type { Logger } from "@kne/telemetry";
import { formatHostPort, invalidExposeRequest } from "./errors.ts";
import { type TcpForward, startTcpForward } from "./tcp-forward.ts";

/** Where forwards listen unless told otherwise: loopback only, never every interface. */
export const DEFAULT_FORWARD_ADDRESS = "127.0.0.1";

export interface HostPortExposerOptions {
  /** The host address forwards listen on (default 127.0.0.1). */
  forwardAddress?: string;
  logger?: Logger;
}

export interface ExposeRequest {
  topology: string;
  node: string;
  /** The node's address as the host reaches it (its management address). */
  nodeAddress: string;
  /** Outside port (the topology's map key) → service. */
  services: Readonly<Record<number, topo.Service>>;
  /** Also forward a host port to each service (`node_port` when set, else a free one). */
  hostPorts: boolean;
}

/** One service of one node and where it is reached. */
export interface Endpoint {
  topology: string;
  node: string;
  /** The outside port (map key). */
  outside: number;
  service: topo.Service;
  /** The node's address and the service's port inside the node. */
  nodeAddress: string;
  inside: number;
  /** The host forward, when there is one. */
  hostAddress?: string;
  hostPort?: number;
}

interface Held {
  endpoint: Endpoint;
  forward?: TcpForward;
}

/** The inside port of a service: `inside`, else the outside port (upstream's default). */
export function insidePort(outside: number, service: topo.Service): number {
  return service.inside || outside;
}

export class HostPortExposer {
  readonly forwardAddress: string;
  private readonly logger: Logger | undefined;
  private readonly held = new Map<string, Held>();

  constructor(options: HostPortExposerOptions = {}) {
    this.forwardAddress = checkForwardAddress(options.forwardAddress ?? DEFAULT_FORWARD_ADDRESS);
    this.logger = options.logger;
  }

  /** Makes the node's exposure match the request; returns its endpoints by outside port. */
  async expose(request: ExposeRequest): Promise<Endpoint[]> {
    checkRequest(request);
    const prefix = `${request.topology}/${request.node}/`;
    const wanted = new Map(Object.entries(request.services).map(([port, service]) => [Number(port), service]));
    const made: Held[] = [];
    const next = new Map<string, Held>();
    try {
      for (const [outside, service] of [...wanted].sort((a, b) => a[0] - b[0])) {
        const key = `${prefix}${outside}`;
        const inside = insidePort(outside, service);
        const names = service.names.length > 0 ? service.names.join(",") : service.name || String(outside);
        const what = `node ${request.node} service ${names} (${outside})`;
        const old = this.held.get(key);
        const requestedPort = service.nodePort;
        const oldFits =
          old !== undefined &&
          old.endpoint.nodeAddress === request.nodeAddress &&
          old.endpoint.inside === inside &&
          (old.forward !== undefined) === request.hostPorts &&
          (requestedPort === 0 || old.forward?.port === requestedPort);
        if (oldFits) {
          next.set(key, { endpoint: { ...old.endpoint, service }, ...(old.forward ? { forward: old.forward } : {}) });
          continue;
        }
        const endpoint: Endpoint = { topology: request.topology, node: request.node, outside, service, nodeAddress: request.nodeAddress, inside };
        const held: Held = { endpoint };
        if (request.hostPorts) {
          // A forward being replaced may hold the requested port: let it go first.
          if (old?.forward && requestedPort !== 0 && old.forward.port === requestedPort) await old.forward.close();
          held.forward = await startTcpForward({
            listenAddress: this.forwardAddress,
            listenPort: requestedPort,
            targetAddress: request.nodeAddress,
            targetPort: inside,
            what,
            onTargetError: (err) => this.logger?.debug({ topology: request.topology, node: request.node, service: names, err: err.message }, "forwarded connection failed"),
          });
          endpoint.hostAddress = this.forwardAddress;
          endpoint.hostPort = held.forward.port;
          made.push(held);
          this.logger?.info(
            { topology: request.topology, node: request.node, service: names, host: formatHostPort(this.forwardAddress, held.forward.port), target: formatHostPort(request.nodeAddress, inside) },
            "service forwarded",
          );
        }
        next.set(key, held);
      }
    } catch (err) {
      await Promise.all(made.map((h) => h.forward?.close()));
      throw err;
    }
    // Forwards of this node that are no longer wanted, or were replaced.
    for (const [key, old] of this.held) {
      if (!key.startsWith(prefix)) continue;
      if (next.get(key)?.forward !== old.forward) await old.forward?.close();
      this.held.delete(key);
    }
    for (const [key, h] of next) this.held.set(key, h);
    return [...next.values()].map((h) => h.endpoint);
  }

  /** Removes the exposure of one node, or of every node of the topology. */
  async unexpose(topology: string, node?: string): Promise<void> {
    const prefix = node === undefined ? `${topology}/` : `${topology}/${node}/`;
    for (const [key, h] of [...this.held]) {
      if (!key.startsWith(prefix)) continue;
      this.held.delete(key);
      await h.forward?.close();
    }
  }

  /** Endpoints of a topology (every topology when undefined), by node and outside port. */
  list(topology?: string): Endpoint[] {
    return [...this.held.values()]
      .map((h) => h.endpoint)
      .filter((e) => topology === undefined || e.topology === topology)
      .sort((a, b) => a.topology.localeCompare(b.topology) || a.node.localeCompare(b.node) || a.outside - b.outside);
  }

  /** The topologies with endpoints. */
  topologies(): string[] {
    return [...new Set(this.list().map((e) => e.topology))];
  }

  async close(): Promise<void> {
    const all = [...this.held.values()];
    this.held.clear();
    await Promise.all(all.map((h) => h.forward?.close()));
  }
}

/** An IP address literal; every-interface addresses are allowed only when asked for explicitly. */
export function checkForwardAddress(address: string): string {
  const trimmed = address.trim();
  if (isIP(trimmed) === 0) throw invalidExposeRequest(`forward address ${JSON.stringify(address)} is not an IP address (for example 127.0.0.1 or ::1)`);
  return trimmed;
}

function checkRequest(request: ExposeRequest): void {
  if (request.topology === "") throw invalidExposeRequest("topology is required");
  if (request.node === "") throw invalidExposeRequest("node is required");
  if (isIP(request.nodeAddress) === 0) throw invalidExposeRequest(`node ${request.node}: node_address ${JSON.stringify(request.nodeAddress)} is not an IP address`);
  for (const [key, service] of Object.entries(request.services)) {
    const outside = Number(key);
    if (!(Number.isInteger(outside) && outside >= 1 && outside <= 65535)) throw invalidExposeRequest(`node ${request.node}: service port ${key} is outside 1..65535`);
    const inside = insidePort(outside, service);
    if (!(inside >= 1 && inside <= 65535)) throw invalidExposeRequest(`node ${request.node}: services[${key}].inside ${inside} is outside 1..65535`);
    if (service.nodePort > 65535) throw invalidExposeRequest(`node ${request.node}: services[${key}].node_port ${service.nodePort} is outside 1..65535`);
  }
}
