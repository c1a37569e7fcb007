/**
 * The Topology reconciler, level-triggered (controller-runtime style): the input is a
 * topology's name; each pass reads the desired state (the `Topology` object and its boot
 * config ConfigMaps) and the observed state (watch caches of namespaces, pods, services,
 * ConfigMaps, Links, Devices), applies what is missing, deletes what is no longer wanted,
 * publishes a `Device` per node whose pod is up, and recomputes the status (conditions with
 * observedGeneration, per-node phases). Deletion goes through the finalizer: the namespace
 * goes first, and the Topology only once it is gone.
 *
 * Applied objects carry the hash of what was applied, so a pass over an unchanged topology
 * makes no API request at all.
 */
import type { Informer, KubeClient, KubeObject, ReconcileResult, ResourceType } from "@kne/kube";
import { KNE_API_VERSION, KubeApiError, crdInstalled, forEachConcurrently, isConflict, isNotFound, resourceTypes } from "@kne/kube";
import type { Logger } from "@kne/telemetry";
import { type NodeObjects, type OperatorMode, VendorError, kubeObjectsForNode } from "@kne/vendors";
import type { topo } from "@kne/proto";
import { applyImageOverrides, type ImageOverrides } from "./image-overrides.ts";
import { matchesSelector, nodeStatusFromPods, type PodJson } from "./pod-status.ts";
import {
  APPLIED_HASH_ANNOTATION,
  BOOT_CONFIG_LABEL,
  type ConditionJson,
  type DeviceObject,
  type DeviceStatusJson,
  type LinkObject,
  NAMESPACE_LABEL,
  NODE_LABEL,
  type NodeStatusJson,
  TOPOLOGY_FINALIZER,
  TOPOLOGY_LABEL,
  type TopologyObject,
  type TopologyStatusJson,
  linkFromSpec,
  linkObjectFor,
  linkObjectName,
  namespaceOf,
  nodeFromSpec,
  objectHash,
  ownerReference,
} from "./topology-objects.ts";

/** "auto": the operator's CR when its CRD is installed, else the pod it would make. */
export type OperatorModeOption = "auto" | OperatorMode;

export interface ClusterCaches {
  topologies: Informer<TopologyObject>;
  namespaces: Informer;
  pods: Informer<PodJson>;
  services: Informer;
  configMaps: Informer;
  links: Informer<LinkObject>;
  devices: Informer<DeviceObject>;
}

export interface TopologyReconcilerOptions {
  operatorMode: OperatorModeOption;
  logger: Logger;
  /** Objects applied at once within one pass. */
  applyConcurrency?: number;
  /** Image references replaced in the pods made here (see image-overrides.ts). */
  imageOverrides?: ImageOverrides;
}

/** What a pass learned about a node, kept for the backend (services, pod selection). */
export interface NodeRuntime {
  selector: Record<string, string>;
  expectedPods: number;
}


export class TopologyReconciler {
  /** Per topology and node: how its pods are found (from the last pass). */
  readonly runtime = new Map<string, Map<string, NodeRuntime>>();
  /** Operator CRs applied by this process (not cached by a watch): their hash, and the node removeUnwanted deletes them with. */
  private readonly appliedCrs = new Map<string, { hash: string; object: Pick<KubeObject, "apiVersion" | "kind">; namespace: string; name: string; node: string }>();
  private readonly crdPresence = new Map<string, { installed: boolean; at: number }>();
  /** The phase last logged per topology (the cache may lag behind what this process wrote). */
  private readonly loggedPhase = new Map<string, string>();

  constructor(
    private readonly client: KubeClient,
    private readonly caches: ClusterCaches,
    private readonly options: TopologyReconcilerOptions,
  ) {}

  async reconcile(name: string): Promise<ReconcileResult | void> {
    const t = this.caches.topologies.get(undefined, name);
    if (!t) {
      this.runtime.delete(name);
      return;
    }
    if (t.metadata.deletionTimestamp) return this.finalize(t);
    try {
      return await this.pass(t);
    } catch (err) {
      await this.reportFailure(t, err).catch((again: unknown) => this.options.logger.warn({ topology: name, err: again }, "reconcile failure not recorded in status"));
      throw err;
    }
  }

