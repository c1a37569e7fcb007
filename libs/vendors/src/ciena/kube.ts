/**
 * Ciena SAOS / WaveRouter on Kubernetes: the default pod with containerlab's node labels in
 * env, and the system equipment JSON from `ciena.CienaConfig` vendor data in ConfigMap
 * `<node>-file`, mounted as `<mount_dir>/setup.json` (mount_dir `/` when unset), as upstream.
 */
import { posix } from "node:path";
import { anyUnpack } from "@bufbuild/protobuf/wkt";
import { ciena } from "@kne/proto";
import { type DefaultPodOptions, type KubeNodeContext, type NodeObjects, configMap, defaultNodeObjects, kubeProblem } from "../kube-shape";

const EQUIPMENT_FILE = "setup.json";

function equipment(ctx: KubeNodeContext): DefaultPodOptions {
  const any = ctx.node.config?.vendorData;
  if (!any || any.typeUrl === "") return {};
  const data = anyUnpack(any, ciena.CienaConfigSchema);
  if (!data) kubeProblem(ctx, "config.vendor_data", `expected ciena.CienaConfig, got ${any.typeUrl}`);
  const system = data.systemEquipment;
  if (!system || system.equipmentJson === "") return {};
  const json = system.equipmentJson;
  try {
    JSON.parse(json);
  } catch {
    // Upstream reads a file named here; the backend takes topologies with files read in.
    kubeProblem(
      ctx,
      "config.vendor_data.system_equipment.equipment_json",
      `must hold the equipment JSON itself (got ${JSON.stringify(json.slice(0, 60))}, which is not JSON: a file name not read in?)`,
    );
  }
  const name = `${ctx.node.name}-file`;
  return {
    configMaps: [configMap(ctx, name, { [EQUIPMENT_FILE]: new TextEncoder().encode(json) })],
    volumes: [{ name: "equipment-file", configMap: { name } }],
    mounts: [
      {
        name: "equipment-file",
        mountPath: posix.join("/", system.mountDir || "/", EQUIPMENT_FILE),
        subPath: EQUIPMENT_FILE,
        readOnly: true,
      },
    ],
  };
}

export function cienaKubeObjects(ctx: KubeNodeContext): NodeObjects {
  const env = { CLAB_LABEL_CLAB_NODE_NAME: ctx.node.name, CLAB_LABEL_CLAB_NODE_TYPE: ctx.vendor.model ?? "", ...ctx.env };
  return defaultNodeObjects({ ...ctx, env }, equipment(ctx));
}
