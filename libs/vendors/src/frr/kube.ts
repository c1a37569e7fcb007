/**
 * FRR on Kubernetes: the default pod from FRR's image, plus its `daemons` file (ConfigMap
 * `<node>-daemons`, mounted at `<config_path>/daemons`) enabling the daemons the boot
 * config needs and those `config.env.FRR_DAEMONS` adds — the same choice the local runtime makes.
 */
import { posix } from "node:path";
import { type KubeNodeContext, type NodeObjects, configMap, defaultNodeObjects, kubeProblem } from "../kube-shape";
import { FRR_DAEMONS_ENV } from "./frr";
import { type FrrDaemon, baseFrrDaemons, daemonsForConfig, knownFrrDaemons, parseDaemonList } from "./frr-daemons";

/** FRR's image starts these itself; its `daemons` file lists only the optional ones. */
const alwaysStarted: readonly FrrDaemon[] = ["mgmtd", ...baseFrrDaemons];

/** The `daemons` file of FRR's init: `<daemon>=yes|no` per optional daemon. */
export function frrDaemonsFile(ctx: KubeNodeContext): string {
  const config = ctx.config ? new TextDecoder().decode(ctx.config) : "";
  let extra: FrrDaemon[] = [];
  const listed = ctx.env[FRR_DAEMONS_ENV];
  if (listed) {
    try {
      extra = parseDaemonList(listed);
    } catch (e) {
      kubeProblem(ctx, `config.env[${FRR_DAEMONS_ENV}]`, (e as Error).message);
    }
  }
  const wanted = new Set<FrrDaemon>([...daemonsForConfig(config), ...extra]);
  const lines = knownFrrDaemons.filter((d) => !alwaysStarted.includes(d)).map((d) => `${d}=${wanted.has(d) ? "yes" : "no"}`);
  return [...lines, "vtysh_enable=yes", ""].join("\n");
}

export function frrKubeObjects(ctx: KubeNodeContext): NodeObjects {
  const name = `${ctx.node.name}-daemons`;
  return defaultNodeObjects(ctx, {
    configMaps: [configMap(ctx, name, { daemons: new TextEncoder().encode(frrDaemonsFile(ctx)) })],
    volumes: [{ name: "frr-daemons", configMap: { name } }],
    mounts: [{ name: "frr-daemons", mountPath: posix.join("/", ctx.configPath, "daemons"), subPath: "daemons", readOnly: true }],
  });
}