  /**
   * A failed pass shows in the status as condition Reconciled=False with the API's reason
   * (Invalid, Forbidden, ...), so that callers waiting for Ready learn why nothing happens.
   */
  private async reportFailure(t: TopologyObject, err: unknown): Promise<void> {
    const reason = failureReason(err);
    const message = err instanceof Error ? err.message : String(err);
    const previous = t.status?.conditions ?? [];
    const before = previous.find((c) => c.type === "Reconciled");
    if (before?.status === "False" && before.message === message) return;
    const condition: ConditionJson = { type: "Reconciled", status: "False", reason, message, observedGeneration: t.metadata.generation ?? 1, lastTransitionTime: nowRfc3339() };
    // A merge patch: an apply naming only the conditions would drop the rest of the status.
    await this.client.mergePatch(resourceTypes.topology, undefined, t.metadata.name, { status: { conditions: [...previous.filter((c) => c.type !== "Reconciled"), condition] } }, "status");
    this.options.logger.warn({ topology: t.metadata.name, reason, err }, "reconcile failed");
  }

  private async pass(t: TopologyObject): Promise<ReconcileResult | void> {
    const name = t.metadata.name;
    const started = performance.now();
    if (!(t.metadata.finalizers ?? []).includes(TOPOLOGY_FINALIZER)) {
      // A merge patch with the resourceVersion: a concurrent writer makes this fail (409) and retry.
      await this.client.mergePatch(resourceTypes.topology, undefined, name, { metadata: { finalizers: [...(t.metadata.finalizers ?? []), TOPOLOGY_FINALIZER], resourceVersion: t.metadata.resourceVersion } });
      return; // the update event brings the next pass
    }
    const ns = namespaceOf(t);
    const owner = ownerReference(t);
    const nsObj = this.caches.namespaces.get(undefined, ns);
    if (nsObj?.metadata.deletionTimestamp) return { requeueAfterMs: 1000 };
    if (!nsObj || !(nsObj.metadata.ownerReferences ?? []).some((o) => o.uid === owner.uid)) {
      await this.client.apply({ apiVersion: "v1", kind: "Namespace", metadata: { name: ns, labels: { [NAMESPACE_LABEL]: "true", [TOPOLOGY_LABEL]: name }, ownerReferences: [owner] } });
    }

    const spec = t.spec;
    const links = spec.links.map(linkFromSpec);
    const desiredNodes = new Set(spec.nodes.map((n) => n.name));
    const nodeStatuses = new Map<string, NodeStatusJson>();
    const runtime = new Map<string, NodeRuntime>();
    const toApply: KubeObject[] = [];
    const waitingForConfig: string[] = [];

    for (const nodeJson of spec.nodes) {
      const config = this.bootConfig(ns, nodeJson.bootConfigMaps ?? []);
      if (config === "missing") {
        waitingForConfig.push(nodeJson.name);
        nodeStatuses.set(nodeJson.name, { name: nodeJson.name, phase: "Pending", message: `waiting for its boot config ConfigMaps ${(nodeJson.bootConfigMaps ?? []).join(", ")}` });
        continue;
      }
      const node = nodeFromSpec(nodeJson, config);
      const nodeLinks = links.filter((l) => l.aNode === node.name || l.zNode === node.name);
      const objects = await this.nodeObjects(t, ns, node, nodeLinks);
      runtime.set(node.name, { selector: objects.podSelector, expectedPods: objects.expectedPods });
      for (const obj of objects.objects) {
        const labels = { ...obj.metadata.labels, [TOPOLOGY_LABEL]: name, [NODE_LABEL]: node.name };
        const desired: KubeObject = { ...obj, metadata: { ...obj.metadata, namespace: ns, labels, ownerReferences: [owner] } };
        withoutNodePorts(desired);
        const hash = objectHash(desired);
        desired.metadata.annotations = { ...desired.metadata.annotations, [APPLIED_HASH_ANNOTATION]: hash };
        if (this.upToDate(desired, hash)) continue;
        toApply.push(desired);
      }
    }
    this.runtime.set(name, runtime);

    // Apply in each node's order (ConfigMaps before the pods that mount them): by kind rank.
    const rank = (o: KubeObject) => (o.kind === "ConfigMap" ? 0 : o.kind === "Service" ? 2 : 1);
    for (const r of [0, 1, 2]) {
      await forEachConcurrently(toApply.filter((o) => rank(o) === r), this.options.applyConcurrency ?? 32, async (o) => {
        await this.client.apply(o);
        if (!this.isCached(o)) {
          const key = `${o.kind}/${o.metadata.namespace}/${o.metadata.name}`;
          this.appliedCrs.set(key, {
            hash: o.metadata.annotations![APPLIED_HASH_ANNOTATION]!,
            object: { apiVersion: o.apiVersion, kind: o.kind },
            namespace: o.metadata.namespace!,
            name: o.metadata.name,
            node: o.metadata.labels![NODE_LABEL]!,
          });
        }
      });
    }

    await this.ensureLinks(t, links);
    await this.removeUnwanted(name, ns, desiredNodes, new Set(links.map(linkObjectName)));

    for (const [node, rt] of runtime) {
      const pods = this.caches.pods.list((p) => p.metadata.namespace === ns && matchesSelector(p, rt.selector));
      nodeStatuses.set(node, nodeStatusFromPods(node, pods, rt.expectedPods));
    }
    await this.publishDevices(t, ns, nodeStatuses, runtime);
    await this.writeStatus(t, spec.nodes.map((n) => nodeStatuses.get(n.name)!), links.length);
    this.options.logger.debug({ topology: name, ms: Math.round(performance.now() - started), applied: toApply.length, ready: [...nodeStatuses.values()].filter((n) => n.phase === "Ready").length }, "reconciled");
    if (waitingForConfig.length > 0) {
      this.options.logger.info({ topology: name, nodes: waitingForConfig }, "waited for boot configs");
    }
  }

