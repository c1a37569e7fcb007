/**
 * Cisco XRd and 8000e on Kubernetes: the default pod, with XR's interface and boot-config
 * env (`XR_INTERFACES`, `XR_EVERY_BOOT_CONFIG`, ...) computed from the node's interfaces as
 * upstream does, and `/run` in memory. Env the topology sets wins.
 */
import { posix } from "node:path";
import { type KubeNodeContext, type NodeObjects, defaultNodeObjects, kubeProblem } from "../kube-shape";

/** 8000e port layouts: which data port (0-based) is 400G or 100G, per model. */
const e8000Ports: Readonly<Record<string, readonly { upTo: number; speed: "FourHundredGigE" | "HundredGigE" }[]>> = {
  "8201": [
    { upTo: 23, speed: "FourHundredGigE" },
    { upTo: 35, speed: "HundredGigE" },
  ],
  "8202": [
    { upTo: 47, speed: "HundredGigE" },
    { upTo: 59, speed: "FourHundredGigE" },
    { upTo: 71, speed: "HundredGigE" },
  ],
  "8201-32FH": [{ upTo: 31, speed: "FourHundredGigE" }],
  "8101-32H": [{ upTo: 31, speed: "HundredGigE" }],
  "8102-64H": [{ upTo: 63, speed: "HundredGigE" }],
};

/** The XR name of a pod interface: the topology's name for it, else from its number and the model. */
export function xrInterfaceName(ctx: KubeNodeContext, eth: string): string {
  const named = ctx.node.interfaces[eth]?.name;
  if (named) return named;
  const n = /^e(?:t(?:h(?:e(?:r(?:n(?:e(?:t)?)?)?)?)?)?)?(\d+)$/.exec(eth)?.[1];
  if (n === undefined) kubeProblem(ctx, `interfaces[${eth}]`, `cannot map ${eth} to an XR interface: name it or call it eth<n>`);
  const port = Number(n) - 1;
  const layout = ctx.vendor.model ? e8000Ports[ctx.vendor.model] : undefined;
  if (!layout) return `GigabitEthernet0/0/0/${port}`;
  const range = layout.find((r) => port >= 0 && port <= r.upTo);
  if (!range) {
    const last = layout.at(-1)!.upTo + 1;
    kubeProblem(ctx, `interfaces[${eth}]`, `model ${ctx.vendor.model} has data ports eth1..eth${last}; ${eth} does not exist`);
  }
  return `${range.speed}0/0/0/${port}`;
}

/** XR's boot env for the node's model (the topology's own env is laid over it). */
export function xrEnv(ctx: KubeNodeContext): Record<string, string> {
  const bootConfig = posix.join("/", ctx.configPath, ctx.configFile);
  const names = ctx.interfaces.map((eth) => [eth, xrInterfaceName(ctx, eth)] as const);
  if (ctx.vendor.model === "xrd") {
    return {
      XR_INTERFACES: names.map(([eth, xr]) => `linux:${eth},xr_name=${xr}`).join(";"),
      XR_MGMT_INTERFACES: "linux:eth0,xr_name=MgmtEth0/RP0/CPU0/0,chksum,snoop_v4,snoop_v6",
      XR_EVERY_BOOT_CONFIG: bootConfig,
    };
  }
  const management = "MgmtEther0/RP0/CPU0/0";
  return {
    XR_INTERFACES: [`${management}:eth0`, ...names.map(([eth, xr]) => `${xr}:${eth}`)].join(","),
    XR_CHECKSUM_OFFLOAD_COUNTERACT: [management, ...names.map(([, xr]) => xr)].join(","),
    XR_EVERY_BOOT_CONFIG: bootConfig,
  };
}

export function ciscoKubeObjects(ctx: KubeNodeContext): NodeObjects {
  const env = { ...xrEnv(ctx), ...ctx.env };
  const xrd = ctx.vendor.model === "xrd";
  return defaultNodeObjects(
    { ...ctx, env },
    {
      container: {
        securityContext: xrd ? { privileged: true, runAsUser: 0, capabilities: { add: ["SYS_ADMIN"] } } : { privileged: true },
      },
      volumes: [{ name: "run", emptyDir: { medium: "Memory" } }],
      mounts: [{ name: "run", mountPath: "/run" }],
    },
  );
}
