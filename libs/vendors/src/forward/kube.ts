/**
 * FORWARD on Kubernetes: the default pod, given one `--wire=<a>,<z>` argument per wire of
 * its `forward.ForwardConfig` vendor data. An end is `intf:<interface>` (this pod),
 * `local:<node>/<interface>` (another node of the topology) or `remote:<address>/<interface>`.
 */
import { anyUnpack } from "@bufbuild/protobuf/wkt";
import { forward } from "@kne/proto";
import { type KubeNodeContext, type NodeObjects, defaultNodeObjects, kubeProblem } from "../kube-shape";

function endpointArg(ctx: KubeNodeContext, endpoint: forward.Endpoint | undefined, field: string): string {
  const e = endpoint?.endpoint;
  switch (e?.case) {
    case "interface":
      if (e.value.name) return `intf:${e.value.name}`;
      break;
    case "localNode":
      if (e.value.name && e.value.interface) return `local:${e.value.name}/${e.value.interface}`;
      break;
    case "remoteNode":
      if (e.value.addr && e.value.interface) return `remote:${e.value.addr}/${e.value.interface}`;
      break;
  }
  return kubeProblem(ctx, field, "a wire end needs an interface, a local node and interface, or a remote address and interface");
}

/** The forwarder's arguments: one per wire, in order. */
export function forwardWireArgs(ctx: KubeNodeContext): string[] {
  const any = ctx.node.config?.vendorData;
  if (!any || any.typeUrl === "") return [];
  const data = anyUnpack(any, forward.ForwardConfigSchema);
  if (!data) kubeProblem(ctx, "config.vendor_data", `expected forward.ForwardConfig, got ${any.typeUrl}`);
  return data.wires.map((w, i) => {
    const field = `config.vendor_data.wires[${i}]`;
    return `--wire=${endpointArg(ctx, w.a, `${field}.a`)},${endpointArg(ctx, w.z, `${field}.z`)}`;
  });
}

export function forwardKubeObjects(ctx: KubeNodeContext): NodeObjects {
  return defaultNodeObjects({ ...ctx, args: [...ctx.args, ...forwardWireArgs(ctx)] });
}
