/**
 * Keysight ixia-c (OTG traffic generator): an `IxiaTG` CR from which the Keysight operator
 * makes one pod per port; kubernetes backend only. The only vendor whose ports may be wired
 * back to back on the same node.
 */
import { topo } from "@kne/proto";
import { keysightInterfaceNaming } from "./interface-names";
import type { VendorDefinition } from "../vendor-definition";

export const keysightVendor: VendorDefinition = {
  vendor: topo.Vendor.KEYSIGHT,
  name: "KEYSIGHT",
  description: "Keysight ixia-c traffic generator (OTG)",
  aliases: ["ixia", "ixia-c", "otg"],
  models: [],
  defaultModel: "ixia-c",
  interfaceNaming: keysightInterfaceNaming,
  allowsSelfLinks: true,
  defaults: {
    services: {
      8443: { names: ["https"], inside: 8443 },
      40051: { names: ["grpc"], inside: 40051 },
      50051: { names: ["gnmi"], inside: 50051 },
    },
    labels: { "ondatra-role": "ATE" },
    container: { customResource: { apiVersion: "network.keysight.com/v1beta1", kind: "IxiaTG" } },
  },
  requiresBackend: "kubernetes",
};
