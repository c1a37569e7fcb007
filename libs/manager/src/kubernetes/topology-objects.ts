/**
 * The kne.dev objects of a topology and their translation to and from the API's messages:
 * the `Topology` spec (nodes without their boot configs, links as endpoint pairs), the boot
 * config ConfigMaps (`kne-boot-<node>`, split into parts when large), `Link` and `Device`
 * objects, and the names and labels that tie every object to its topology.
 */
import { createHash } from "node:crypto";
import { clone, fromJson, toJson, type JsonValue } from "@bufbuild/protobuf";
import { KNE_API_VERSION, type KubeObject, type OwnerReference } from "@kne/kube";
import { topo, vendorDataRegistry } from "@kne/proto";
import { NODE_LABEL, TOPOLOGY_LABEL } from "@kne/vendors";
import { linkId } from "../link-ref.ts";

export { NODE_LABEL, TOPOLOGY_LABEL };
/** Upstream KNE labels the namespaces it makes so. */
export const NAMESPACE_LABEL = "kne-topology";
/** On boot-config ConfigMaps: they hold the user's config, the input of the reconciler. */
export const BOOT_CONFIG_LABEL = "kne.dev/boot-config";
/** On every object the reconciler applies: the hash of what it applied, to skip unchanged ones. */
export const APPLIED_HASH_ANNOTATION = "kne.dev/applied-hash";
export const TOPOLOGY_FINALIZER = "kne.dev/topology";

/** A boot config above this goes into several ConfigMaps (1 MiB each at most, base64 inflates by 4/3). */
export const BOOT_PART_BYTES = 700 * 1024;

export interface TopologySpec {
  namespace?: string;
  imagePullSecrets?: string[];
  nodes: Array<Record<string, unknown> & { name: string; bootConfigMaps?: string[] }>;
  links: Array<Record<string, unknown>>;
  segments?: Array<Record<string, unknown>>;
}

export interface ConditionJson {
  type: string;
  status: "True" | "False" | "Unknown";
  reason?: string;
  message?: string;
  observedGeneration?: number;
  lastTransitionTime?: string;
}

export type NodePhaseName = "Pending" | "Starting" | "Ready" | "Failed" | "Stopped";

export interface NodeStatusJson {
  name: string;
  phase: NodePhaseName;
  message?: string;
  podIP?: string;
  host?: string;
  restarts?: number;
}

export interface TopologyStatusJson {
  phase?: "Creating" | "Running" | "Updating" | "Deleting" | "Error";
  observedGeneration?: number;
  nodeCount?: number;
  readyNodes?: number;
  linkCount?: number;
  message?: string;
  conditions?: ConditionJson[];
  nodes?: NodeStatusJson[];
}

export interface TopologyObject extends KubeObject {
  spec: TopologySpec;
  status?: TopologyStatusJson;
}

export interface LinkSpecJson {
  topology: string;
  uid?: number;
  a: string;
  z: string;
  kind?: string;
  adminState?: "Up" | "Down";
  aAdminState?: "Up" | "Down";
  zAdminState?: "Up" | "Down";
  aToZ?: ImpairmentsJson | null;
  zToA?: ImpairmentsJson | null;
}

export interface ImpairmentsJson {
  lossPercent?: number;
  rateKbps?: number;
  delayUs?: number;
  jitterUs?: number;
  corruptionPercent?: number;
  duplicationPercent?: number;
  reorderPercent?: number;
}

export interface LinkObject extends KubeObject {
  spec: LinkSpecJson;
  status?: { operState?: string; aOperState?: string; zOperState?: string };
}

export interface DeviceStatusJson {
  ready: boolean;
  phase: string;
  podIP?: string;
  host?: string;
  pods: string[];
  interfaces: string[];
  restarts: number;
}

export interface DeviceObject extends KubeObject {
  spec: { topology: string; node: string; vendor?: string; model?: string };
  status?: DeviceStatusJson;
}

/** The namespace of a topology: its name, as upstream. */
export function namespaceOf(t: Pick<TopologyObject, "metadata" | "spec">): string {
  return t.spec.namespace || t.metadata.name;
}

export function ownerReference(t: TopologyObject): OwnerReference {
  return { apiVersion: KNE_API_VERSION, kind: "Topology", name: t.metadata.name, uid: t.metadata.uid!, controller: true, blockOwnerDeletion: true };
}

export function shortHash(text: string, length = 10): string {
  return createHash("sha256").update(text).digest("hex").slice(0, length);
}

/** The hash recorded on applied objects: of the object as the reconciler wants it. */
export function objectHash(obj: unknown): string {
  return createHash("sha256").update(JSON.stringify(obj)).digest("base64url").slice(0, 22);
}

/**
 * A DNS-1123 name for a link: the endpoints made safe (`et-0/0/1` → `et-0-0-1`) and a hash
 * of the exact link id, so links whose safe forms collide still get distinct names.
 */
export function linkObjectName(link: Pick<topo.Link, "aNode" | "aInt" | "zNode" | "zInt">): string {
  const safe = `${link.aNode}-${link.aInt}--${link.zNode}-${link.zInt}`.toLowerCase().replace(/[^a-z0-9-]+/g, "-").replace(/^-+|-+$/g, "");
  return `${safe.slice(0, 200)}-${shortHash(linkId(link), 8)}`;
}

export function bootConfigMapName(node: string, part: number, parts: number): string {
  return parts === 1 ? `kne-boot-${node}` : `kne-boot-${node}-${part}`;
}