  /** The node's boot config from its ConfigMaps (parts joined), undefined without one, "missing" while any is absent. */
  private bootConfig(ns: string, names: readonly string[]): Uint8Array | undefined | "missing" {
    if (names.length === 0) return undefined;
    const parts: Buffer[] = [];
    for (const n of names) {
      const cm = this.caches.configMaps.get(ns, n) as (KubeObject & { binaryData?: Record<string, string> }) | undefined;
      const b64 = cm?.binaryData?.["config"];
      if (b64 === undefined) return "missing";
      parts.push(Buffer.from(b64, "base64"));
    }
    return new Uint8Array(Buffer.concat(parts));
  }

  private async nodeObjects(t: TopologyObject, ns: string, node: topo.Node, links: topo.Link[]): Promise<NodeObjects> {
    const objects = await this.vendorObjects(t, ns, node, links);
    const overrides = this.options.imageOverrides;
    return overrides && overrides.size > 0 ? { ...objects, objects: applyImageOverrides(objects.objects, overrides) } : objects;
  }

  private async vendorObjects(t: TopologyObject, ns: string, node: topo.Node, links: topo.Link[]): Promise<NodeObjects> {
    const input = { topology: t.metadata.name, namespace: ns, node, links, imagePullSecrets: t.spec.imagePullSecrets ?? [] };
    const mode = this.options.operatorMode;
    if (mode !== "auto") return this.registerCr(kubeObjectsForNode({ ...input, operatorMode: mode }));
    const asCr = kubeObjectsForNode({ ...input, operatorMode: "cr" });
    if (!asCr.operatorCrd) return asCr;
    return (await this.crdIsInstalled(asCr.operatorCrd)) ? this.registerCr(asCr) : kubeObjectsForNode({ ...input, operatorMode: "pod" });
  }

  private registerCr(objects: NodeObjects): NodeObjects {
    if (!objects.operatorCrd) return objects;
    const [plural, ...group] = objects.operatorCrd.split(".");
    for (const o of objects.objects) {
      const [g, version] = o.apiVersion.includes("/") ? (o.apiVersion.split("/") as [string, string]) : ["", o.apiVersion];
      if (g === group.join(".")) this.client.registerType({ group: g, version, kind: o.kind, plural: plural!, namespaced: true } satisfies ResourceType);
    }
    return objects;
  }

