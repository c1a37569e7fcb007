/**
 * DriveNets cDNOS: made by its operator from a `Cdnos` CR; model `CDNOS` required, as
 * upstream. Kubernetes backend only. Reset is a no-op; push and certificates are UNIMPLEMENTED.
 */
import { topo } from "@kne/proto";
import { drivenetsInterfaceNaming } from "./interface-names";
import type { VendorDefinition } from "../vendor-definition";

export const drivenetsVendor: VendorDefinition = {
  vendor: topo.Vendor.DRIVENETS,
  name: "DRIVENETS",
  description: "DriveNets cDNOS",
  aliases: ["cdnos"],
  models: [{ name: "CDNOS" }],
  defaults: {
    services: {
      // Upstream maps outside 22 to inside 9339 under the name "ssh"; kept as upstream has it.
      22: { names: ["ssh"], inside: 9339 },
      830: { names: ["netconf"], inside: 830 },
      50051: { names: ["gnmi"], inside: 50051 },
    },
    labels: { "ondatra-role": "DUT" },
    container: {
      image: "cdnos:latest",
      command: ["/define_notif_net.sh"],
      configPath: "/config_load",
      configFile: "default",
      entryCommand: "kubectl exec -it %s -- /bin/bash",
      cert: { keySize: 2048, commonNameIsNode: true },
      constraints: { cpu: "0.5", memory: "1Gi" },
      customResource: { apiVersion: "cdnos.dev.drivenets.net/v1", kind: "Cdnos" },
    },
  },
  interfaceNaming: drivenetsInterfaceNaming,
  requiresBackend: "kubernetes",
};
