/**
 * The kubernetes backend: topologies as `kne.dev` objects in a cluster. CreateTopology
 * writes the boot configs and the `Topology` object (the source of truth) and waits for
 * the reconciler, which runs in this process over watch caches, to report it Ready;
 * everything else reads those caches or writes `Topology`/`Link` specs. A restarted
 * manager picks up where it stopped: the reconciler only ever compares the cluster with
 * the `Topology` objects in it.
 */
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  DEFAULT_RATE_LIMIT,
  Informer,
  KNE_API_VERSION,
  KNE_GROUP,
  KubeClient,
  type KubeObject,
  type RateLimit,
  WorkQueue,
  ensureCrds,
  requireCrds,
  forEachConcurrently,
  isConflict,
  isNotFound,
  kneCrdsDir,
  readManifests,
  resourceTypes,
} from "@kne/kube";
import { managerv1, topo } from "@kne/proto";
import { createLogger, type Logger } from "@kne/telemetry";
import { linuxInterfaceOf, planTopology, resolveTopology } from "@kne/topology";
import { applyConfigDefaults, kubeObjectsForNode, mapInterfaceNames, resolveVendor, withVendorDefaults } from "@kne/vendors";
import type { CreateOptions, ExecOutcome, ExecRequest, LinkImpairments, LogsRequest, ProgressEvent, RuntimeBackend, TopologyView, UpdateResult } from "../backend.ts";
import { ManagerError, notFound } from "../errors.ts";
import { endpointSide, findLink, linkId } from "../link-ref.ts";
import { EventStream } from "./event-stream.ts";
import { matchesSelector, type PodJson } from "./pod-status.ts";
import {
  BOOT_CONFIG_LABEL,
  type DeviceObject,
  type LinkObject,
  NAMESPACE_LABEL,
  NODE_LABEL,
  type NodeStatusJson,
  TOPOLOGY_LABEL,
  type TopologyObject,
  bootConfigMaps,
  impairmentsFromJsonObject,
  impairmentsToJsonObject,
  linkObjectName,
  namespaceOf,
  topologyFromObject,
  topologySpecOf,
} from "./topology-objects.ts";
import type { ImageOverrides } from "./image-overrides.ts";
import { type ClusterCaches, type OperatorModeOption, PERMANENT_FAILURE_REASONS, TopologyReconciler } from "./topology-reconciler.ts";

export interface KubernetesBackendOptions {
  /** The cluster's kubeconfig (default $KUBECONFIG, then ~/.kube/config). */
  kubeconfigPath?: string;
  /** A client made elsewhere (tests, benchmarks that count its requests). */
  client?: KubeClient;
  /** "auto" (default): an operator's CR when its CRD is installed, else the pod it would make. */
  operatorMode?: OperatorModeOption;
  logger?: Logger;
  rateLimit?: RateLimit;
  /** Topologies reconciled at once. */
  reconcileConcurrency?: number;
  /**
   * Install (apply) the kne.dev CRDs at start (default true). When false they are only
   * checked: a manager deployed by the Helm chart, whose CRDs the chart installs, needs no
   * right to write CustomResourceDefinitions.
   */
  installCrds?: boolean;
  /** Image pull secrets (in each topology's namespace) for the pods of every topology made here. */
  imagePullSecrets?: string[];
  /** Image references replaced in the pods made here: a vendor's default image → one the cluster has (image-overrides.ts). */
  imageOverrides?: ImageOverrides;
}

/** The kne.dev CRDs by name: what is checked when the manager does not install them (no manifest files needed). */
const kneCrdRefs: KubeObject[] = ["topologies", "links", "devices"].map((plural) => ({
  apiVersion: "apiextensions.k8s.io/v1",
  kind: "CustomResourceDefinition",
  metadata: { name: `${plural}.${KNE_GROUP}` },
}));

const DEFAULT_TIMEOUT_MS = 5 * 60_000;
const DELETE_TIMEOUT_MS = 5 * 60_000;

const nodePhases: Record<NodeStatusJson["phase"], managerv1.NodePhase> = {
  Pending: managerv1.NodePhase.PENDING,
  Starting: managerv1.NodePhase.STARTING,
  Ready: managerv1.NodePhase.READY,
  Failed: managerv1.NodePhase.FAILED,
  Stopped: managerv1.NodePhase.STOPPED,
};

const topologyPhases: Record<string, managerv1.TopologyPhase> = {
  Creating: managerv1.TopologyPhase.CREATING,
  Running: managerv1.TopologyPhase.RUNNING,
  Updating: managerv1.TopologyPhase.UPDATING,
  Deleting: managerv1.TopologyPhase.DELETING,
  Error: managerv1.TopologyPhase.ERROR,
};


