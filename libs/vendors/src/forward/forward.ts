/** FORWARD: a pod whose arguments come from `forward.ForwardConfig` wires. Kubernetes backend only. */
import { topo } from "@kne/proto";
import { forwardInterfaceNaming } from "./interface-names";
import type { VendorDefinition } from "../vendor-definition";

export const forwardVendor: VendorDefinition = {
  vendor: topo.Vendor.FORWARD,
  name: "FORWARD",
  description: "Forwarding node configured by ForwardConfig wires",
  models: [],
  defaults: {
    services: {},
    container: {
      image: "forward:latest",
      command: ["/bin/sh", "-c", "sleep 2000000000000"],
      configPath: "/etc",
      configFile: "config",
      entryCommand: "kubectl exec -it %s -- sh",
    },
  },
  interfaceNaming: forwardInterfaceNaming,
  requiresBackend: "kubernetes",
};
