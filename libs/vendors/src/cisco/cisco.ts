/**
 * Cisco XRd and 8000e: container images with XR, configured through env
 * (`XR_INTERFACES`, `XR_EVERY_BOOT_CONFIG`); kubernetes backend only. Push is XR CLI (a
 * `commit` is added when missing); reset reloads the startup config.
 */
import { topo } from "@kne/proto";
import { ciscoInterfaceNaming } from "./interface-names";
import type { VendorDefinition } from "../vendor-definition";

const e8000 = {
  defaults: {
    container: {
      image: "ios-xr:latest",
      configPath: "/",
      configFile: "startup.cfg",
      entryCommand: "kubectl exec -it %s -- bash",
      cert: { certName: "ems.pem", keyName: "ems.key", keySize: 2048 },
      constraints: { cpu: "4", memory: "12Gi" },
    },
  },
} as const;

export const ciscoVendor: VendorDefinition = {
  vendor: topo.Vendor.CISCO,
  name: "CISCO",
  description: "Cisco IOS XR: XRd and 8000e",
  aliases: ["xrd", "iosxr", "8000e"],
  models: [
    { name: "xrd" },
    { name: "8201", ...e8000 },
    { name: "8201-32FH", ...e8000 },
    { name: "8202", ...e8000 },
    { name: "8101-32H", ...e8000 },
    { name: "8102-64H", ...e8000 },
  ],
  defaultModel: "xrd",
  defaults: {
    services: {
      22: { names: ["ssh"], inside: 22 },
      9339: { names: ["gnmi", "gnoi", "gnsi"], inside: 57400 },
      9340: { names: ["gribi"], inside: 57400 },
      9559: { names: ["p4rt"], inside: 57400 },
    },
    interfacePattern:
      /^(GigabitEthernet|TenGigE|TwentyFiveGigE|FortyGigE|FiftyGigE|HundredGigE|TwoHundredGigE|FourHundredGigE|MgmtEth)\d+(\/\d+){3}$/,
    managementInterface: "MgmtEth0/RP0/CPU0/0",
    labels: { "ondatra-role": "DUT" },
    container: {
      image: "ios-xr:latest",
      configPath: "/",
      configFile: "startup.cfg",
      entryCommand: "kubectl exec -it %s -- bash",
      cert: { certName: "ems.pem", keyName: "ems.key", keySize: 2048 },
      constraints: { cpu: "1", memory: "2Gi" },
    },
  },
  interfaceNaming: ciscoInterfaceNaming,
  requiresBackend: "kubernetes",
};