function vendorName(node: topo.Node): string {
  try {
    return resolveVendor(node).name;
  } catch {
    return topo.Vendor[node.vendor] ?? String(node.vendor);
  }
}

function change(action: managerv1.Change_Action, kind: string, name: string, detail: string): managerv1.Change {
  return create(managerv1.ChangeSchema, { action, kind, name, detail });
}

export class KubernetesBackend implements RuntimeBackend {
  readonly name = "kubernetes";
  readonly client: KubeClient;
  private readonly logger: Logger;
  private readonly options: KubernetesBackendOptions;
  private caches: ClusterCaches | undefined;
  private reconciler: TopologyReconciler | undefined;
  private queue: WorkQueue | undefined;
  private starting: Promise<void> | undefined;
  private closed = false;
  /** Called on every Topology add, change and delete (waiters and API watches). */
  private readonly topologyListeners = new Set<(type: "added" | "updated" | "deleted", t: TopologyObject) => void>();
  private readonly linkListeners = new Set<(type: "added" | "updated" | "deleted", l: LinkObject) => void>();

  constructor(options: KubernetesBackendOptions = {}) {
    this.options = options;
    this.logger = options.logger ?? createLogger({ name: "kubernetes-backend", level: "silent" });
    this.client = options.client ?? new KubeClient({ kubeconfigPath: options.kubeconfigPath, rateLimit: options.rateLimit ?? DEFAULT_RATE_LIMIT });
  }

  /** Installs the CRDs, fills the watch caches and starts reconciling; every call waits for it. */
  start(): Promise<void> {
    this.starting ??= this.startOnce();
    return this.starting;
  }

  private async startOnce(): Promise<void> {
    const started = Date.now();
    if (this.options.installCrds !== false) await ensureCrds(this.client, await readManifests(kneCrdsDir));
    else await requireCrds(this.client, kneCrdRefs);
    const labelled = { labelSelector: TOPOLOGY_LABEL, onError: (err: unknown) => this.logger.warn({ err }, "watch failed; listing again") };
    const caches: ClusterCaches = {
      topologies: new Informer<TopologyObject>(this.client, resourceTypes.topology, { onError: labelled.onError }),
      namespaces: new Informer(this.client, resourceTypes.namespace, { labelSelector: NAMESPACE_LABEL, onError: labelled.onError }),
      pods: new Informer<PodJson>(this.client, resourceTypes.pod, labelled),
      services: new Informer(this.client, resourceTypes.service, labelled),
      configMaps: new Informer(this.client, resourceTypes.configMap, labelled),
      links: new Informer<LinkObject>(this.client, resourceTypes.link, labelled),
      devices: new Informer<DeviceObject>(this.client, resourceTypes.device, labelled),
    };
    this.caches = caches;
    this.reconciler = new TopologyReconciler(this.client, caches, {
      operatorMode: this.options.operatorMode ?? "auto",
      logger: this.logger,
      ...(this.options.imageOverrides ? { imageOverrides: this.options.imageOverrides } : {}),
    });
    const reconciler = this.reconciler;
    const queue = new WorkQueue((key) => reconciler.reconcile(key), {
      concurrency: this.options.reconcileConcurrency ?? 4,
      onError: (key, err, attempt) => this.logger.warn({ topology: key, err, attempt }, "reconcile failed; retrying"),
    });
    this.queue = queue;
    caches.topologies.onEvent((type, t) => {
      queue.add(t.metadata.name);
      for (const l of this.topologyListeners) l(type, t);
    });
    caches.links.onEvent((type, l) => {
      const owner = l.metadata.labels?.[TOPOLOGY_LABEL];
      if (owner) queue.add(owner);
      for (const f of this.linkListeners) f(type, l);
    });
    for (const informer of [caches.namespaces, caches.pods, caches.services, caches.configMaps, caches.devices] as Informer[]) {
      informer.onEvent((_type, obj) => {
        const owner = obj.metadata.labels?.[TOPOLOGY_LABEL];
        if (owner) queue.add(owner);
      });
    }
    await Promise.all(Object.values(caches).map((c: Informer) => c.start()));
    for (const t of caches.topologies.list()) queue.add(t.metadata.name);
    this.logger.info({ ms: Date.now() - started, topologies: caches.topologies.size }, "kubernetes backend started");
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.queue?.stop();
    if (this.caches) await Promise.all(Object.values(this.caches).map((c: Informer) => c.stop()));
    if (!this.options.client) this.client.close();
  }

  private async ready(): Promise<ClusterCaches> {
    await this.start();
    return this.caches!;
  }

  private async requireTopology(name: string): Promise<TopologyObject> {
    const caches = await this.ready();
    const t = caches.topologies.get(undefined, name);
    if (!t) throw notFound(`topology ${name} not found`);
    return t;
  }

