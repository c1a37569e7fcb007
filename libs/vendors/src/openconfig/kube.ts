/**
 * OpenConfig on Kubernetes. LEMMING: "cr" is a `Lemming` for lemming's operator (which
 * makes the pod and its Service from the ports); "pod" is that pod made directly. MAGNA is
 * always a plain pod, as upstream.
 */
import {
  type KubeNodeContext,
  type NodeObjects,
  crdName,
  customResourceOf,
  defaultNodeObjects,
  lemmingStyleSpec,
  objectMeta,
  operatorConfigMaps,
  operatorPodSelector,
} from "../kube-shape";

export function openconfigKubeObjects(ctx: KubeNodeContext): NodeObjects {
  if (ctx.vendor.model !== "LEMMING" || ctx.operatorMode === "pod") return defaultNodeObjects(ctx);
  const cr = customResourceOf(ctx);
  return {
    objects: [...operatorConfigMaps(ctx), { ...cr, metadata: objectMeta(ctx, ctx.node.name), spec: lemmingStyleSpec(ctx) }],
    podSelector: operatorPodSelector(ctx),
    expectedPods: 1,
    operatorCrd: crdName("lemmings", cr.apiVersion),
  };
}