  private async crdIsInstalled(name: string): Promise<boolean> {
    const known = this.crdPresence.get(name);
    if (known && Date.now() - known.at < 60_000) return known.installed;
    const installed = await crdInstalled(this.client, name);
    this.crdPresence.set(name, { installed, at: Date.now() });
    return installed;
  }

  private cacheFor(kind: string): Informer | undefined {
    if (kind === "Pod") return this.caches.pods;
    if (kind === "Service") return this.caches.services;
    if (kind === "ConfigMap") return this.caches.configMaps;
    return undefined;
  }

  private isCached(o: KubeObject): boolean {
    return this.cacheFor(o.kind) !== undefined;
  }

  /** Whether the object exists as last applied; an existing pod is never re-applied (its spec is immutable). */
  private upToDate(o: KubeObject, hash: string): boolean {
    const cache = this.cacheFor(o.kind);
    if (!cache) return this.appliedCrs.get(`${o.kind}/${o.metadata.namespace}/${o.metadata.name}`)?.hash === hash;
    const current = cache.get(o.metadata.namespace, o.metadata.name);
    if (!current || current.metadata.deletionTimestamp) return current !== undefined;
    if (o.kind === "Pod") return true;
    return current.metadata.annotations?.[APPLIED_HASH_ANNOTATION] === hash;
  }

  /** Creates missing Link objects; their spec is the links' own from then on (SetLinkState writes it). */
  private async ensureLinks(t: TopologyObject, links: readonly topo.Link[]): Promise<void> {
    const ns = namespaceOf(t);
    const existing = this.caches.links.list((l) => l.metadata.namespace === ns);
    let nextUid = existing.reduce((m, l) => Math.max(m, l.spec.uid ?? 0), 0) + 1;
    const missing = links.filter((l) => !this.caches.links.get(ns, linkObjectName(l)));
    const objects = missing.map((l) => linkObjectFor(t, l, nextUid++));
    await forEachConcurrently(objects, this.options.applyConcurrency ?? 32, async (o) => {
      await this.client.create(o).catch((err: unknown) => {
        // Made by an earlier pass whose event has not reached the cache yet.
        if (!isConflict(err)) throw err;
      });
    });
  }

  /** Deletes objects of nodes and links no longer in the spec (what an update removed). */
  private async removeUnwanted(topology: string, ns: string, nodes: ReadonlySet<string>, links: ReadonlySet<string>): Promise<void> {
    const doomed: Array<{ rt: ResourceType; obj: KubeObject }> = [];
    const ours = (o: KubeObject) => o.metadata.namespace === ns && o.metadata.labels?.[TOPOLOGY_LABEL] === topology && !o.metadata.deletionTimestamp;
    const nodeGone = (o: KubeObject) => {
      // Boot configs are the input: the backend writes them before the spec names their node,
      // and removes them after the spec dropped it.
      if (o.metadata.labels?.[BOOT_CONFIG_LABEL] !== undefined) return false;
      const node = o.metadata.labels?.[NODE_LABEL];
      return node !== undefined && !nodes.has(node);
    };
    for (const [rt, cache] of [
      [resourceTypes.pod, this.caches.pods],
      [resourceTypes.service, this.caches.services],
      [resourceTypes.configMap, this.caches.configMaps],
      [resourceTypes.device, this.caches.devices],
    ] as Array<[ResourceType, Informer]>) {
      for (const obj of cache.list((o) => ours(o) && nodeGone(o))) doomed.push({ rt, obj });
    }
    for (const obj of this.caches.links.list((l) => ours(l) && !links.has(l.metadata.name))) doomed.push({ rt: resourceTypes.link, obj });
    // Operator CRs are not cached: those this process made for a node the spec no longer has.
    for (const [key, cr] of this.appliedCrs) {
      if (cr.namespace !== ns || nodes.has(cr.node)) continue;
      doomed.push({ rt: this.client.typeOf(cr.object), obj: { ...cr.object, metadata: { name: cr.name, namespace: cr.namespace } } });
      this.appliedCrs.delete(key);
    }
    await forEachConcurrently(doomed, this.options.applyConcurrency ?? 32, async ({ rt, obj }) => {
      await this.client.delete(rt, obj.metadata.namespace, obj.metadata.name).catch((err: unknown) => {
        if (!isNotFound(err)) throw err;
      });
    });
  }