  // ---- create / delete / update -----------------------------------------------------------

  /** Every node's objects, made once before anything is written: bad input fails early, naming the node and field. */
  private preflight(topology: topo.Topology, namespace: string, imagePullSecrets: string[]): void {
    for (const node of topology.nodes) {
      const links = topology.links.filter((l) => l.aNode === node.name || l.zNode === node.name);
      kubeObjectsForNode({ topology: topology.name, namespace, node, links, imagePullSecrets, operatorMode: "pod" });
    }
  }

  /** The manager's pull secrets and the topology's, each once. */
  private pullSecrets(options: CreateOptions): string[] {
    return [...new Set([...(this.options.imagePullSecrets ?? []), ...(options.imagePullSecrets ?? [])])];
  }

  private async writeBootConfigs(topology: string, namespace: string, nodes: readonly topo.Node[]): Promise<void> {
    const objects: KubeObject[] = [];
    for (const node of nodes) {
      const data = node.config?.configData;
      if (data?.case === "data" && data.value.length > 0) objects.push(...bootConfigMaps(topology, namespace, node.name, data.value));
    }
    await forEachConcurrently(objects, 32, (o) => this.client.apply(o));
  }

  async createTopology(topology: topo.Topology, options: CreateOptions = {}): Promise<TopologyView> {
    const caches = await this.ready();
    const name = topology.name;
    const namespace = name;
    const imagePullSecrets = this.pullSecrets(options);
    this.preflight(topology, namespace, imagePullSecrets);
    const existing = caches.topologies.get(undefined, name);
    if (existing) {
      throw new ManagerError(existing.metadata.deletionTimestamp ? "FAILED_PRECONDITION" : "ALREADY_EXISTS", existing.metadata.deletionTimestamp ? `topology ${name} is being deleted; create it again once it is gone` : `topology ${name} already exists`);
    }
    const spec = topologySpecOf(topology, namespace, imagePullSecrets);
    const object: TopologyObject = { apiVersion: KNE_API_VERSION, kind: "Topology", metadata: { name }, spec };
    if (options.dryRun) return this.view({ ...object, status: { phase: "Creating", nodes: topology.nodes.map((n) => ({ name: n.name, phase: "Pending" })) } });

    // The boot configs go first, so that the reconciler never sees a node without its config.
    await this.client.apply({ apiVersion: "v1", kind: "Namespace", metadata: { name: namespace, labels: { [NAMESPACE_LABEL]: "true", [TOPOLOGY_LABEL]: name } } });
    await this.writeBootConfigs(name, namespace, topology.nodes);
    const created = await this.client.create(object).catch((err: unknown) => {
      if (isConflict(err)) throw new ManagerError("ALREADY_EXISTS", `topology ${name} already exists`);
      throw err;
    });
    this.logger.info({ topology: name, nodes: topology.nodes.length, links: topology.links.length }, "topology object created");
    const done = await this.waitReady(name, created.metadata.generation ?? 1, options.timeoutMs ?? DEFAULT_TIMEOUT_MS, options.onProgress, options.signal);
    return this.view(done);
  }

  /**
   * Resolves when the reconciler has observed `generation` and every node is Ready;
   * DEADLINE_EXCEEDED at the timeout, naming each node that is not and why.
   */
  private waitReady(name: string, generation: number, timeoutMs: number, onProgress?: (e: ProgressEvent) => void, signal?: AbortSignal): Promise<TopologyObject> {
    return new Promise((resolve, reject) => {
      const seen = new Map<string, string>();
      const check = (t: TopologyObject | undefined): boolean => {
        if (!t) return false;
        for (const n of t.status?.nodes ?? []) {
          const key = `${n.phase}\u0000${n.message ?? ""}`;
          if (seen.get(n.name) !== key) {
            seen.set(n.name, key);
            onProgress?.({ topology: name, node: n.name, phase: n.phase, ...(n.message ? { message: n.message } : {}) });
          }
        }
        const failed = t.status?.conditions?.find((c) => c.type === "Reconciled" && c.status === "False");
        if (failed && PERMANENT_FAILURE_REASONS.has(failed.reason ?? "")) {
          finish(new ManagerError("FAILED_PRECONDITION", `topology ${name}: its objects cannot be made (${failed.reason}): ${failed.message}`));
          return false;
        }
        const ready = t.status?.conditions?.find((c) => c.type === "Ready");
        return (t.status?.observedGeneration ?? 0) >= generation && ready?.status === "True" && ready.observedGeneration === t.metadata.generation;
      };
      const finish = (err: Error | undefined, t?: TopologyObject) => {
        clearTimeout(timer);
        this.topologyListeners.delete(listener);
        signal?.removeEventListener("abort", onAbort);
        if (err) reject(err);
        else resolve(t!);
      };
      const listener = (type: string, t: TopologyObject) => {
        if (t.metadata.name !== name) return;
        if (type === "deleted") return finish(new ManagerError("ABORTED", `topology ${name} was deleted while waiting for it to become ready`));
        if (check(t)) finish(undefined, t);
      };
      const onAbort = () => finish(new ManagerError("ABORTED", `waiting for topology ${name} cancelled`));
      const timer = setTimeout(() => {
        const t = this.caches!.topologies.get(undefined, name);
        const notReady = (t?.status?.nodes ?? []).filter((n) => n.phase !== "Ready");
        const reasons = notReady.map((n) => `${n.name}: ${n.phase}${n.message ? ` (${n.message})` : ""}`);
        const failed = t?.status?.conditions?.find((c) => c.type === "Reconciled" && c.status === "False");
        finish(
          new ManagerError(
            "DEADLINE_EXCEEDED",
            `topology ${name} not ready after ${Math.round(timeoutMs / 1000)} s: ${notReady.length} of ${t?.status?.nodeCount ?? "?"} nodes not ready: ${reasons.slice(0, 20).join("; ")}${reasons.length > 20 ? `; and ${reasons.length - 20} more` : ""}${failed ? `; the last reconcile failed: ${failed.message}` : ""}`,
          ),
        );
      }, timeoutMs);
      signal?.addEventListener("abort", onAbort, { once: true });
      this.topologyListeners.add(listener);
      const now = this.caches!.topologies.get(undefined, name);
      if (check(now)) finish(undefined, now);
    });
  }

