/**
 * The Kubernetes objects of one node, as plain JSON (what server-side apply takes): the
 * types both sides share, the node resolved once (`KubeNodeContext`), and the default pod
 * shape upstream gives most vendors — boot config in a ConfigMap mounted with subPath, an
 * init container that waits for the data interfaces, a privileged container, labels
 * `app`/`topo` plus ours, preferred anti-affinity on hostname, no termination grace, and a
 * LoadBalancer Service with one port per `services` entry. Vendors that differ build on
 * these pieces in their own `<vendor>/kube.ts`.
 */
import { posix } from "node:path";
import type { topo } from "@kne/proto";
import { KubeObjectsError } from "./errors";
import { mapInterfaceNames, resolveVendor, withVendorDefaults } from "./registry";
import type { ResolvedVendor } from "./vendor-definition";

export interface KubeObjectMeta {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

/** A Kubernetes object as plain JSON (what server-side apply takes). */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: KubeObjectMeta;
  [field: string]: unknown;
}

/** "cr": the vendor's operator custom resource (upstream's way, needs the operator); "pod": the pod that operator would make, made directly. */
export type OperatorMode = "cr" | "pod";

export interface NodeObjectsInput {
  /** Topology name. */
  topology: string;
  /** Kubernetes namespace the objects go to. */
  namespace: string;
  /** A validated node as backends receive it (config inline in `config.data`). */
  node: topo.Node;
  /** The links that touch this node (either end). */
  links: topo.Link[];
  imagePullSecrets?: string[];
  /** Default "cr" for vendors upstream runs through an operator. */
  operatorMode?: OperatorMode;
}

export interface NodeObjects {
  /** Apply order: ConfigMap(s), then the Pod(s) or the operator CR, then the Service. */
  objects: KubeObject[];
  /** Labels selecting the node's pods (operator-made pods included). */
  podSelector: Record<string, string>;
  /** Pods the node has when it is up (Keysight: one per port plus its controller, as upstream). */
  expectedPods: number;
  /** `<plural>.<group>` of the operator CRD when `objects` holds an operator CR. */
  operatorCrd?: string;
}

/** Our own labels on every object of a node (upstream's `app` and `topo` come beside them). */
export const TOPOLOGY_LABEL = "kne.dev/topology";
export const NODE_LABEL = "kne.dev/node";

/** The init container's image when the node names none (upstream's init-wait). */
export const DEFAULT_INIT_IMAGE = "networkop/init-wait:latest";

/**
 * A ConfigMap holds at most 1 MiB of data (keys included); configs above this go into
 * parts that an init container joins.
 */
export const CONFIG_MAP_MAX_BYTES = 1_000_000;
/** Bytes per part of a large config: base64 in the request keeps it under etcd's 1.5 MiB. */
export const CONFIG_PART_BYTES = 768 * 1024;

/** The name of the volume (and emptyDir, for joined configs) holding the boot config. */
const CONFIG_VOLUME = "startup-config-volume";

/** A container as plain JSON; only the fields this module sets are typed. */
export interface ContainerJson {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  env?: { name: string; value: string }[];
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  imagePullPolicy?: string;
  securityContext?: Record<string, unknown>;
  volumeMounts?: { name: string; mountPath: string; subPath?: string; readOnly?: boolean }[];
  ports?: { name?: string; containerPort: number; protocol?: string }[];
  [field: string]: unknown;
}

export interface VolumeJson {
  name: string;
  [source: string]: unknown;
}

/** Everything a vendor's shape needs about one node, resolved once. */
export interface KubeNodeContext {
  readonly topology: string;
  readonly namespace: string;
  /** The node with its vendor's defaults filled in (model, services, labels). */
  readonly node: topo.Node;
  readonly vendor: ResolvedVendor;
  readonly operatorMode: OperatorMode;
  readonly image: string;
  readonly command: string[];
  readonly args: string[];
  /** Node env over the vendor's env. */
  readonly env: Record<string, string>;
  readonly configPath: string;
  readonly configFile: string;
  /** The boot config, or undefined when the node has none. */
  readonly config: Uint8Array | undefined;
  readonly initImage: string;
  readonly sleep: number;
  /** The node's constraints, else the vendor's. */
  readonly constraints: Record<string, string>;
  /** The node's data interfaces as the pod names them (`eth1`...), sorted, each once. */
  readonly interfaces: string[];
  /** Link ends on this node (a self-link counts twice): the init container waits for these + eth0. */
  readonly linkEnds: number;
  readonly imagePullSecrets: string[];
  /** Labels of every object of the node. */
  readonly labels: Record<string, string>;
  /** `nodes[<name>]`, for error fields. */
  readonly at: string;
}

