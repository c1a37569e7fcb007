/**
 * @kne/exposer — makes node services reachable from outside a topology on this host: at the
 * node's management address, and through host port forwards (TCP, loopback by default).
 *
 * - `startTcpForward` — one forward: a host port joined to a node's address and port.
 * - `HostPortExposer` — the forwards of many nodes, declarative per node (`expose` makes a
 *   node's forwards match its services; ports stay while the service does).
 * - `createExposerService` — `kne.exposer.v1.ExposerService` over an exposer (the
 *   service-exposer process); `exposedService` shapes one endpoint for the API.
 *
 * The local backend's per-topology supervisor runs a `HostPortExposer` for the topologies
 * created with service forwards.
 */
export { startTcpForward, type TcpForward, type TcpForwardOptions } from "./tcp-forward.ts";
export {
  HostPortExposer,
  DEFAULT_FORWARD_ADDRESS,
  checkForwardAddress,
  insidePort,
  type Endpoint,
  type ExposeRequest,
  type HostPortExposerOptions,
} from "./host-port-exposer.ts";
export { createExposerService, exposedService } from "./exposer-service.ts";
export { formatHostPort } from "./errors.ts";