  /** A Device per node whose pod has come up: the record other parts read to find the node. */
  private async publishDevices(t: TopologyObject, ns: string, statuses: ReadonlyMap<string, NodeStatusJson>, runtime: ReadonlyMap<string, NodeRuntime>): Promise<void> {
    const work: Array<() => Promise<void>> = [];
    for (const nodeJson of t.spec.nodes) {
      const s = statuses.get(nodeJson.name);
      const rt = runtime.get(nodeJson.name);
      if (!s?.podIP || !rt) continue;
      const pods = this.caches.pods.list((p) => p.metadata.namespace === ns && matchesSelector(p, rt.selector));
      const status: DeviceStatusJson = {
        ready: s.phase === "Ready",
        phase: s.phase,
        podIP: s.podIP,
        ...(s.host ? { host: s.host } : {}),
        pods: pods.map((p) => p.metadata.name).sort(),
        interfaces: Object.keys((nodeJson["interfaces"] as Record<string, unknown> | undefined) ?? {}).sort(),
        restarts: s.restarts ?? 0,
      };
      const current = this.caches.devices.get(ns, nodeJson.name);
      if (current && JSON.stringify(current.status) === JSON.stringify(status)) continue;
      work.push(async () => {
        const meta = { name: nodeJson.name, namespace: ns, labels: { [TOPOLOGY_LABEL]: t.metadata.name, [NODE_LABEL]: nodeJson.name }, ownerReferences: [ownerReference(t)] };
        if (!current) {
          const spec = { topology: t.metadata.name, node: nodeJson.name, ...(typeof nodeJson["vendor"] === "string" ? { vendor: nodeJson["vendor"] } : {}), ...(typeof nodeJson["model"] === "string" ? { model: nodeJson["model"] } : {}) };
          await this.client.apply({ apiVersion: KNE_API_VERSION, kind: "Device", metadata: meta, spec });
        }
        await this.client.apply({ apiVersion: KNE_API_VERSION, kind: "Device", metadata: { name: meta.name, namespace: ns }, status }, { subresource: "status" });
      });
    }
    await forEachConcurrently(work, this.options.applyConcurrency ?? 32, (w) => w());
  }

  private async writeStatus(t: TopologyObject, nodes: NodeStatusJson[], linkCount: number): Promise<void> {
    const generation = t.metadata.generation ?? 1;
    const previous = t.status ?? {};
    const ready = nodes.filter((n) => n.phase === "Ready").length;
    const failed = nodes.filter((n) => n.phase === "Failed");
    const notReady = nodes.filter((n) => n.phase !== "Ready");
    const allReady = notReady.length === 0;
    // Updating: a new generation (nodes added or removed) not ready yet; a running topology
    // that loses a pod stays Running, with Ready False and the node's reason.
    const wasRunning = previous.phase === "Running" || previous.phase === "Updating";
    const newGeneration = generation > (previous.observedGeneration ?? 0);
    const phase: TopologyStatusJson["phase"] = failed.length > 0 ? "Error" : allReady ? "Running" : !wasRunning ? "Creating" : newGeneration || previous.phase === "Updating" ? "Updating" : "Running";
    const detail = notReady.slice(0, 10).map((n) => `${n.name}: ${n.message ?? n.phase}`).join("; ") + (notReady.length > 10 ? `; and ${notReady.length - 10} more` : "");
    const readyCondition: ConditionJson = {
      type: "Ready",
      status: allReady ? "True" : "False",
      reason: allReady ? "AllNodesReady" : failed.length > 0 ? "NodesFailed" : "NodesNotReady",
      message: allReady ? `${nodes.length} nodes ready` : `${ready} of ${nodes.length} nodes ready; ${detail}`,
      observedGeneration: generation,
    };
    const before = previous.conditions?.find((c) => c.type === "Ready");
    readyCondition.lastTransitionTime = before && before.status === readyCondition.status ? before.lastTransitionTime : nowRfc3339();
    const reconciledBefore = previous.conditions?.find((c) => c.type === "Reconciled");
    const reconciledSince = reconciledBefore?.status === "True" && reconciledBefore.lastTransitionTime ? reconciledBefore.lastTransitionTime : nowRfc3339();
    const status: TopologyStatusJson = {
      phase,
      observedGeneration: generation,
      nodeCount: nodes.length,
      readyNodes: ready,
      linkCount,
      message: readyCondition.message!,
      conditions: [readyCondition, { type: "Reconciled", status: "True", reason: "Applied", message: "every object of the topology is applied", observedGeneration: generation, lastTransitionTime: reconciledSince }],
      nodes,
    };
    if (stableJson(status) === stableJson(previous)) return;
    await this.client.apply({ apiVersion: KNE_API_VERSION, kind: "Topology", metadata: { name: t.metadata.name }, status }, { subresource: "status" });
    if (phase !== this.loggedPhase.get(t.metadata.name)) {
      this.loggedPhase.set(t.metadata.name, phase!);
      this.options.logger.info({ topology: t.metadata.name, phase, ready, nodes: nodes.length }, "topology phase changed");
    }
  }

