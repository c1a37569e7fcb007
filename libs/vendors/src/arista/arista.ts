/**
 * Arista cEOS: runs from a container image through Arista's cEOS-lab operator (a
 * `CEosLabDevice` per node), so only the kubernetes backend can run it. Push is a CLI config
 * session; reset is `configure replace` of the startup config; certificates come from the CR.
 */
import { topo } from "@kne/proto";
import { aristaInterfaceNaming } from "./interface-names";
import type { VendorDefinition } from "../vendor-definition";

export const aristaVendor: VendorDefinition = {
  vendor: topo.Vendor.ARISTA,
  name: "ARISTA",
  description: "Arista cEOS",
  aliases: ["ceos", "eos"],
  models: [{ name: "ceos" }],
  defaultModel: "ceos",
  defaults: {
    services: {
      443: { names: ["ssl"], inside: 443 },
      22: { names: ["ssh"], inside: 22 },
      6030: { names: ["gnmi", "gnoi"], inside: 6030 },
      9340: { names: ["gribi"], inside: 9340 },
      9559: { names: ["p4rt"], inside: 9559 },
    },
    interfacePattern: /^(Ethernet\d+(\/\d+){0,2}|Management\d+(\/\d+)?)$/,
    managementInterface: "Management0",
    labels: { "ondatra-role": "DUT" },
    container: {
      image: "ceos:latest",
      configPath: "/mnt/flash",
      configFile: "startup-config",
      entryCommand: "kubectl exec -it %s -- Cli",
      constraints: { cpu: "0.5", memory: "1Gi" },
      cert: { certName: "gnmiCert.pem", keyName: "gnmiCertKey.pem", keySize: 4096 },
      customResource: { apiVersion: "ceoslab.arista.com/v1alpha1", kind: "CEosLabDevice" },
    },
  },
  interfaceNaming: aristaInterfaceNaming,
  requiresBackend: "kubernetes",
};