/** Throws a `KubeObjectsError` naming the topology, the node and the field. */
export function kubeProblem(ctx: Pick<KubeNodeContext, "topology" | "at">, field: string, problem: string): never {
  throw new KubeObjectsError(ctx.topology, `${ctx.at}${field ? `.${field}` : ""}`, problem);
}

const dns1123Label = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const dns1035Label = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
/** Kubernetes quantity syntax (`500m`, `1.5`, `2Gi`, `1e3`). */
const quantity = /^[+-]?(\d+(\.\d*)?|\.\d+)(([KMGTPE]i)|[numkMGTPE]|[eE][+-]?\d+)?$/;
const configMapKey = /^[-._a-zA-Z0-9]+$/;
const labelValue = /^(?=.{1,63}$)[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

function linkEndsOf(nodeName: string, links: readonly topo.Link[]): string[] {
  const ends: string[] = [];
  for (const l of links) {
    if (l.aNode === nodeName) ends.push(l.aInt);
    if (l.zNode === nodeName) ends.push(l.zInt);
  }
  return ends;
}

function decodeConfig(ctx: Pick<KubeNodeContext, "topology" | "at">, node: topo.Node): Uint8Array | undefined {
  const data = node.config?.configData;
  if (!data || data.case === undefined) return undefined;
  if (data.case === "file") {
    kubeProblem(ctx, "config.file", `config file ${data.value} was not read in: the backend takes configs inline (config.data)`);
  }
  return data.value.length > 0 ? data.value : undefined;
}

/** Resolves a node for the Kubernetes backend; throws `KubeObjectsError` or the registry's errors. */
export function kubeNodeContext(input: NodeObjectsInput): KubeNodeContext {
  const at = `nodes[${input.node.name}]`;
  const where = { topology: input.topology, at };
  const name = input.node.name;
  if (!dns1123Label.test(name) || name.length > 63) {
    kubeProblem(where, "name", `"${name}" is not a valid pod name (lower-case letters, digits and '-', at most 63 characters)`);
  }
  if (!labelValue.test(input.topology)) {
    throw new KubeObjectsError(input.topology, "name", `topology name "${input.topology}" cannot be a label value (at most 63 letters, digits, '-', '_' or '.')`);
  }
  if (!dns1123Label.test(input.namespace) || input.namespace.length > 63) {
    throw new KubeObjectsError(input.topology, "namespace", `"${input.namespace}" is not a valid Kubernetes namespace name`);
  }
  const vendor = resolveVendor(input.node);
  const node = withVendorDefaults(input.node);
  const defaults = vendor.defaults.container ?? {};
  const config = node.config;
  // Per key, as upstream fills them: a node that sets only `memory` keeps the vendor's `cpu`.
  const constraints: Record<string, string> = { ...defaults.constraints, ...node.constraints };
  for (const key of ["cpu", "memory"]) {
    const value = constraints[key];
    if (value !== undefined && !quantity.test(value)) {
      kubeProblem(where, `constraints[${key}]`, `"${value}" is not a Kubernetes quantity (for example 500m, 2, 4Gi)`);
    }
  }
  const ends = linkEndsOf(name, input.links);
  // An interface a resolution renamed (keyed eth1, int_name "1/5/1") counts by the name written.
  const written = [...new Set([...ends, ...Object.entries(node.interfaces).map(([key, i]) => i.intName || key)])];
  // Named inside the pod as the vendor renames them (Ciena 1/5/1 → eth1, SONiC Ethernet0 → eth1).
  const podNames = mapInterfaceNames(node, written);
  const interfaces = [...new Set(written.map((i) => podNames?.linux.get(i) ?? i))]
    .filter((i) => i !== "eth0")
    .sort(compareInterfaceNames);
  const labels: Record<string, string> = {
    ...node.labels,
    app: name,
    topo: input.topology,
    [TOPOLOGY_LABEL]: input.topology,
    [NODE_LABEL]: name,
  };
  for (const secret of input.imagePullSecrets ?? []) {
    if (!dns1123Subdomain(secret)) {
      throw new KubeObjectsError(input.topology, "imagePullSecrets", `"${secret}" is not a valid Secret name`);
    }
  }
  return {
    topology: input.topology,
    namespace: input.namespace,
    node,
    vendor,
    operatorMode: input.operatorMode ?? "cr",
    image: config?.image || defaults.image || "",
    command: config?.command.length ? [...config.command] : [...(defaults.command ?? [])],
    args: config?.args.length ? [...config.args] : [...(defaults.args ?? [])],
    env: { ...defaults.env, ...config?.env },
    configPath: config?.configPath || defaults.configPath || "/",
    configFile: config?.configFile || defaults.configFile || "config",
    config: decodeConfig(where, node),
    initImage: config?.initImage || DEFAULT_INIT_IMAGE,
    sleep: config?.sleep ?? 0,
    constraints,
    interfaces,
    linkEnds: ends.length,
    imagePullSecrets: [...(input.imagePullSecrets ?? [])],
    labels,
    at,
  };
}

/** A valid name for most Kubernetes objects (a DNS-1123 subdomain): Secrets, ConfigMaps, Services. */
export function dns1123Subdomain(name: string): boolean {
  return name.length <= 253 && name.split(".").every((part) => dns1123Label.test(part));
}

/** `eth2` before `eth10`: by name, numbers compared as numbers. */
export function compareInterfaceNames(a: string, b: string): number {
  return a.localeCompare(b, "en", { numeric: true });
}

/** Where the boot config is mounted: `config_path/config_file`, always absolute. */
export function configMountPath(ctx: Pick<KubeNodeContext, "configPath" | "configFile">): string {
  return posix.join("/", ctx.configPath, ctx.configFile);
}

/** The ConfigMap key of the boot config: the file name when Kubernetes allows it as a key. */
export function configKey(ctx: Pick<KubeNodeContext, "configFile">): string {
  const base = posix.basename(ctx.configFile);
  return configMapKey.test(base) && base !== "." && base !== ".." ? base : "config";
}

export function objectMeta(ctx: KubeNodeContext, name: string, extraLabels?: Record<string, string>): KubeObjectMeta {
  return { name, namespace: ctx.namespace, labels: { ...ctx.labels, ...extraLabels } };
}

/** `data` for UTF-8 text, `binaryData` (base64) for anything else: configs are bytes. */
export function configMapPayload(entries: Record<string, Uint8Array>): { data?: Record<string, string>; binaryData?: Record<string, string> } {
  const data: Record<string, string> = {};
  const binaryData: Record<string, string> = {};
  const decoder = new TextDecoder("utf-8", { fatal: true });
  for (const [key, bytes] of Object.entries(entries)) {
    try {
      data[key] = decoder.decode(bytes);
    } catch {
      binaryData[key] = Buffer.from(bytes).toString("base64");
    }
  }
  return {
    ...(Object.keys(data).length > 0 ? { data } : {}),
    ...(Object.keys(binaryData).length > 0 ? { binaryData } : {}),
  };
}

export function configMap(ctx: KubeNodeContext, name: string, entries: Record<string, Uint8Array>): KubeObject {
  return { apiVersion: "v1", kind: "ConfigMap", metadata: objectMeta(ctx, name), ...configMapPayload(entries) };
}

/** The name of the ConfigMap holding the boot config (upstream's; operators read it too). */
export function configMapName(ctx: Pick<KubeNodeContext, "node">): string {
  return `${ctx.node.name}-config`;
}

/** The boot config's ConfigMap(s), volumes, mount and (for a large config) the joining init container. */
export interface BootConfigParts {
  configMaps: KubeObject[];
  volumes: VolumeJson[];
  /** Mount for the node's container(s). */
  mount: { name: string; mountPath: string; subPath: string; readOnly: boolean };
  /** Present when the config was split: joins the parts into the shared volume. */
  joinContainer?: ContainerJson;
}

/**
 * The boot config as ConfigMaps. Up to `CONFIG_MAP_MAX_BYTES` it is one ConfigMap
 * `<node>-config` (upstream's shape); above, it is split into `<node>-config-<i>` parts
 * of `CONFIG_PART_BYTES` and an init container concatenates them into an emptyDir, which
 * the node mounts at the same path — so a config of any size boots the same way.
 */
export function bootConfigParts(ctx: KubeNodeContext, config: Uint8Array = ctx.config ?? new Uint8Array()): BootConfigParts {
  const key = configKey(ctx);
  const mount = { name: CONFIG_VOLUME, mountPath: configMountPath(ctx), subPath: key, readOnly: true };
  if (config.length + key.length <= CONFIG_MAP_MAX_BYTES) {
    return {
      configMaps: [configMap(ctx, configMapName(ctx), { [key]: config })],
      volumes: [{ name: CONFIG_VOLUME, configMap: { name: configMapName(ctx) } }],
      mount,
    };
  }
  const configMaps: KubeObject[] = [];
  const volumes: VolumeJson[] = [{ name: CONFIG_VOLUME, emptyDir: {} }];
  const partMounts: { name: string; mountPath: string; readOnly: boolean }[] = [];
  const partFiles: string[] = [];
  for (let offset = 0, i = 0; offset < config.length; offset += CONFIG_PART_BYTES, i++) {
    const name = `${configMapName(ctx)}-${i}`;
    const volume = `config-part-${i}`;
    const part = config.subarray(offset, offset + CONFIG_PART_BYTES);
    configMaps.push({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: objectMeta(ctx, name, { "kne.dev/config-part": String(i) }),
      binaryData: { part: Buffer.from(part).toString("base64") },
    });
    volumes.push({ name: volume, configMap: { name } });
    partMounts.push({ name: volume, mountPath: `/kne-config-parts/${i}`, readOnly: true });
    partFiles.push(`/kne-config-parts/${i}/part`);
  }
  const joinContainer: ContainerJson = {
    name: "join-config",
    image: ctx.initImage,
    // The script is fixed; the part paths come as positional arguments, never as script text.
    command: ["/bin/sh", "-c", 'out="$1"; shift; cat "$@" > "$out"', "join-config", `/kne-config/${key}`, ...partFiles],
    imagePullPolicy: "IfNotPresent",
    volumeMounts: [{ name: CONFIG_VOLUME, mountPath: "/kne-config" }, ...partMounts],
  };
  return { configMaps, volumes, mount, joinContainer };
}

/** Env as a sorted list (a map has no order; a stable order keeps re-applies no-ops). */
export function envList(env: Readonly<Record<string, string>>): { name: string; value: string }[] {
  return Object.keys(env)
    .sort()
    .map((name) => ({ name, value: env[name]! }));
}

/** Resource requests from `cpu` and `memory` constraints, as upstream reads them. */
export function resourceRequests(ctx: KubeNodeContext): { requests?: Record<string, string> } {
  const requests: Record<string, string> = {};
  for (const key of ["cpu", "memory"]) {
    const value = ctx.constraints[key];
    if (value) requests[key] = value;
  }
  return Object.keys(requests).length > 0 ? { requests } : {};
}

/** Upstream's init container: waits for `link ends + 1` interfaces, then sleeps `sleep` seconds. */
export function waitContainer(ctx: KubeNodeContext): ContainerJson {
  return {
    name: `init-${ctx.node.name}`,
    image: ctx.initImage,
    args: [String(ctx.linkEnds + 1), String(ctx.sleep)],
    imagePullPolicy: "IfNotPresent",
  };
}

/** The node's main container: image, command, args, env, requests, privileged. */
export function mainContainer(ctx: KubeNodeContext, overrides: Partial<ContainerJson> = {}): ContainerJson {
  if (!ctx.image && !overrides.image) {
    kubeProblem(ctx, "config.image", `vendor ${ctx.vendor.name} has no default image: set config.image`);
  }
  const env = envList(ctx.env);
  return {
    name: ctx.node.name,
    image: ctx.image,
    ...(ctx.command.length > 0 ? { command: ctx.command } : {}),
    ...(ctx.args.length > 0 ? { args: ctx.args } : {}),
    ...(env.length > 0 ? { env } : {}),
    resources: resourceRequests(ctx),
    imagePullPolicy: "IfNotPresent",
    securityContext: { privileged: true },
    ...overrides,
  };
}

export interface PodShape {
  name?: string;
  labels?: Record<string, string>;
  initContainers: ContainerJson[];
  containers: ContainerJson[];
  volumes?: VolumeJson[];
}

/** A pod of the node with upstream's scheduling: anti-affinity on hostname, no grace period. */
export function pod(ctx: KubeNodeContext, shape: PodShape): KubeObject {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: objectMeta(ctx, shape.name ?? ctx.node.name, shape.labels),
    spec: {
      ...(shape.initContainers.length > 0 ? { initContainers: shape.initContainers } : {}),
      containers: shape.containers,
      terminationGracePeriodSeconds: 0,
      affinity: {
        podAntiAffinity: {
          preferredDuringSchedulingIgnoredDuringExecution: [
            {
              weight: 100,
              podAffinityTerm: {
                labelSelector: { matchExpressions: [{ key: "topo", operator: "In", values: [ctx.topology] }] },
                topologyKey: "kubernetes.io/hostname",
              },
            },
          ],
        },
      },
      ...(ctx.imagePullSecrets.length > 0 ? { imagePullSecrets: ctx.imagePullSecrets.map((name) => ({ name })) } : {}),
      ...(shape.volumes && shape.volumes.length > 0 ? { volumes: shape.volumes } : {}),
    },
  };
}