  private async finalize(t: TopologyObject): Promise<ReconcileResult | void> {
    const name = t.metadata.name;
    if (!(t.metadata.finalizers ?? []).includes(TOPOLOGY_FINALIZER)) return;
    const ns = namespaceOf(t);
    const nsObj = this.caches.namespaces.get(undefined, ns);
    if (nsObj) {
      if (!nsObj.metadata.deletionTimestamp) {
        await this.client.delete(resourceTypes.namespace, undefined, ns).catch((err: unknown) => {
          if (!isNotFound(err)) throw err;
        });
        this.options.logger.info({ topology: name, namespace: ns }, "namespace deletion requested");
      }
      // The namespace's deletion event brings the next pass; the requeue is a safety net.
      return { requeueAfterMs: 30_000 };
    }
    const finalizers = t.metadata.finalizers ?? [];
    await this.client.jsonPatch(resourceTypes.topology, undefined, name, [
      { op: "test", path: "/metadata/finalizers", value: finalizers },
      { op: "replace", path: "/metadata/finalizers", value: finalizers.filter((f) => f !== TOPOLOGY_FINALIZER) },
    ]);
    this.runtime.delete(name);
    for (const key of [...this.appliedCrs.keys()]) if (key.split("/")[1] === ns) this.appliedCrs.delete(key);
    this.options.logger.info({ topology: name }, "topology finalized");
  }
}

function nowRfc3339(): string {
  return new Date().toISOString().replace(/\.\d+Z$/, "Z");
}

/** Reasons that another pass will not fix: create stops waiting on them. */
export const PERMANENT_FAILURE_REASONS: ReadonlySet<string> = new Set(["Invalid", "BadRequest", "Forbidden", "Unauthorized", "InvalidNode", "RequestEntityTooLarge"]);

function failureReason(err: unknown): string {
  if (err instanceof KubeApiError) return err.body.reason ?? `HTTP${err.status}`;
  if (err instanceof VendorError) return err.code === "INVALID_ARGUMENT" ? "InvalidNode" : "VendorError";
  return "Error";
}

/**
 * LoadBalancer Services get a NodePort per port by default: with five ports per node the
 * cluster's NodePort range (2,768 ports) is full after about 550 nodes. Nodes are reached
 * through the load balancer's address, so no NodePorts are allocated.
 */
function withoutNodePorts(obj: KubeObject): void {
  if (obj.kind !== "Service") return;
  const spec = obj["spec"] as { type?: string; allocateLoadBalancerNodePorts?: boolean } | undefined;
  if (spec?.type === "LoadBalancer" && spec.allocateLoadBalancerNodePorts === undefined) spec.allocateLoadBalancerNodePorts = false;
}

/** JSON with object keys sorted, to compare statuses whatever order the API server returns. */
function stableJson(v: unknown): string {
  return JSON.stringify(v, (_k, value: unknown) =>
    value && typeof value === "object" && !Array.isArray(value) ? Object.fromEntries(Object.entries(value as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b))) : value,
  );
}
