/**
 * DriveNets cDNOS on Kubernetes: "cr" is a `Cdnos` for DriveNets' operator (lemming's spec
 * plus the node's labels); "pod" is the pod it would make, made directly.
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

export function drivenetsKubeObjects(ctx: KubeNodeContext): NodeObjects {
  if (ctx.operatorMode === "pod") return defaultNodeObjects(ctx);
  const cr = customResourceOf(ctx);
  const spec = { ...lemmingStyleSpec(ctx), labels: { ...ctx.node.labels } };
  return {
    objects: [...operatorConfigMaps(ctx), { ...cr, metadata: objectMeta(ctx, ctx.node.name), spec }],
    podSelector: operatorPodSelector(ctx),
    expectedPods: 1,
    operatorCrd: crdName("cdnos", cr.apiVersion),
  };
}