/** The name of the node's Service (upstream's). */
export function serviceName(ctx: Pick<KubeNodeContext, "node">): string {
  return `service-${ctx.node.name}`;
}

/**
 * Service `service-<node>`, type LoadBalancer, one TCP port per `services` entry (port =
 * map key, targetPort = `inside`); undefined when the node has no services.
 */
export function nodeService(ctx: KubeNodeContext, selector: Record<string, string> = { app: ctx.node.name }): KubeObject | undefined {
  const outsides = Object.keys(ctx.node.services)
    .map(Number)
    .sort((a, b) => a - b);
  if (outsides.length === 0) return undefined;
  const name = serviceName(ctx);
  if (!dns1035Label.test(name) || name.length > 63) {
    kubeProblem(ctx, "name", `service name ${name} is longer than 63 characters: shorten the node name to at most 55`);
  }
  const ports = outsides.map((outside) => {
    const service = ctx.node.services[outside]!;
    const inside = service.inside || outside;
    if (outside < 1 || outside > 65535 || inside < 1 || inside > 65535) {
      kubeProblem(ctx, `services[${outside}]`, `ports must be 1..65535 (outside ${outside}, inside ${inside})`);
    }
    return {
      name: `port-${outside}`,
      protocol: "TCP",
      port: outside,
      targetPort: inside,
      ...(service.nodePort ? { nodePort: service.nodePort } : {}),
    };
  });
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: objectMeta(ctx, name, { pod: ctx.node.name }),
    spec: { type: "LoadBalancer", selector, ports },
  };
}

