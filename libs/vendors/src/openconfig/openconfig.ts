/**
 * OpenConfig reference implementations: lemming (a device, made by its operator from a
 * `Lemming` CR, TLS in the CR) and magna (an ATE, a plain pod). A model is required, as
 * upstream. Kubernetes backend only. Reset is a no-op; push and certificates are UNIMPLEMENTED.
 */
import { topo } from "@kne/proto";
import { openconfigInterfaceNaming } from "./interface-names";
import type { VendorDefinition } from "../vendor-definition";

export const openconfigVendor: VendorDefinition = {
  vendor: topo.Vendor.OPENCONFIG,
  name: "OPENCONFIG",
  description: "OpenConfig lemming (device) and magna (ATE)",
  aliases: ["lemming", "magna"],
  models: [
    { name: "LEMMING" },
    {
      name: "MAGNA",
      defaults: {
        services: {
          40051: { names: ["grpc"], inside: 40051 },
          50051: { names: ["gnmi"], inside: 50051 },
        },
        labels: { "ondatra-role": "ATE" },
        container: {
          image: "magna:latest",
          command: ["/app/magna", "-v=2", "-alsologtostderr", "-port=40051", "-telemetry_port=50051", "-certfile=/data/cert.pem", "-keyfile=/data/key.pem"],
          entryCommand: "kubectl exec -it %s -- sh",
        },
      },
    },
  ],
  defaults: {
    services: {
      9339: { names: ["gnmi", "gnoi", "gnsi"], inside: 9339 },
      9340: { names: ["gribi"], inside: 9340 },
    },
    labels: { "ondatra-role": "DUT" },
    container: {
      image: "lemming:ga",
      command: ["/lemming/lemming"],
      entryCommand: "kubectl exec -it %s -- /bin/bash",
      constraints: { cpu: "500m", memory: "1Gi" },
      customResource: { apiVersion: "lemming.openconfig.net/v1alpha1", kind: "Lemming" },
    },
  },
  interfaceNaming: openconfigInterfaceNaming,
  requiresBackend: "kubernetes",
};
