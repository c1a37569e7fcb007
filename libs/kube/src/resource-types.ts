/**
 * The API resources the manager uses, and the paths to them. Kinds made by vendor
 * operators (CEosLabDevice, Srlinux, …) are added at run time from their CRD name.
 */

/** A Kubernetes object as JSON; only metadata is typed. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: KubeMetadata;
  [field: string]: unknown;
}

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface KubeMetadata {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  finalizers?: string[];
  ownerReferences?: OwnerReference[];
}

export interface ResourceType {
  group: string;
  version: string;
  kind: string;
  plural: string;
  namespaced: boolean;
}

export const KNE_GROUP = "kne.dev";
export const KNE_VERSION = "v1alpha1";
export const KNE_API_VERSION = `${KNE_GROUP}/${KNE_VERSION}`;

export const resourceTypes = {
  namespace: { group: "", version: "v1", kind: "Namespace", plural: "namespaces", namespaced: false },
  pod: { group: "", version: "v1", kind: "Pod", plural: "pods", namespaced: true },
  service: { group: "", version: "v1", kind: "Service", plural: "services", namespaced: true },
  configMap: { group: "", version: "v1", kind: "ConfigMap", plural: "configmaps", namespaced: true },
  secret: { group: "", version: "v1", kind: "Secret", plural: "secrets", namespaced: true },
  node: { group: "", version: "v1", kind: "Node", plural: "nodes", namespaced: false },
  event: { group: "", version: "v1", kind: "Event", plural: "events", namespaced: true },
  crd: { group: "apiextensions.k8s.io", version: "v1", kind: "CustomResourceDefinition", plural: "customresourcedefinitions", namespaced: false },
  topology: { group: KNE_GROUP, version: KNE_VERSION, kind: "Topology", plural: "topologies", namespaced: false },
  link: { group: KNE_GROUP, version: KNE_VERSION, kind: "Link", plural: "links", namespaced: true },
  device: { group: KNE_GROUP, version: KNE_VERSION, kind: "Device", plural: "devices", namespaced: true },
} as const satisfies Record<string, ResourceType>;

export function apiVersionOf(rt: ResourceType): string {
  return rt.group === "" ? rt.version : `${rt.group}/${rt.version}`;
}

/** `/api/v1/namespaces/ns/pods/name/status` and friends; no namespace on a namespaced type lists across namespaces. */
export function resourcePath(rt: ResourceType, namespace?: string, name?: string, subresource?: string): string {
  let path = rt.group === "" ? `/api/${rt.version}` : `/apis/${rt.group}/${rt.version}`;
  if (rt.namespaced && namespace !== undefined) path += `/namespaces/${encodeURIComponent(namespace)}`;
  path += `/${rt.plural}`;
  if (name !== undefined) path += `/${encodeURIComponent(name)}`;
  if (subresource !== undefined) path += `/${subresource}`;
  return path;
}

/** `namespace/name`, or `name` for cluster-scoped objects: the key of caches and work queues. */
export function objectKey(obj: { metadata: { name: string; namespace?: string } }): string {
  return obj.metadata.namespace ? `${obj.metadata.namespace}/${obj.metadata.name}` : obj.metadata.name;
}