export interface DefaultPodOptions {
  /** Replaces parts of the main container (env, command...). */
  container?: Partial<ContainerJson>;
  /** More containers beside the main one (they get the config mount too). */
  sidecars?: ContainerJson[];
  /** More ConfigMaps, volumes and mounts (vendor data files). */
  configMaps?: KubeObject[];
  volumes?: VolumeJson[];
  mounts?: ContainerJson["volumeMounts"];
}

/** The default shape: ConfigMap(s), one pod, the Service. */
export function defaultNodeObjects(ctx: KubeNodeContext, options: DefaultPodOptions = {}): NodeObjects {
  const boot = ctx.config ? bootConfigParts(ctx) : undefined;
  const mounts = [...(boot ? [boot.mount] : []), ...(options.mounts ?? [])];
  const withMounts = (c: ContainerJson): ContainerJson =>
    mounts.length > 0 ? { ...c, volumeMounts: [...(c.volumeMounts ?? []), ...mounts] } : c;
  const containers = [mainContainer(ctx, options.container), ...(options.sidecars ?? [])].map(withMounts);
  const initContainers = [...(boot?.joinContainer ? [boot.joinContainer] : []), waitContainer(ctx)];
  const objects: KubeObject[] = [
    ...(boot?.configMaps ?? []),
    ...(options.configMaps ?? []),
    pod(ctx, { initContainers, containers, volumes: [...(boot?.volumes ?? []), ...(options.volumes ?? [])] }),
  ];
  const service = nodeService(ctx);
  if (service) objects.push(service);
  return { objects, podSelector: podModeSelector(ctx), expectedPods: 1 };
}

