/**
 * The agent's cluster mode: it watches the pods of topologies scheduled to its node, the
 * `Link` objects of every topology, and the CNI plugin's handoff directory, and keeps each
 * topology's desired state on this node equal to what those say (level-triggered: any change
 * or the periodic resync recomputes the whole state of a topology; the agent's reconciler
 * converges the kernel to it). A topology whose Links are gone is deleted from the agent.
 */
import { equals } from "@bufbuild/protobuf";
import { type ObservedInterface, mapLimit, readInterfaces } from "@kne/dataplane";
import { Informer, type KubeClient, type KubeObject, WorkQueue, isNotFound, isRetriable, resourceTypes } from "@kne/kube";
import { agentv1 } from "@kne/proto";
import type { Logger } from "@kne/telemetry";
import type { AgentService } from "../agent-service.ts";
import { type LinkObjectLike, type LocalPod, NODE_LABEL, TOPOLOGY_LABEL, clusterWires } from "./cluster-wires.ts";
import { type LinkStatus, linkStatuses } from "./link-status.ts";
import { NetnsByAddress, type PodHandoff, readHandoffs, sandboxOf, watchHandoffs } from "./pod-handoff.ts";

export interface ClusterWiringOptions {
  agent: AgentService;
  kube: KubeClient;
  /** This node's name (the pods' spec.nodeName). */
  nodeName: string;
  handoffDir: string;
  logger: Logger;
  /** Recompute every topology this often (default 10 s), so nothing waits for an event. */
  resyncIntervalMs?: number;
}

type PodObject = KubeObject & { spec?: { nodeName?: string }; status?: { podIP?: string }; metadata: KubeObject["metadata"] & { uid?: string } };
type LinkObject = KubeObject & LinkObjectLike & { status?: Partial<LinkStatus> };

export class ClusterWiring {
  private readonly pods: Informer<PodObject>;
  private readonly links: Informer<LinkObject>;
  private readonly queue: WorkQueue;
  private handoffs: PodHandoff[] = [];
  private readonly byAddress = new NetnsByAddress();
  private stopWatch?: () => void;
  private resyncTimer?: NodeJS.Timeout;
  /**
   * False until both caches are filled: a pass computed from a half-filled cache would see
   * a topology without Links and delete its wires (after a restart, say).
   */
  private synced = false;
  private readonly stopping = new AbortController();

  constructor(private readonly options: ClusterWiringOptions) {
    const onError = (err: unknown) => options.logger.warn({ err }, "watch of the cluster failed; retrying");
    this.pods = new Informer<PodObject>(options.kube, resourceTypes.pod, { labelSelector: TOPOLOGY_LABEL, onError });
    this.links = new Informer<LinkObject>(options.kube, resourceTypes.link, { onError });
    this.queue = new WorkQueue((topology) => this.sync(topology), {
      concurrency: 2,
      onError: (topology, err, attempt) => options.logger.warn({ topology, err, attempt }, "topology not wired yet; retrying"),
    });
    this.pods.onEvent((_, pod) => {
      if (!this.synced) return;
      const topology = pod.metadata.labels?.[TOPOLOGY_LABEL];
      if (topology && pod.spec?.nodeName === options.nodeName) this.queue.add(topology);
    });
    this.links.onEvent((_, link) => {
      if (this.synced) this.queue.add(link.spec.topology);
    });
  }

  /**
   * Reads the handoffs and starts watching them, then the cluster in the background: an agent
   * may start before the kne.dev CRDs are installed (the manager installs them), and the
   * pods' sandboxes keep being handed off meanwhile, so it waits for the `Link` resource
   * instead of failing. `ready` resolves once the caches are filled.
   */
  start(): void {
    this.handoffs = readHandoffs(this.options.handoffDir, this.options.logger);
    this.stopWatch = watchHandoffs(this.options.handoffDir, () => this.handoffsChanged());
    this.ready = this.watchCluster();
    this.ready.catch((err: unknown) => this.options.logger.error({ err }, "cluster mode stopped: the cluster could not be watched"));
  }

  /** Resolves once the pods and Links are cached and every topology was queued. */
  ready: Promise<void> = Promise.resolve();

