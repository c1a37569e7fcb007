/**
 * `kne.exposer.v1.ExposerService` over a `HostPortExposer`: the service-exposer process
 * serves it; answers fill each service the way upstream reports services (`inside_ip` the
 * node's address, `outside_ip` and `node_port` the host forward when there is one).
 */
import { clone, create } from "@bufbuild/protobuf";
import type { ServiceImpl } from "@connectrpc/connect";
import { exposerv1, topo } from "@kne/proto";
import type { Endpoint, HostPortExposer } from "./host-port-exposer.ts";

/** An endpoint as the API reports it: at the host forward when there is one, else at the node. */
export function exposedService(e: Endpoint): exposerv1.ExposedService {
  const service = clone(topo.ServiceSchema, e.service);
  service.outside = e.outside;
  service.inside = e.inside;
  service.insideIp = e.nodeAddress;
  service.outsideIp = e.hostAddress ?? e.nodeAddress;
  service.nodePort = e.hostPort ?? 0;
  return create(exposerv1.ExposedServiceSchema, {
    node: e.node,
    service,
    address: e.hostAddress ?? e.nodeAddress,
    port: e.hostPort ?? e.inside,
  });
}

export function createExposerService(exposer: HostPortExposer): ServiceImpl<typeof exposerv1.ExposerService> {
  return {
    async exposeServices(req) {
      const endpoints = await exposer.expose({ topology: req.topology, node: req.node, nodeAddress: req.nodeAddress, services: req.services, hostPorts: req.hostPorts });
      return { services: endpoints.map(exposedService) };
    },
    async unexposeServices(req) {
      await exposer.unexpose(req.topology, req.node === "" ? undefined : req.node);
      return {};
    },
    async listEndpoints(req) {
      return { services: exposer.list(req.topology === "" ? undefined : req.topology).map(exposedService) };
    },
  };
}