/** Selects the pods this package makes for a node. */
export function podModeSelector(ctx: KubeNodeContext): Record<string, string> {
  return { [TOPOLOGY_LABEL]: ctx.topology, [NODE_LABEL]: ctx.node.name };
}

/** Selects the pods upstream's operators make: they label them `app=<node>`. */
export function operatorPodSelector(ctx: KubeNodeContext): Record<string, string> {
  return { app: ctx.node.name };
}

/**
 * A node its vendor's operator runs: the boot config's ConfigMaps, the custom resource with
 * `spec`, then `more` objects; the operator's pod is found by the node's name.
 */
export function operatorNodeObjects(ctx: KubeNodeContext, plural: string, spec: Record<string, unknown>, more: readonly KubeObject[] = []): NodeObjects {
  const cr = customResourceOf(ctx);
  return {
    objects: [...operatorConfigMaps(ctx), { ...cr, metadata: objectMeta(ctx, ctx.node.name), spec }, ...more],
    podSelector: operatorPodSelector(ctx),
    expectedPods: 1,
    operatorCrd: crdName(plural, cr.apiVersion),
  };
}

/** `<plural>.<group>` of a custom resource's CRD. */
export function crdName(plural: string, apiVersion: string): string {
  return `${plural}.${apiVersion.split("/")[0]}`;
}