  private async watchCluster(): Promise<void> {
    const { kube, logger } = this.options;
    for (let waited = false; ; waited = true) {
      if (this.stopping.signal.aborted) return;
      try {
        await kube.list(resourceTypes.link, {});
        if (waited) logger.info("the Link resource is served now");
        break;
      } catch (err) {
        if (!isNotFound(err) && !isRetriable(err)) throw err;
        if (!waited) logger.warn({ err }, "waiting for the kne.dev CRDs (Link) to be installed");
        await new Promise((r) => setTimeout(r, 2_000));
      }
    }
    if (this.stopping.signal.aborted) return;
    await Promise.all([this.pods.start(), this.links.start()]);
    this.synced = true;
    this.resyncAll();
    const every = this.options.resyncIntervalMs ?? 10_000;
    if (every > 0 && !this.stopping.signal.aborted) this.resyncTimer = setInterval(() => this.handoffsChanged(), every);
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    if (this.resyncTimer) clearInterval(this.resyncTimer);
    this.stopWatch?.();
    this.queue.stop();
    await Promise.all([this.pods.stop(), this.links.stop()]);
  }

  /** Resolves when no topology is queued or being synced. */
  idle(): Promise<void> {
    return this.queue.idle();
  }

  private handoffsChanged(): void {
    this.handoffs = readHandoffs(this.options.handoffDir, this.options.logger);
    this.resyncAll();
  }

  private resyncAll(): void {
    if (!this.synced) return;
    const topologies = new Set<string>(this.options.agent.topologies());
    for (const link of this.links.list()) topologies.add(link.spec.topology);
    for (const t of topologies) this.queue.add(t);
  }

  /**
   * The topology's pods on this node with their sandbox's namespace: the one the plugin
   * handed off, else the one holding the pod's address (a sandbox made before the plugin was
   * chained, or a lost handoff file).
   */
  private async localPods(topology: string): Promise<LocalPod[]> {
    const out: LocalPod[] = [];
    for (const pod of this.pods.list((p) => p.metadata.labels?.[TOPOLOGY_LABEL] === topology && p.spec?.nodeName === this.options.nodeName)) {
      const node = pod.metadata.labels?.[NODE_LABEL];
      if (!node || pod.metadata.deletionTimestamp) continue;
      const sandbox = sandboxOf(this.handoffs, pod.metadata.namespace ?? "", pod.metadata.name, pod.metadata.uid);
      let netnsName = sandbox?.netnsName;
      if (!netnsName && pod.status?.podIP) {
        netnsName = await this.byAddress.find(pod.status.podIP);
        if (netnsName) this.options.logger.debug({ topology, pod: pod.metadata.name, netns: netnsName }, "sandbox found by the pod's address");
      }
      if (netnsName) out.push({ node, namespace: pod.metadata.namespace ?? "", netnsName });
    }
    return out;
  }

  private async sync(topology: string): Promise<void> {
    const { agent, logger } = this.options;
    const links = this.links.list((l) => l.spec.topology === topology);
    const applied = agent.appliedRequest(topology);
    if (links.length === 0) {
      if (applied) {
        const deleted = await agent.deleteTopology(topology);
        logger.info({ topology, deleted }, "topology gone from the cluster: its wires on this node were removed");
      }
      return;
    }
    const pods = await this.localPods(topology);
    const { request, skipped } = clusterWires(topology, links, pods);
    if (request.wires.length === 0 && !applied) return;
    request.generation = applied?.generation ?? 0n;
    // Unchanged desired state: nothing to apply (the agent's own resync keeps the kernel there).
    if (!applied || !equals(agentv1.ApplyWiresRequestSchema, request, applied)) {
      request.generation += 1n;
      const answer = await agent.applyWires(request);
      logger.info(
        { topology, generation: request.generation.toString(), wires: request.wires.length, created: answer.created, deleted: answer.deleted, skipped: skipped.length ? skipped : undefined },
        "topology wired on this node",
      );
    }
    await this.writeLinkStatuses(topology, links, pods);
  }

  /** Each wired Link's observed state to its status, where it changed. */
  private async writeLinkStatuses(topology: string, links: readonly LinkObject[], pods: readonly LocalPod[]): Promise<void> {
    const netnsOfNode = new Map(pods.map((p) => [p.node, p.netnsName]));
    const interfaces = new Map<string, Map<string, ObservedInterface>>();
    await mapLimit([...new Set(netnsOfNode.values())], 8, async (netns) => {
      const list = await readInterfaces(netns).catch(() => [] as ObservedInterface[]);
      interfaces.set(netns, new Map(list.map((i) => [i.ifname, i])));
    });
    const statuses = linkStatuses(links, netnsOfNode, interfaces);
    await mapLimit([...statuses], 8, async ([link, status]) => {
      const obj = link as LinkObject;
      const current = obj.status ?? {};
      if (current.operState === status.operState && current.aOperState === status.aOperState && current.zOperState === status.zOperState) return;
      await this.options.kube.mergePatch(resourceTypes.link, obj.metadata.namespace, obj.metadata.name, { status }, "status");
      this.options.logger.debug({ topology, link: obj.metadata.name, ...status }, "link status written");
    });
  }
}
