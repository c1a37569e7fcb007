/**
 * Nokia SR Linux: made by the srl-controller from a `Srlinux` CR; kubernetes backend only.
 * Any model (SR Linux chassis type) is passed through; `ixrd2` by default. Certificates via
 * a TLS profile; push sources a file and `commit save`; reset reverts to checkpoint "initial".
 */
import { topo } from "@kne/proto";
import { nokiaInterfaceNaming } from "./interface-names";
import type { VendorDefinition } from "../vendor-definition";

export const nokiaVendor: VendorDefinition = {
  vendor: topo.Vendor.NOKIA,
  name: "NOKIA",
  description: "Nokia SR Linux",
  aliases: ["srl", "srlinux"],
  models: [],
  defaultModel: "ixrd2",
  defaults: {
    services: {
      443: { names: ["ssl"], inside: 443 },
      22: { names: ["ssh"], inside: 22 },
      9339: { names: ["gnmi", "gnoi", "gnsi"], inside: 57400 },
      9340: { names: ["gribi"], inside: 57401 },
      9559: { names: ["p4rt"], inside: 9559 },
    },
    interfacePattern: /^(ethernet-\d+\/\d+(\/\d+)?|mgmt0)$/,
    managementInterface: "mgmt0",
    labels: { "ondatra-role": "DUT" },
    container: {
      image: "srlinux:latest",
      // config.json for a JSON boot config, config.cli otherwise (by the boot file's extension).
      configFile: "config.cli",
      constraints: { cpu: "2", memory: "4Gi" },
      customResource: { apiVersion: "kne.srlinux.dev/v1", kind: "Srlinux" },
    },
  },
  interfaceNaming: nokiaInterfaceNaming,
  requiresBackend: "kubernetes",
};