/** Fails when a config is too large for an operator, which reads one ConfigMap. */
export function requireSingleConfigMap(ctx: KubeNodeContext): void {
  const size = ctx.config?.length ?? 0;
  if (size + configKey(ctx).length > CONFIG_MAP_MAX_BYTES) {
    kubeProblem(
      ctx,
      "config.data",
      `boot config of ${size} bytes is over the ${CONFIG_MAP_MAX_BYTES}-byte ConfigMap limit, and the ${ctx.vendor.name} operator reads one ConfigMap: use operator mode "pod" (which joins a split config)`,
    );
  }
}

/** A node's services by name (the first of `names`, else `name`, else `port-<outside>`), ports sorted. */
export function namedServices(ctx: KubeNodeContext): { name: string; inside: number; outside: number }[] {
  return Object.keys(ctx.node.services)
    .map(Number)
    .sort((a, b) => a - b)
    .map((outside) => {
      const s = ctx.node.services[outside]!;
      return { name: s.names[0] || s.name || `port-${outside}`, inside: s.inside || outside, outside };
    });
}

/** The node's self-signed certificate settings, or undefined. */
export function selfSignedCert(ctx: KubeNodeContext): topo.SelfSignedCertCfg | undefined {
  const cert = ctx.node.config?.cert?.config;
  return cert?.case === "selfSigned" ? cert.value : undefined;
}

/** The vendor's custom resource type from the registry row; a vendor without one is a bug here. */
export function customResourceOf(ctx: KubeNodeContext): { apiVersion: string; kind: string } {
  const cr = ctx.vendor.defaults.container?.customResource;
  if (!cr) kubeProblem(ctx, "vendor", `vendor ${ctx.vendor.name} has no operator custom resource`);
  return cr;
}

/** The ConfigMap(s) of the boot config, for operators that read `<node>-config` themselves. */
export function operatorConfigMaps(ctx: KubeNodeContext): KubeObject[] {
  if (!ctx.config) return [];
  requireSingleConfigMap(ctx);
  return bootConfigParts(ctx).configMaps;
}

/**
 * The spec lemming's operator defines and DriveNets' cdnos operator copies: image, one
 * command plus args, env as a list, config path/file, init image and sleep, ports by
 * service name, interface count (eth0 included), resource requests and self-signed TLS.
 */
export function lemmingStyleSpec(ctx: KubeNodeContext): Record<string, unknown> {
  const [command, ...commandArgs] = ctx.command;
  const cert = selfSignedCert(ctx);
  const env = envList(ctx.env);
  return {
    image: ctx.image,
    ...(command ? { command } : {}),
    ...(commandArgs.length + ctx.args.length > 0 ? { args: [...commandArgs, ...ctx.args] } : {}),
    ...(env.length > 0 ? { env } : {}),
    ...(ctx.config ? { configPath: ctx.configPath, configFile: ctx.configFile } : {}),
    initImage: ctx.initImage,
    ports: Object.fromEntries(namedServices(ctx).map((s) => [s.name, { innerPort: s.inside, outerPort: s.outside }])),
    interfaceCount: ctx.interfaces.length + 1,
    initSleep: ctx.sleep,
    resources: resourceRequests(ctx),
    // Upstream gives these devices a self-signed certificate for the node unless told otherwise.
    tls: { selfSigned: { commonName: cert?.commonName || ctx.node.name, keySize: cert?.keySize || 2048 } },
  };
}