/** The boot config of a node as ConfigMaps (binaryData, so every byte survives). */
export function bootConfigMaps(topology: string, namespace: string, node: string, data: Uint8Array): KubeObject[] {
  const parts = Math.max(1, Math.ceil(data.length / BOOT_PART_BYTES));
  const out: KubeObject[] = [];
  for (let i = 0; i < parts; i++) {
    out.push({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: bootConfigMapName(node, i, parts), namespace, labels: { [TOPOLOGY_LABEL]: topology, [NODE_LABEL]: node, [BOOT_CONFIG_LABEL]: "true" } },
      binaryData: { config: Buffer.from(data.subarray(i * BOOT_PART_BYTES, (i + 1) * BOOT_PART_BYTES)).toString("base64") },
    });
  }
  return out;
}

/** The Topology object's spec for a validated topology with inline configs. */
export function topologySpecOf(t: topo.Topology, namespace: string, imagePullSecrets: readonly string[] = []): TopologySpec {
  const nodes = t.nodes.map((node) => {
    const copy = clone(topo.NodeSchema, node);
    const data = copy.config?.configData;
    let bootConfigMaps: string[] | undefined;
    if (data?.case === "data" && data.value.length > 0) {
      const parts = Math.max(1, Math.ceil(data.value.length / BOOT_PART_BYTES));
      bootConfigMaps = Array.from({ length: parts }, (_, i) => bootConfigMapName(node.name, i, parts));
    }
    if (copy.config) copy.config.configData = { case: undefined };
    const json = toJson(topo.NodeSchema, copy, { registry: vendorDataRegistry, useProtoFieldName: true }) as Record<string, unknown> & { name: string };
    return bootConfigMaps ? { ...json, bootConfigMaps } : json;
  });
  const links = t.links.map((l) => toJson(topo.LinkSchema, l, { useProtoFieldName: true }) as Record<string, unknown>);
  const segments = t.segments.map((s) => toJson(topo.SegmentSchema, s, { useProtoFieldName: true }) as Record<string, unknown>);
  return {
    ...(namespace !== t.name ? { namespace } : {}),
    ...(imagePullSecrets.length > 0 ? { imagePullSecrets: [...imagePullSecrets] } : {}),
    nodes,
    links,
    ...(segments.length > 0 ? { segments } : {}),
  };
}

/** A node of the spec as a message, with its boot config when given. */
export function nodeFromSpec(json: TopologySpec["nodes"][number], config?: Uint8Array): topo.Node {
  const { bootConfigMaps: _ignored, ...rest } = json;
  const node = fromJson(topo.NodeSchema, rest as JsonValue, { registry: vendorDataRegistry });
  if (config) {
    node.config ??= fromJson(topo.ConfigSchema, {});
    node.config.configData = { case: "data", value: config };
  }
  return node;
}

export function linkFromSpec(json: Record<string, unknown>): topo.Link {
  return fromJson(topo.LinkSchema, json as JsonValue);
}

/** The topology as the API shows it (no boot configs: they stay in their ConfigMaps). */
export function topologyFromObject(t: TopologyObject): topo.Topology {
  return fromJson(
    topo.TopologySchema,
    {
      name: t.metadata.name,
      nodes: t.spec.nodes.map(({ bootConfigMaps: _ignored, ...rest }) => rest),
      links: t.spec.links,
      segments: t.spec.segments ?? [],
    } as JsonValue,
    { registry: vendorDataRegistry },
  );
}

export function impairmentsToJsonObject(i: topo.Impairments | undefined): ImpairmentsJson | null {
  if (!i) return null;
  const out: ImpairmentsJson = {};
  if (i.lossPercent) out.lossPercent = i.lossPercent;
  if (i.rateKbps) out.rateKbps = Number(i.rateKbps);
  if (i.delayUs) out.delayUs = i.delayUs;
  if (i.jitterUs) out.jitterUs = i.jitterUs;
  if (i.corruptionPercent) out.corruptionPercent = i.corruptionPercent;
  if (i.duplicationPercent) out.duplicationPercent = i.duplicationPercent;
  if (i.reorderPercent) out.reorderPercent = i.reorderPercent;
  return Object.keys(out).length > 0 ? out : null;
}

export function impairmentsFromJsonObject(j: ImpairmentsJson | null | undefined): topo.Impairments | undefined {
  if (!j) return undefined;
  return fromJson(topo.ImpairmentsSchema, { ...j, ...(j.rateKbps !== undefined ? { rateKbps: String(j.rateKbps) } : {}) } as JsonValue);
}

/** The Link object of a spec link, as the reconciler first makes it. */
export function linkObjectFor(t: TopologyObject, link: topo.Link, uid: number): LinkObject {
  const ns = namespaceOf(t);
  const spec: LinkSpecJson = { topology: t.metadata.name, uid, a: `${link.aNode}:${link.aInt}`, z: `${link.zNode}:${link.zInt}` };
  if (link.kind) spec.kind = topo.LinkKind[link.kind];
  if (link.adminState === topo.LinkState.DOWN) spec.adminState = "Down";
  const aToZ = impairmentsToJsonObject(link.aToZ ?? link.impairments);
  const zToA = impairmentsToJsonObject(link.zToA ?? link.impairments);
  if (aToZ) spec.aToZ = aToZ;
  if (zToA) spec.zToA = zToA;
  return {
    apiVersion: KNE_API_VERSION,
    kind: "Link",
    metadata: { name: linkObjectName(link), namespace: ns, labels: { [TOPOLOGY_LABEL]: t.metadata.name }, ownerReferences: [ownerReference(t)] },
    spec,
  };
}
