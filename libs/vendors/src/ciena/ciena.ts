/**
 * Ciena SAOS (5132, the default) and WaveRouter: container images; the equipment JSON from
 * `ciena.CienaConfig` vendor data is mounted. Kubernetes backend only.
 */
import { topo } from "@kne/proto";
import { cienaInterfaceNaming } from "./interface-names";
import type { VendorDefinition } from "../vendor-definition";

export const cienaVendor: VendorDefinition = {
  vendor: topo.Vendor.CIENA,
  name: "CIENA",
  description: "Ciena SAOS and WaveRouter",
  aliases: ["saos"],
  models: [
    { name: "5132" },
    { name: "waverouter", defaults: { container: { image: "rw-containerlab:latest" } } },
  ],
  defaultModel: "5132",
  defaults: {
    services: {
      22: { names: ["ssh"], inside: 22 },
      179: { names: ["bgp"], inside: 179 },
      225: { names: ["debug"], inside: 225 },
      443: { names: ["ssl"], inside: 443 },
      830: { names: ["netconf"], inside: 830 },
      4243: { names: ["docker-daemon"], inside: 4243 },
      9339: { names: ["gnmi"], inside: 9339 },
      9340: { names: ["gribi"], inside: 9340 },
      9559: { names: ["p4rt"], inside: 9559 },
      10161: { names: ["gnmi-gnoi-alternate"], inside: 10161 },
    },
    labels: { "ondatra-role": "DUT" },
    container: {
      image: "saos-containerlab:latest",
      configPath: "config/",
      configFile: "config.cfg",
    },
  },
  interfaceNaming: cienaInterfaceNaming,
  requiresBackend: "kubernetes",
};
