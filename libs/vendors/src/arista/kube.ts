/**
 * cEOS on Kubernetes. "cr": a `CEosLabDevice` for Arista's operator, which makes the pod
 * and its Service from it (image, env, ports, interface mapping, certificates, vendor data).
 * "pod": the pod that operator makes — `/sbin/init` with cEOS's boot env passed both as
 * env and as `systemd.setenv=` arguments, the interface mapping file beside the startup
 * config — made directly, with our Service.
 */
import { anyUnpack } from "@bufbuild/protobuf/wkt";
import { ceos } from "@kne/proto";
import {
  type KubeNodeContext,
  type NodeObjects,
  configMap,
  operatorNodeObjects,
  defaultNodeObjects,
  kubeProblem,
  namedServices,
  selfSignedCert,
} from "../kube-shape";

/** Env cEOS needs to boot in a container (what the operator sets). */
export const CEOS_BOOT_ENV: Readonly<Record<string, string>> = {
  CEOS: "1",
  EOS_PLATFORM: "ceoslab",
  container: "docker",
  ETBA: "1",
  SKIP_ZEROTOUCH_BARRIER_IN_SYSDBINIT: "1",
  INTFTYPE: "eth",
  MAPETH0: "1",
  MGMT_INTF: "eth0",
};

/** `eth<n>` → the cEOS interface: the topology's name for it, else `Ethernet<n>`. */
export function ceosInterfaceMapping(ctx: KubeNodeContext): Record<string, string> {
  const mapping: Record<string, string> = {};
  for (const eth of ctx.interfaces) {
    const named = ctx.node.interfaces[eth]?.name;
    const n = /^eth(\d+)$/.exec(eth)?.[1];
    if (named) mapping[eth] = named;
    else if (n) mapping[eth] = `Ethernet${n}`;
    else kubeProblem(ctx, `interfaces[${eth}]`, `cannot map ${eth} to a cEOS interface: name it (interfaces { key: "${eth}" value { name: "Ethernet1" } })`);
  }
  return mapping;
}

function ceosVendorData(ctx: KubeNodeContext): ceos.CEosLabConfig | undefined {
  const any = ctx.node.config?.vendorData;
  if (!any || any.typeUrl === "") return undefined;
  const data = anyUnpack(any, ceos.CEosLabConfigSchema);
  if (!data) kubeProblem(ctx, "config.vendor_data", `expected ceos.CEosLabConfig, got ${any.typeUrl}`);
  return data;
}

function ceosCustomResource(ctx: KubeNodeContext): NodeObjects {
  const cert = selfSignedCert(ctx);
  const vendorData = ceosVendorData(ctx);
  const mapping = ceosInterfaceMapping(ctx);
  const spec: Record<string, unknown> = {
    image: ctx.image,
    initcontainerimage: ctx.initImage,
    numinterfaces: ctx.interfaces.length,
    sleep: ctx.sleep,
    resourcerequirements: ctx.constraints,
    services: Object.fromEntries(namedServices(ctx).map((s) => [s.name, { tcpports: [{ in: s.inside, out: s.outside }] }])),
  };
  if (Object.keys(ctx.env).length > 0) spec.envvars = ctx.env;
  if (ctx.args.length > 0) spec.args = ctx.args;
  if (Object.keys(mapping).length > 0) spec.intfmapping = mapping;
  if (cert) {
    spec.certconfig = {
      selfsignedcerts: [{ certname: cert.certName, keyname: cert.keyName, keysize: cert.keySize, commonname: cert.commonName }],
    };
  }
  if (vendorData && Object.keys(vendorData.toggleOverrides).length > 0) spec.toggleoverrides = { ...vendorData.toggleOverrides };
  if (vendorData && vendorData.waitForAgents.length > 0) spec.waitforagents = [...vendorData.waitForAgents];
  return operatorNodeObjects(ctx, "ceoslabdevices", spec);
}

function ceosPod(ctx: KubeNodeContext): NodeObjects {
  const env = { ...CEOS_BOOT_ENV, ...ctx.env };
  const mapping = ceosInterfaceMapping(ctx);
  const mappingFile = JSON.stringify({ ManagementIntf: { eth0: "Management0" }, EthernetIntf: mapping }, null, 2);
  const mappingMap = `${ctx.node.name}-intfmapping`;
  const withEnv: KubeNodeContext = { ...ctx, env, command: ctx.command.length > 0 ? ctx.command : ["/sbin/init"] };
  return defaultNodeObjects(withEnv, {
    container: {
      args: [...Object.keys(env).sort().map((k) => `systemd.setenv=${k}=${env[k]}`), ...ctx.args],
    },
    configMaps: [configMap(ctx, mappingMap, { "EosIntfMapping.json": new TextEncoder().encode(mappingFile) })],
    volumes: [{ name: "intf-mapping", configMap: { name: mappingMap } }],
    mounts: [{ name: "intf-mapping", mountPath: "/mnt/flash/EosIntfMapping.json", subPath: "EosIntfMapping.json", readOnly: true }],
  });
}

export function aristaKubeObjects(ctx: KubeNodeContext): NodeObjects {
  return ctx.operatorMode === "cr" ? ceosCustomResource(ctx) : ceosPod(ctx);
}
