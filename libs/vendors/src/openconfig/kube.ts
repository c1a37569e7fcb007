/**
 * OpenConfig on Kubernetes. LEMMING: "cr" is a `Lemming` for lemming's operator (which
 * makes the pod and its Service from the ports); "pod" is that pod made directly. MAGNA is
 * always a plain pod, as upstream.
 */
import { type KubeNodeContext, type NodeObjects, defaultNodeObjects, lemmingStyleSpec, operatorNodeObjects } from "../kube-shape";

export function openconfigKubeObjects(ctx: KubeNodeContext): NodeObjects {
  if (ctx.vendor.model !== "LEMMING" || ctx.operatorMode === "pod") return defaultNodeObjects(ctx);
  return operatorNodeObjects(ctx, "lemmings", lemmingStyleSpec(ctx));
}
