/**
 * SR Linux on Kubernetes. "cr": a `Srlinux` for the srl-controller (which makes the pod
 * and mounts `<node>-config` when `config_data_present`), plus our Service, as upstream.
 * "pod": the controller's pod made directly (its entrypoint and arguments). The boot
 * config is `config.json` when it is JSON and `config.cli` otherwise, unless the topology
 * names the file.
 */
import {
  type KubeNodeContext,
  type NodeObjects,
  defaultNodeObjects,
  nodeService,
  operatorNodeObjects,
  operatorPodSelector,
  selfSignedCert,
} from "../kube-shape";

/** What the srl-controller runs when the topology gives no command. */
const SRL_COMMAND = ["/tini", "--", "fixuid", "-q", "/kne-entrypoint.sh"];
const SRL_ARGS = ["sudo", "bash", "-c", "touch /.dockerenv && /opt/srlinux/bin/sr_linux"];
/** Where the pod made directly finds its startup config. */
const SRL_CONFIG_PATH = "/tmp/startup-config";

function looksLikeJson(config: Uint8Array | undefined): boolean {
  if (!config) return false;
  const text = new TextDecoder().decode(config.subarray(0, 64)).trimStart();
  return text.startsWith("{");
}

function withConfigFile(ctx: KubeNodeContext): KubeNodeContext {
  if (ctx.node.config?.configFile) return ctx;
  return { ...ctx, configFile: looksLikeJson(ctx.config) ? "config.json" : "config.cli" };
}

function srlinuxCustomResource(ctx: KubeNodeContext): NodeObjects {
  const cert = selfSignedCert(ctx);
  const config: Record<string, unknown> = {
    image: ctx.image,
    "init-image": ctx.initImage,
    config_file: ctx.configFile,
    config_data_present: ctx.config !== undefined,
    sleep: ctx.sleep,
  };
  if (ctx.command.length > 0) config.command = ctx.command;
  if (ctx.args.length > 0) config.args = ctx.args;
  if (Object.keys(ctx.env).length > 0) config.env = ctx.env;
  if (ctx.node.config?.configPath) config.config_path = ctx.configPath;
  if (ctx.node.config?.entryCommand) config.entry_command = ctx.node.config.entryCommand;
  if (cert) config.cert = { cert_name: cert.certName, key_name: cert.keyName, key_size: cert.keySize, common_name: cert.commonName };
  const service = nodeService(ctx, operatorPodSelector(ctx));
  const spec = {
    config,
    "num-interfaces": ctx.interfaces.length,
    constraints: ctx.constraints,
    ...(ctx.vendor.model ? { model: ctx.vendor.model } : {}),
    ...(ctx.node.version ? { version: ctx.node.version } : {}),
  };
  return operatorNodeObjects(ctx, "srlinuxes", spec, service ? [service] : []);
}

export function nokiaKubeObjects(base: KubeNodeContext): NodeObjects {
  const ctx = withConfigFile(base);
  if (ctx.operatorMode === "cr") return srlinuxCustomResource(ctx);
  return defaultNodeObjects({
    ...ctx,
    command: ctx.command.length > 0 ? ctx.command : SRL_COMMAND,
    args: ctx.args.length > 0 ? ctx.args : SRL_ARGS,
    env: { SRLINUX: "1", ...ctx.env },
    configPath: ctx.node.config?.configPath || SRL_CONFIG_PATH,
  });
}
