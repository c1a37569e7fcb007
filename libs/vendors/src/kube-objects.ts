/**
 * `kubeObjectsForNode`: the Kubernetes objects of one node for the kubernetes backend —
 * the default pod shape (`kube-shape.ts`) or, for a vendor that differs, its own
 * `<vendor>/kube.ts`, chosen from an explicit table (no registration on import).
 */
import { alpineKubeObjects } from "./alpine/kube";
import { aristaKubeObjects } from "./arista/kube";
import { cienaKubeObjects } from "./ciena/kube";
import { ciscoKubeObjects } from "./cisco/kube";
import { drivenetsKubeObjects } from "./drivenets/kube";
import { forwardKubeObjects } from "./forward/kube";
import { frrKubeObjects } from "./frr/kube";
import { inClusterProxyKubeObjects } from "./in-cluster-proxy/kube";
import { keysightKubeObjects } from "./keysight/kube";
import { type KubeNodeContext, type NodeObjects, type NodeObjectsInput, defaultNodeObjects, kubeNodeContext } from "./kube-shape";
import { nokiaKubeObjects } from "./nokia/kube";
import { openconfigKubeObjects } from "./openconfig/kube";

export type { KubeObject, KubeObjectMeta, NodeObjects, NodeObjectsInput, OperatorMode } from "./kube-shape";
export { DEFAULT_INIT_IMAGE, NODE_LABEL, TOPOLOGY_LABEL, dns1123Subdomain } from "./kube-shape";

/** Builds a vendor's objects from the resolved node. */
type KubeShape = (ctx: KubeNodeContext) => NodeObjects;

/** Vendors whose objects differ from the default pod shape, by registry name. */
const kubeShapes: Readonly<Record<string, KubeShape>> = {
  ALPINE: alpineKubeObjects,
  ARISTA: aristaKubeObjects,
  CIENA: cienaKubeObjects,
  CISCO: ciscoKubeObjects,
  DRIVENETS: drivenetsKubeObjects,
  FORWARD: forwardKubeObjects,
  FRR: frrKubeObjects,
  IN_CLUSTER_PROXY: inClusterProxyKubeObjects,
  KEYSIGHT: keysightKubeObjects,
  NOKIA: nokiaKubeObjects,
  OPENCONFIG: openconfigKubeObjects,
};

/**
 * The objects of one node, in apply order. Throws `KubeObjectsError` (naming topology,
 * node and field) for what Kubernetes would reject, and the registry's errors for an
 * unknown vendor or model.
 */
export function kubeObjectsForNode(input: NodeObjectsInput): NodeObjects {
  const ctx = kubeNodeContext(input);
  const shape = kubeShapes[ctx.vendor.name] ?? defaultNodeObjects;
  return shape(ctx);
}