  async deleteTopology(name: string, options: { onProgress?: (event: ProgressEvent) => void } = {}): Promise<void> {
    const caches = await this.ready();
    if (!caches.topologies.get(undefined, name)) throw notFound(`topology ${name} not found`);
    const gone = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.topologyListeners.delete(listener);
        reject(new ManagerError("DEADLINE_EXCEEDED", `topology ${name} still being deleted after ${DELETE_TIMEOUT_MS / 1000} s (its namespace is ${caches.namespaces.get(undefined, name) ? "still there" : "gone"})`));
      }, DELETE_TIMEOUT_MS);
      const listener = (type: string, t: TopologyObject) => {
        if (t.metadata.name !== name || type !== "deleted") return;
        clearTimeout(timer);
        this.topologyListeners.delete(listener);
        resolve();
      };
      this.topologyListeners.add(listener);
    });
    try {
      await this.client.delete(resourceTypes.topology, undefined, name);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    options.onProgress?.({ topology: name, phase: "Deleting" });
    await gone;
  }

  async updateTopology(desired: topo.Topology, options: { dryRun?: boolean; timeoutMs?: number; onProgress?: (event: ProgressEvent) => void } = {}): Promise<UpdateResult> {
    const t = await this.requireTopology(desired.name);
    if (t.metadata.deletionTimestamp) throw new ManagerError("FAILED_PRECONDITION", `topology ${desired.name} is being deleted`);
    const namespace = namespaceOf(t);
    this.preflight(desired, namespace, t.spec.imagePullSecrets ?? []);
    const current = topologyFromObject(t);
    const plan = planTopology(current, desired);
    // Boot configs are not in the Topology object: a node counts as modified by what is.
    const specEntry = (n: topo.Node) => {
      const { bootConfigMaps: _boot, ...rest } = topologySpecOf(create(topo.TopologySchema, { name: desired.name, nodes: [n] }), namespace).nodes[0]!;
      return JSON.stringify(rest);
    };
    const reallyModified = [
      ...plan.nodes.modify.filter((c) => specEntry(c.current) !== specEntry(c.desired)).map((c) => `node ${c.desired.name}`),
      ...plan.links.modify.map((c) => `link ${linkId(c.desired)}`),
    ];
    if (reallyModified.length > 0) {
      throw new ManagerError(
        "FAILED_PRECONDITION",
        `apply adds and removes nodes and links; these changed in place: ${reallyModified.join(", ")}. Remove them in one apply and add them back in the next, or use 'kne link set' and 'kne link impair' for link state and impairments`,
      );
    }
    const changes = [
      ...plan.nodes.add.map((n) => change(managerv1.Change_Action.ADD, "node", n.name, vendorName(n))),
      ...plan.nodes.remove.map((n) => change(managerv1.Change_Action.REMOVE, "node", n.name, vendorName(n))),
      ...plan.links.add.map((l) => change(managerv1.Change_Action.ADD, "link", linkId(l), "")),
      ...plan.links.remove.map((l) => change(managerv1.Change_Action.REMOVE, "link", linkId(l), "")),
    ];
    if (options.dryRun || changes.length === 0) return { view: this.view(t), changes };

    // The running nodes keep their spec entries as they are (boot config references
    // included); only added nodes and the link list change.
    const kept = t.spec.nodes.filter((n) => !plan.nodes.remove.some((r) => r.name === n.name));
    const addedSpec = topologySpecOf(create(topo.TopologySchema, { name: desired.name, nodes: plan.nodes.add }), namespace).nodes;
    const nextSpec = { ...t.spec, nodes: [...kept, ...addedSpec], links: topologySpecOf(create(topo.TopologySchema, { name: desired.name, links: desired.links }), namespace).links };
    await this.writeBootConfigs(desired.name, namespace, plan.nodes.add);
    const updated = await this.patchSpec(t, nextSpec);
    this.logger.info({ topology: desired.name, changes: changes.length, generation: updated.metadata.generation }, "topology spec updated");
    const done = await this.waitReady(desired.name, updated.metadata.generation ?? 1, options.timeoutMs ?? DEFAULT_TIMEOUT_MS, options.onProgress);
    // Removed nodes' boot configs: the reconciler leaves them alone, being its input.
    const removed = new Set(plan.nodes.remove.map((n) => n.name));
    const stale = (await this.ready()).configMaps.list((c) => c.metadata.namespace === namespace && c.metadata.labels?.[BOOT_CONFIG_LABEL] !== undefined && removed.has(c.metadata.labels?.[NODE_LABEL] ?? ""));
    await forEachConcurrently(stale, 16, (c) => this.client.delete(resourceTypes.configMap, namespace, c.metadata.name).catch((err: unknown) => { if (!isNotFound(err)) throw err; }));
    return { view: this.view(done), changes };
  }

  /**
   * Writes the spec only over the version it was computed from: the reconciler's status
   * writes also move the resourceVersion, so a conflict is retried when the spec itself is
   * still the one read; a spec changed by someone else fails with ABORTED.
   */
  private async patchSpec(read: TopologyObject, spec: TopologyObject["spec"]): Promise<TopologyObject> {
    let current = read;
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.client.mergePatch<TopologyObject>(resourceTypes.topology, undefined, read.metadata.name, { metadata: { resourceVersion: current.metadata.resourceVersion }, spec });
      } catch (err) {
        if (!isConflict(err) || attempt >= 5) throw err;
        current = await this.client.get<TopologyObject>(resourceTypes.topology, undefined, read.metadata.name);
        if (current.metadata.generation !== read.metadata.generation) {
          throw new ManagerError("ABORTED", `topology ${read.metadata.name} was changed by another update meanwhile; apply again`);
        }
      }
    }
  }

  // ---- reads ----------------------------------------------------------------------------------

  async getTopology(name: string): Promise<TopologyView> {
    return this.view(await this.requireTopology(name));
  }

  async listTopologies(): Promise<TopologyView[]> {
    const caches = await this.ready();
    return caches.topologies.list().sort((a, b) => a.metadata.name.localeCompare(b.metadata.name)).map((t) => this.view(t));
  }

  private serviceOf(namespace: string, node: string): KubeObject | undefined {
    return this.caches?.services.list((s) => s.metadata.namespace === namespace && s.metadata.labels?.[NODE_LABEL] === node)[0];
  }

  private serviceAddress(svc: KubeObject | undefined): string {
    const s = svc as { spec?: { clusterIP?: string }; status?: { loadBalancer?: { ingress?: Array<{ ip?: string; hostname?: string }> } } } | undefined;
    const ingress = s?.status?.loadBalancer?.ingress?.[0];
    return ingress?.ip ?? ingress?.hostname ?? (s?.spec?.clusterIP && s.spec.clusterIP !== "None" ? s.spec.clusterIP : "");
  }

  private view(t: TopologyObject): TopologyView {
    const topology = resolvedForView(topologyFromObject(t));
    const ns = namespaceOf(t);
    const statuses = new Map((t.status?.nodes ?? []).map((n) => [n.name, n]));
    // Shown with the vendor's defaults (model, services, image, command, config path...), as the pods were made.
    topology.nodes = topology.nodes.map((n) => {
      try {
        return applyConfigDefaults(withVendorDefaults(n));
      } catch {
        return n;
      }
    });
    // Link uids live on the Link objects; the view carries them on both interfaces, as upstream does.
    const byName = new Map(topology.nodes.map((n) => [n.name, n]));
    for (const link of topology.links) {
      const uid = this.caches?.links.get(ns, linkObjectName(link))?.spec.uid;
      if (uid === undefined) continue;
      for (const [nodeName, written] of [[link.aNode, link.aInt], [link.zNode, link.zInt]] as const) {
        const node = byName.get(nodeName);
        if (!node) continue;
        const iface = (node.interfaces[linuxInterfaceOf(node, written)] ??= create(topo.InterfaceSchema, {}));
        iface.uid = BigInt(uid);
      }
    }
    for (const node of topology.nodes) {
      const s = statuses.get(node.name);
      node.podIp = s?.podIP ?? "";
      const address = this.serviceAddress(this.serviceOf(ns, node.name));
      for (const [port, service] of Object.entries(node.services)) {
        service.outside ||= Number(port);
        service.outsideIp = address;
        service.insideIp = node.podIp;
      }
    }
    const generation = BigInt(t.metadata.generation ?? 1);
    const phase = t.metadata.deletionTimestamp ? managerv1.TopologyPhase.DELETING : (topologyPhases[t.status?.phase ?? "Creating"] ?? managerv1.TopologyPhase.CREATING);
    const status = create(managerv1.TopologyStatusSchema, {
      phase,
      generation,
      observedGeneration: BigInt(t.status?.observedGeneration ?? 0),
      backend: this.name,
      ...(t.metadata.creationTimestamp ? { createTime: timestampFromDate(new Date(t.metadata.creationTimestamp)) } : {}),
      nodes: topology.nodes.map((n) => {
        const s = statuses.get(n.name);
        return create(managerv1.NodeStatusSchema, {
          name: n.name,
          phase: nodePhases[s?.phase ?? "Pending"],
          message: s?.message ?? (s ? "" : "not observed yet"),
          managementAddress: s?.podIP ?? "",
          host: s?.host ?? "",
          restarts: s?.restarts ?? 0,
        });
      }),
      conditions: (t.status?.conditions ?? []).map((c) =>
        create(managerv1.ConditionSchema, {
          type: c.type,
          status: c.status === "True",
          reason: c.reason ?? "",
          message: c.message ?? "",
          observedGeneration: BigInt(c.observedGeneration ?? 0),
          ...(c.lastTransitionTime ? { lastTransitionTime: timestampFromDate(new Date(c.lastTransitionTime)) } : {}),
        }),
      ),
    });
    return { topology, status };
  }

  async listNodes(topology: string): Promise<Array<{ node: topo.Node; status: managerv1.NodeStatus }>> {
    const view = this.view(await this.requireTopology(topology));
    return view.topology.nodes.map((node, i) => ({ node, status: view.status.nodes[i]! }));
  }

  async listServices(topology: string): Promise<managerv1.ServiceEndpoint[]> {
    const view = this.view(await this.requireTopology(topology));
    const out: managerv1.ServiceEndpoint[] = [];
    for (const node of view.topology.nodes) {
      for (const [port, service] of Object.entries(node.services).sort((a, b) => Number(a[0]) - Number(b[0]))) {
        out.push(create(managerv1.ServiceEndpointSchema, { node: node.name, service, address: service.outsideIp, port: service.outside || Number(port) }));
      }
    }
    return out;
  }

  // ---- links ----------------------------------------------------------------------------------

  private linkInfo(t: TopologyObject, link: topo.Link, obj = this.caches!.links.get(namespaceOf(t), linkObjectName(link))): managerv1.LinkInfo {
    const nodes = new Map((t.status?.nodes ?? []).map((n) => [n.name, n.phase]));
    const admin = (side: "a" | "z"): topo.LinkState => {
      const s = (side === "a" ? obj?.spec.aAdminState : obj?.spec.zAdminState) ?? obj?.spec.adminState;
      return s === "Down" ? topo.LinkState.DOWN : topo.LinkState.UP;
    };
    const oper = (side: "a" | "z"): managerv1.OperState => {
      if (!obj) return managerv1.OperState.ABSENT;
      const here = nodes.get(side === "a" ? link.aNode : link.zNode);
      const there = nodes.get(side === "a" ? link.zNode : link.aNode);
      if (here !== "Ready") return managerv1.OperState.DOWN;
      if (admin(side) === topo.LinkState.DOWN) return managerv1.OperState.DOWN;
      if (there !== "Ready" || admin(side === "a" ? "z" : "a") === topo.LinkState.DOWN) return managerv1.OperState.LOWER_LAYER_DOWN;
      return managerv1.OperState.UP;
    };
    const spec = create(topo.LinkSchema, { aNode: link.aNode, aInt: link.aInt, zNode: link.zNode, zInt: link.zInt, kind: link.kind });
    const aToZ = impairmentsFromJsonObject(obj?.spec.aToZ);
    const zToA = impairmentsFromJsonObject(obj?.spec.zToA);
    if (obj?.spec.adminState === "Down") spec.adminState = topo.LinkState.DOWN;
    if (aToZ) spec.aToZ = aToZ;
    if (zToA) spec.zToA = zToA;
    const endpoint = (side: "a" | "z") =>
      create(managerv1.EndpointStatusSchema, {
        endpoint: { node: side === "a" ? link.aNode : link.zNode, interface: side === "a" ? link.aInt : link.zInt },
        adminState: admin(side),
        operState: oper(side),
        ...((side === "a" ? aToZ : zToA) ? { impairments: side === "a" ? aToZ : zToA } : {}),
      });
    return create(managerv1.LinkInfoSchema, { id: linkId(link), topology: t.metadata.name, spec, a: endpoint("a"), z: endpoint("z"), uid: BigInt(obj?.spec.uid ?? 0) });
  }

  async listLinks(topology: string, node?: string): Promise<managerv1.LinkInfo[]> {
    const t = await this.requireTopology(topology);
    const spec = topologyFromObject(t);
    if (node && !spec.nodes.some((n) => n.name === node)) throw notFound(`topology ${topology} has no node ${node}`);
    return spec.links.filter((l) => !node || l.aNode === node || l.zNode === node).map((l) => this.linkInfo(t, l));
  }

  private async patchLink(topology: string, ref: string, spec: Record<string, unknown>): Promise<managerv1.LinkInfo> {
    const t = await this.requireTopology(topology);
    const link = findLink(topologyFromObject(t), ref);
    const ns = namespaceOf(t);
    const name = linkObjectName(link);
    if (!this.caches!.links.get(ns, name)) throw new ManagerError("UNAVAILABLE", `link ${linkId(link)} of topology ${topology} has no Link object yet; retry once the topology is created`);
    const patched = await this.client.mergePatch<LinkObject>(resourceTypes.link, ns, name, { spec });
    // Answer with what was written, not with a cache that may not have seen it yet.
    return this.linkInfo(t, link, patched);
  }

  async setLinkState(topology: string, ref: string, state: topo.LinkState, endpoint?: string): Promise<managerv1.LinkInfo> {
    const t = await this.requireTopology(topology);
    const link = findLink(topologyFromObject(t), ref);
    const side = endpointSide(link, endpoint);
    const value = state === topo.LinkState.DOWN ? "Down" : "Up";
    const spec = side === undefined ? { adminState: value, aAdminState: null, zAdminState: null } : { [side === "a" ? "aAdminState" : "zAdminState"]: value };
    return this.patchLink(topology, ref, spec);
  }

  async setLinkImpairments(topology: string, ref: string, impairments: LinkImpairments): Promise<managerv1.LinkInfo> {
    return this.patchLink(topology, ref, { aToZ: impairmentsToJsonObject(impairments.aToZ), zToA: impairmentsToJsonObject(impairments.zToA) });
  }

  // ---- inside nodes -----------------------------------------------------------------------------

  private async podsOf(topology: string, node: string): Promise<PodJson[]> {
    const t = await this.requireTopology(topology);
    if (!t.spec.nodes.some((n) => n.name === node)) throw notFound(`topology ${topology} has no node ${node}`);
    const ns = namespaceOf(t);
    const selector = this.reconciler!.runtime.get(topology)?.get(node)?.selector ?? { [TOPOLOGY_LABEL]: topology, [NODE_LABEL]: node };
    return this.caches!.pods.list((p) => p.metadata.namespace === ns && matchesSelector(p, selector)).sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
  }

  async execCommand(topology: string, node: string, _request: ExecRequest): Promise<ExecOutcome> {
    const pods = await this.podsOf(topology, node);
    throw new ManagerError(
      "UNIMPLEMENTED",
      `exec in node ${node} of topology ${topology}: the kubernetes backend does not run commands in pods yet (it needs the pods/exec subresource over a WebSocket stream); use: kubectl exec -n ${topology} ${pods[0]?.metadata.name ?? node} -- <command>`,
    );
  }

  async nodeLogs(topology: string, node: string, request: LogsRequest = {}): Promise<string> {
    const pods = await this.podsOf(topology, node);
    const pod = pods[0];
    if (!pod) throw new ManagerError("FAILED_PRECONDITION", `node ${node} of topology ${topology} has no pod yet`);
    const query = new URLSearchParams();
    if (request.tailLines) query.set("tailLines", String(request.tailLines));
    const path = `/api/v1/namespaces/${encodeURIComponent(pod.metadata.namespace!)}/pods/${encodeURIComponent(pod.metadata.name)}/log${query.size > 0 ? `?${query}` : ""}`;
    return this.client.requestText("GET", path);
  }

  private configUnsupported(what: string, topology: string, node: string | undefined): never {
    throw new ManagerError(
      "UNIMPLEMENTED",
      `${what} for ${node ? `node ${node}` : "the nodes"} of topology ${topology}: the kubernetes backend does not talk to a running node's software yet (it needs an exec into the pod or the vendor's management API, gNMI/NETCONF); delete the node with 'kne apply' and add it back with the new boot config`,
    );
  }

  async pushConfig(topology: string, node: string, _config: Uint8Array): Promise<void> {
    await this.podsOf(topology, node);
    this.configUnsupported("push config", topology, node);
  }

  async resetConfig(topology: string, node: string | undefined, _push: boolean): Promise<void> {
    if (node) await this.podsOf(topology, node);
    else await this.requireTopology(topology);
    this.configUnsupported("reset config", topology, node);
  }

  async saveConfig(topology: string, node: string): Promise<Uint8Array> {
    await this.podsOf(topology, node);
    this.configUnsupported("save config", topology, node);
  }

  // ---- watches --------------------------------------------------------------------------------

  async *watchTopologies(name: string | undefined, signal: AbortSignal): AsyncIterable<managerv1.TopologyEvent> {
    const caches = await this.ready();
    let revision = 0n;
    const stream = new EventStream<managerv1.TopologyEvent>();
    const lastNodes = new Map<string, Map<string, string>>();
    const lastPhase = new Map<string, string>();
    const event = (type: managerv1.TopologyEvent_Type, topology: string, extra: { status?: managerv1.TopologyStatus; node?: managerv1.NodeStatus; message?: string }) =>
      create(managerv1.TopologyEventSchema, { revision: ++revision, type, topology, time: timestampFromDate(new Date()), ...extra });
    const onTopology = (type: "added" | "updated" | "deleted", t: TopologyObject) => {
      const tn = t.metadata.name;
      if (name && tn !== name) return;
      if (type === "deleted") {
        lastNodes.delete(tn);
        lastPhase.delete(tn);
        stream.push(event(managerv1.TopologyEvent_Type.DELETED, tn, { message: "deleted" }));
        return;
      }
      const v = this.view(t);
      const phase = managerv1.TopologyPhase[v.status.phase] ?? "";
      const before = lastPhase.get(tn);
      if (before === undefined) stream.push(event(managerv1.TopologyEvent_Type.CREATED, tn, { status: v.status, message: phase }));
      else if (before !== phase) stream.push(event(managerv1.TopologyEvent_Type.UPDATED, tn, { status: v.status, message: phase }));
      lastPhase.set(tn, phase);
      const nodes = lastNodes.get(tn) ?? new Map<string, string>();
      for (const n of v.status.nodes) {
        const key = `${n.phase}\u0000${n.message}\u0000${n.restarts}`;
        if (nodes.get(n.name) !== key) stream.push(event(managerv1.TopologyEvent_Type.NODE_CHANGED, tn, { node: n }));
        nodes.set(n.name, key);
      }
      lastNodes.set(tn, nodes);
    };
    this.topologyListeners.add(onTopology);
    try {
      for (const t of caches.topologies.list()) onTopology("added", t);
      yield* stream.drain(signal);
    } finally {
      this.topologyListeners.delete(onTopology);
    }
  }

  async *watchLinks(topology: string, link: string | undefined, signal: AbortSignal): AsyncIterable<managerv1.LinkInfo> {
    const t0 = await this.requireTopology(topology);
    const wanted = link ? linkObjectName(findLink(topologyFromObject(t0), link)) : undefined;
    const ns = namespaceOf(t0);
    const stream = new EventStream<managerv1.LinkInfo>();
    const seen = new Map<string, string>();
    const emitAll = () => {
      const t = this.caches!.topologies.get(undefined, topology);
      if (!t) return stream.close();
      for (const l of topologyFromObject(t).links) {
        if (wanted && linkObjectName(l) !== wanted) continue;
        const info = this.linkInfo(t, l);
        const key = [info.a, info.z].map((e) => `${e?.adminState}/${e?.operState}/${JSON.stringify(impairmentsToJsonObject(e?.impairments))}`).join("|");
        if (seen.get(info.id) !== key) {
          seen.set(info.id, key);
          stream.push(info);
        }
      }
    };
    const onLink = (_type: string, l: LinkObject) => {
      if (l.metadata.namespace === ns) emitAll();
    };
    const onTopology = (_type: string, t: TopologyObject) => {
      if (t.metadata.name === topology) emitAll();
    };
    this.linkListeners.add(onLink);
    this.topologyListeners.add(onTopology);
    try {
      emitAll();
      yield* stream.drain(signal);
    } finally {
      this.linkListeners.delete(onLink);
      this.topologyListeners.delete(onTopology);
    }
  }
}

/**
 * The topology as upstream shows it: every link end an interface of its node, keyed by the
 * Linux interface its vendor makes of the name (Ciena "1/5/1" → eth1, as in the pod). The
 * stored topology was validated when it was created; should resolution still refuse it, the
 * view shows it as stored.
 */
function resolvedForView(topology: topo.Topology): topo.Topology {
  try {
    return resolveTopology(topology, { inPlace: true, interfaceNames: mapInterfaceNames });
  } catch {
    return topology;
  }
}
