/**
 * Juniper cPTX (Junos Evolved in a container): kubernetes backend only. Certificates via
 * PKI CLI then gRPC server config; push is `load merge` + commit; reset is `load override`
 * of the boot config + commit.
 */
import { topo } from "@kne/proto";
import { juniperInterfaceNaming } from "./interface-names";
import type { VendorDefinition } from "../vendor-definition";

export const juniperVendor: VendorDefinition = {
  vendor: topo.Vendor.JUNIPER,
  name: "JUNIPER",
  description: "Juniper cPTX / ncPTX (Junos Evolved)",
  aliases: ["cptx", "ncptx", "evo"],
  models: [
    { name: "ncptx" },
    { name: "cptx", defaults: { container: { image: "cptx:latest", constraints: { cpu: "8", memory: "8Gi" } } } },
  ],
  defaultModel: "ncptx",
  defaults: {
    services: {
      443: { names: ["ssl"], inside: 443 },
      22: { names: ["ssh"], inside: 22 },
      9339: { names: ["gnmi", "gnoi", "gnsi"], inside: 9339 },
      9340: { names: ["gribi"], inside: 9340 },
      9559: { names: ["p4rt"], inside: 9559 },
    },
    interfacePattern: /^((et|xe|ge)-\d+\/\d+\/\d+(:\d+)?|re0:mgmt-0)$/,
    managementInterface: "re0:mgmt-0",
    labels: { "ondatra-role": "DUT" },
    container: {
      image: "ncptx:latest",
      command: ["/sbin/cevoCntrEntryPoint"],
      env: { JUNOS_EVOLVED_CONTAINER: "1" },
      configPath: "/home/evo/configdisk",
      configFile: "juniper.conf",
      entryCommand: "kubectl exec -it %s -- cli",
      cert: { certName: "grpc-server-cert", keyName: "my_key", keySize: 2048 },
      constraints: { cpu: "4", memory: "4Gi" },
    },
  },
  interfaceNaming: juniperInterfaceNaming,
  requiresBackend: "kubernetes",
};
