/**
 * ALPINE: an Alpine container plus extra containers and files from `alpine.AlpineConfig`
 * vendor data; renames `Ethernet*` interfaces. Kubernetes backend only.
 */
import { topo } from "@kne/proto";
import { alpineInterfaceNaming } from "./interface-names";
import type { VendorDefinition } from "../vendor-definition";

export const alpineVendor: VendorDefinition = {
  vendor: topo.Vendor.ALPINE,
  name: "ALPINE",
  description: "ALPINE (switch software in containers, with a data-plane container)",
  models: [],
  defaults: {
    services: { 22: { names: ["ssh"], inside: 22 } },
    interfacePattern: /^Ethernet\d+$/,
    container: { image: "alpine:latest", entryCommand: "kubectl exec -it %s -- sh" },
  },
  interfaceNaming: alpineInterfaceNaming,
  requiresBackend: "kubernetes",
};
