/**
 * IN_CLUSTER_PROXY: a netshoot pod running a socat proxy between the cluster network and
 * one `eth1` link. It exists to reach into a cluster, so only the kubernetes backend runs it.
 */
import { topo } from "@kne/proto";
import { inClusterProxyInterfaceNaming } from "./interface-names";
import type { VendorDefinition } from "../vendor-definition";

export const inClusterProxyVendor: VendorDefinition = {
  vendor: topo.Vendor.IN_CLUSTER_PROXY,
  name: "IN_CLUSTER_PROXY",
  description: "Proxy from the cluster network to one data link (socat in netshoot)",
  aliases: ["proxy"],
  models: [],
  defaults: { services: {}, container: { image: "nicolaka/netshoot:latest", entryCommand: "kubectl exec -it %s -- sh" } },
  interfaceNaming: inClusterProxyInterfaceNaming,
  requiresBackend: "kubernetes",
};
