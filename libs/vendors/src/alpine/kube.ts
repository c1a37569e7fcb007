/**
 * ALPINE on Kubernetes: the default pod plus, from `alpine.AlpineConfig` vendor data, its
 * one data-plane container (given `--portMap=<vendor name>:<pod interface>,...`) and its
 * files (ConfigMap `<node>-files`, mounted at `mount_dir` in every container). With a
 * boot config every container is told where it is (`--config_file=`), as upstream.
 */
import { posix } from "node:path";
import { anyUnpack } from "@bufbuild/protobuf/wkt";
import { alpine } from "@kne/proto";
import {
  type ContainerJson,
  type DefaultPodOptions,
  type KubeNodeContext,
  type NodeObjects,
  configMap,
  configMountPath,
  defaultNodeObjects,
  envList,
  kubeProblem,
  resourceRequests,
} from "../kube-shape";
import { compareNatural } from "../interface-naming";
import { mapInterfaceNames } from "../registry";

const fileKey = /^[-._a-zA-Z0-9]+$/;

function alpineConfig(ctx: KubeNodeContext): alpine.AlpineConfig | undefined {
  const any = ctx.node.config?.vendorData;
  if (!any || any.typeUrl === "") return undefined;
  const data = anyUnpack(any, alpine.AlpineConfigSchema);
  if (!data) kubeProblem(ctx, "config.vendor_data", `expected alpine.AlpineConfig, got ${any.typeUrl}`);
  return data;
}

/** `<vendor name>:<pod interface>` per interface the topology names (the data-plane container's `--portMap`). */
function portMap(ctx: KubeNodeContext): string[] {
  const written = Object.keys(ctx.node.interfaces).sort(compareNatural);
  const mapped = mapInterfaceNames(ctx.node, written);
  return written.map((key) => {
    const i = ctx.node.interfaces[key]!;
    const vendorName = i.name || (i.intName !== "" && i.intName !== key ? i.intName : key);
    return `${vendorName}:${mapped?.linux.get(key) ?? key}`;
  });
}

function filesOption(ctx: KubeNodeContext, files: alpine.Files | undefined): DefaultPodOptions {
  if (!files || Object.keys(files.files).length === 0) return {};
  if (!files.mountDir) kubeProblem(ctx, "config.vendor_data.files.mount_dir", "files need a mount_dir");
  const entries: Record<string, Uint8Array> = {};
  for (const [name, file] of Object.entries(files.files)) {
    const field = `config.vendor_data.files.files[${name}]`;
    if (!fileKey.test(name)) kubeProblem(ctx, field, `"${name}" is not a valid file name (letters, digits, '-', '_', '.')`);
    if (file.fileData.case !== "data") {
      kubeProblem(ctx, field, "the backend takes file contents inline (data), not a file name");
    }
    entries[name] = file.fileData.value;
  }
  const name = `${ctx.node.name}-files`;
  return {
    configMaps: [configMap(ctx, name, entries)],
    volumes: [{ name: "vendor-files", configMap: { name } }],
    mounts: [{ name: "vendor-files", mountPath: posix.join("/", files.mountDir), readOnly: true }],
  };
}

export function alpineKubeObjects(ctx: KubeNodeContext): NodeObjects {
  const data = alpineConfig(ctx);
  if (data && data.containers.length > 1) {
    kubeProblem(ctx, "config.vendor_data.containers", `ALPINE supports one data-plane container, got ${data.containers.length}`);
  }
  const configArg = ctx.config ? [`--config_file=${configMountPath(ctx)}`] : [];
  const sidecars: ContainerJson[] = (data?.containers ?? []).map((c, i) => {
    if (!c.name || !c.image) kubeProblem(ctx, `config.vendor_data.containers[${i}]`, "a container needs a name and an image");
    const ports = portMap(ctx);
    const env = envList(ctx.env);
    return {
      name: c.name,
      image: c.image,
      ...(c.command.length > 0 ? { command: [...c.command] } : {}),
      args: [...c.args, ...(ports.length > 0 ? [`--portMap=${ports.join(",")}`] : []), ...configArg],
      ...(env.length > 0 ? { env } : {}),
      resources: resourceRequests(ctx),
      imagePullPolicy: "IfNotPresent",
      securityContext: { privileged: true },
    };
  });
  const files = filesOption(ctx, data?.files);
  return defaultNodeObjects(ctx, {
    ...files,
    sidecars,
    ...(configArg.length > 0 ? { container: { args: [...ctx.args, ...configArg] } } : {}),
  });
}
