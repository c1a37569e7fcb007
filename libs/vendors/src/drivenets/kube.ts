/**
 * DriveNets cDNOS on Kubernetes: "cr" is a `Cdnos` for DriveNets' operator (lemming's spec
 * plus the node's labels); "pod" is the pod it would make, made directly.
 */
import { type KubeNodeContext, type NodeObjects, defaultNodeObjects, lemmingStyleSpec, operatorNodeObjects } from "../kube-shape";

export function drivenetsKubeObjects(ctx: KubeNodeContext): NodeObjects {
  if (ctx.operatorMode === "pod") return defaultNodeObjects(ctx);
  return operatorNodeObjects(ctx, "cdnos", { ...lemmingStyleSpec(ctx), labels: { ...ctx.node.labels } });
}
