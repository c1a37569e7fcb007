/** SONiC (sonic-vs): a container image; renames `Ethernet*` interfaces to `eth*`. Kubernetes backend only. */
import { topo } from "@kne/proto";
import { sonicInterfaceNaming } from "./interface-names";
import type { VendorDefinition } from "../vendor-definition";

export const sonicVendor: VendorDefinition = {
  vendor: topo.Vendor.SONIC,
  name: "SONIC",
  description: "SONiC virtual switch",
  models: [],
  defaults: {
    services: { 22: { names: ["ssh"], inside: 22 } },
    interfacePattern: /^Ethernet\d+$/,
    container: { image: "sonic:latest", entryCommand: "kubectl exec -it %s -- bash" },
  },
  interfaceNaming: sonicInterfaceNaming,
  requiresBackend: "kubernetes",
};
