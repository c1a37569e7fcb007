/**
 * The manager's gRPC services, implemented once over a `RuntimeBackend`:
 * `kne.manager.v1` TopologyService, LinkService and NodeService, and upstream KNE's
 * `controller.TopologyManager`. Here requests are checked (a topology is validated
 * completely, with field violations, before the backend makes anything), config files are
 * inlined, answers are shaped, and every error leaves with its gRPC code.
 */
import { readFile, stat } from "node:fs/promises";
import { isAbsolute, resolve as resolvePath } from "node:path";
import { clone, create, toBinary, type DescService } from "@bufbuild/protobuf";
import { type Duration, timestampFromMs } from "@bufbuild/protobuf/wkt";
import { type ConnectRouter, ConnectError, type HandlerContext, type ServiceImpl } from "@connectrpc/connect";
import { type Histogram, metrics } from "@opentelemetry/api";
import { controller, managerv1, topo } from "@kne/proto";
import { type ServiceRegistration, serviceRegistration } from "@kne/rpc";
import { TopologyValidationError, resolveConfigPath, validateTopology } from "@kne/topology";
import { createLogger, type Logger } from "@kne/telemetry";
import type { RuntimeBackend } from "./backend.ts";
import { ManagerError, guarded, toManagerConnectError } from "./errors.ts";
import { dns1123Subdomain, mapInterfaceNames } from "@kne/vendors";
import { type SysctlReader, checkHostConstraints } from "./host-constraints.ts";
import { endpointRef } from "./link-ref.ts";
import { type StreamSource, WatchHub, type WatchHubOptions } from "./watch-hub.ts";

export interface ManagerServices {
  topology: ServiceImpl<typeof managerv1.TopologyService>;
  link: ServiceImpl<typeof managerv1.LinkService>;
  node: ServiceImpl<typeof managerv1.NodeService>;
  controller: ServiceImpl<typeof controller.TopologyManager>;
  /** Every watch goes through it (its stats feed the metrics). */
  watchHub: WatchHub;
}

/** Limits on what one request may ask for; requests beyond them fail with INVALID_ARGUMENT naming the limit. */
export interface ManagerLimits {
  /** Nodes per topology (0 or undefined: no limit). */
  maxNodes?: number;
  /** Links per topology (0 or undefined: no limit). */
  maxLinks?: number;
}

export interface ManagerServiceOptions {
  limits?: ManagerLimits;
  watch?: WatchHubOptions;
  /** Where host constraints are read (default: this host's /proc/sys). */
  readSysctl?: SysctlReader;
  /**
   * Clusters that upstream's CreateTopology may name by kubecfg (kubernetes backend). Without
   * it a kubecfg is only checked to exist and the topology runs on `backend`.
   */
  kubecfgClusters?: KubecfgClusterChooser;
  logger?: Logger;
}

const DEFAULT_TIMEOUT_MS = 5 * 60_000;

function required(value: string, field: string): string {
  if (value.trim() === "") throw new ManagerError("INVALID_ARGUMENT", `${field} is required`, [{ field, description: "is required" }]);
  return value;
}

/**
 * Upstream's `CreateTopologyRequest.kubecfg` on a manager without clusters to choose from
 * (the local backend): a path that names no file is INVALID_ARGUMENT naming it, as upstream
 * answers; an existing one is not opened, and the topology runs on this host (logged).
 */
async function checkKubecfg(path: string): Promise<void> {
  if (path === "") return;
  const absolute = resolvePath(path);
  const found = await stat(absolute).catch((err: NodeJS.ErrnoException) => err);
  if (found instanceof Error || !found.isFile()) {
    const why = found instanceof Error ? (found.code ?? found.message) : "not a regular file";
    throw new ManagerError("INVALID_ARGUMENT", `kubecfg ${JSON.stringify(path)} does not exist: ${absolute}: ${why}`, [{ field: "kubecfg", description: "names no kubeconfig file" }]);
  }
}

/**
 * The clusters upstream's requests may name by `kubecfg` (the kubernetes backend's
 * `KubecfgClusters`): each call holds the cluster's backend until it is answered.
 */
export interface KubecfgClusterChooser {
  /** The cluster a request's kubecfg names ("" → the manager's own). */
  acquire(kubecfg: string): Promise<ClusterLease>;
  /** The cluster that holds a topology: upstream's later requests name only the topology. */
  clusterOf(name: string): Promise<ClusterLease>;
  /** Where else a topology of this name runs, if anywhere. */
  elsewhere(name: string, except: RuntimeBackend): Promise<string | undefined>;
}

export interface ClusterLease {
  backend: RuntimeBackend;
  /** The kubecfg as the request named it ("" for the manager's own). */
  kubecfg: string;
  own: boolean;
  release(): void;
}

async function withLease<T>(lease: Promise<ClusterLease>, work: (lease: ClusterLease) => Promise<T>): Promise<T> {
  const held = await lease;
  try {
    return await work(held);
  } finally {
    held.release();
  }
}

/** A topology's image pull secrets: Secret names (DNS subdomains), for a backend that pulls images. */
function imagePullSecretsFor(names: readonly string[], backend: string): string[] {
  if (backend !== "kubernetes") {
    throw new ManagerError("INVALID_ARGUMENT", `image_pull_secrets apply to the kubernetes backend; this manager runs the ${backend} backend, which pulls no images`, [
      { field: "image_pull_secrets", description: `not used by the ${backend} backend` },
    ]);
  }
  names.forEach((name, i) => {
    if (!dns1123Subdomain(name)) {
      throw new ManagerError("INVALID_ARGUMENT", `image_pull_secrets[${i}]: ${JSON.stringify(name)} is not a Secret name (lower-case letters, digits, '-' and '.')`, [
        { field: `image_pull_secrets[${i}]`, description: "is not a Secret name" },
      ]);
    }
  });
  return [...names];
}

function durationMs(d: Duration | undefined): number | undefined {
  if (!d) return undefined;
  const ms = Number(d.seconds) * 1000 + Math.floor(d.nanos / 1e6);
  return ms > 0 ? ms : undefined;
}

/** The smaller of the request's timeout and the call's deadline (less a margin to answer in). */
function effectiveTimeout(requested: number | undefined, ctx: HandlerContext): number {
  const deadline = ctx.timeoutMs();
  const base = requested ?? DEFAULT_TIMEOUT_MS;
  return deadline !== undefined ? Math.max(1000, Math.min(base, deadline - 1500)) : base;
}

/** Checked before validation: a topology far beyond the limits is not worth validating. */
function checkLimits(topology: topo.Topology, field: string, limits: ManagerLimits): void {
  const over = (count: number, limit: number | undefined, what: "nodes" | "links", flag: string): void => {
    if (limit === undefined || limit <= 0 || count <= limit) return;
    const description = `${count} ${what} exceed this manager's limit of ${limit} ${what} per topology (${flag})`;
    throw new ManagerError("INVALID_ARGUMENT", `topology ${topology.name} is too large`, [{ field: `${field}.${what}`, description }]);
  };
  over(topology.nodes.length, limits.maxNodes, "nodes", "max-nodes");
  over(topology.links.length, limits.maxLinks, "links", "max-links");
}

/**
 * Validates a topology from a request (every problem, as field violations under `field`)
 * and returns a copy with config files inlined: `config.file` is read relative to `baseDir`.
 */
export async function prepareTopology(topology: topo.Topology | undefined, baseDir: string, field = "topology", limits: ManagerLimits = {}): Promise<topo.Topology> {
  if (!topology) throw new ManagerError("INVALID_ARGUMENT", `${field} is required`, [{ field, description: "is required" }]);
  checkLimits(topology, field, limits);
  const result = validateTopology(topology, { ...(baseDir !== "" ? { baseDir } : {}), interfaceNames: mapInterfaceNames });
  if (result.errors.length > 0) throw new TopologyValidationError(result.errors);
  const out = clone(topo.TopologySchema, topology);
  for (const node of out.nodes) {
    const data = node.config?.configData;
    if (data?.case !== "file") continue;
    const at = `${field}.nodes[${node.name}].config.file`;
    if (baseDir === "" && !isAbsolute(data.value)) {
      throw new ManagerError("INVALID_ARGUMENT", `node ${node.name}: config file ${data.value} is relative and the request has no base_dir; send the config inline (config.data)`, [
        { field: at, description: "relative path without base_dir" },
      ]);
    }
    const path = resolveConfigPath(baseDir, data.value);
    let bytes: Buffer;
    try {
      bytes = await readFile(path);
    } catch (err) {
      throw new ManagerError("INVALID_ARGUMENT", `node ${node.name}: cannot read config file ${path}: ${(err as Error).message}`, [{ field: at, description: "cannot be read" }]);
    }
    node.config!.configData = { case: "data", value: new Uint8Array(bytes) };
  }
  return out;
}

/** What a link watcher is told about: state and impairments per endpoint (counters change all the time and are not). */
function linkStateKey(link: managerv1.LinkInfo): string {
  const side = (e: managerv1.EndpointStatus | undefined): string =>
    e ? `${e.adminState}/${e.operState}/${e.impairments ? toBinary(topo.ImpairmentsSchema, e.impairments).join(",") : ""}` : "";
  return `${side(link.a)}|${side(link.z)}`;
}

/** A topology event's object: the topology itself, or one of its nodes or links (deleting the topology removes them all). */
function topologyObjectKey(event: managerv1.TopologyEvent): string {
  switch (event.type) {
    case managerv1.TopologyEvent_Type.NODE_CHANGED:
      return `${event.topology}/node/${event.node?.name ?? ""}`;
    case managerv1.TopologyEvent_Type.LINK_CHANGED:
      return `${event.topology}/link/${event.link?.id ?? ""}`;
    default:
      return event.topology;
  }
}

/** Reconcile durations (create, update, delete of a topology), through the global meter: created at first use, after the process set its SDK. */
function reconcileTimer(): <T>(operation: string, work: () => Promise<T>) => Promise<T> {
  let histogram: Histogram | undefined;
  return async (operation, work) => {
    histogram ??= metrics.getMeter("@kne/manager").createHistogram("kne.reconcile.duration", {
      unit: "s",
      description: "Duration of topology reconciles (create, update, delete) by operation and outcome",
      advice: { explicitBucketBoundaries: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600] },
    });
    const started = performance.now();
    let outcome = "error";
    try {
      const out = await work();
      outcome = "ok";
      return out;
    } finally {
      histogram.record((performance.now() - started) / 1000, { operation, outcome });
    }
  };
}

export function createManagerServices(backend: RuntimeBackend, options: ManagerServiceOptions = {}): ManagerServices {
  const limits = options.limits ?? {};
  const reconcile = reconcileTimer();
  const watchHub = new WatchHub(options.watch);
  const topologySource = (name: string | undefined): StreamSource<managerv1.TopologyEvent> => ({
    subscribe: (signal) => backend.watchTopologies(name, signal),
    objectKey: topologyObjectKey,
    removes: (e) => e.type === managerv1.TopologyEvent_Type.DELETED,
  });
  const linkSource = (topology: string): StreamSource<managerv1.LinkInfo> => ({
    subscribe: (signal) => backend.watchLinks(topology, undefined, signal),
    objectKey: (link) => link.id,
    sameState: (a, b) => linkStateKey(a) === linkStateKey(b),
  });
  /** A link this service just changed, to its watchers at once. */
  const linkChanged = (link: managerv1.LinkInfo): managerv1.LinkInfo => {
    watchHub.publish(`links/${link.topology}`, link);
    return link;
  };
  const topologyService: ServiceImpl<typeof managerv1.TopologyService> = {
    createTopology: (req, ctx) =>
      guarded(async () => {
        const topology = await prepareTopology(req.topology, req.baseDir, "topology", limits);
        await checkHostConstraints(topology, options.readSysctl);
        const make = () =>
          backend.createTopology(topology, {
            dryRun: req.dryRun,
            timeoutMs: effectiveTimeout(durationMs(req.timeout), ctx),
            signal: ctx.signal,
            ...(req.imagePullSecrets.length > 0 ? { imagePullSecrets: imagePullSecretsFor(req.imagePullSecrets, backend.name) } : {}),
            forwarding: { all: req.forwardServices, ...(req.forwardAddress !== "" ? { address: req.forwardAddress } : {}) },
          });
        const view = req.dryRun ? await make() : await reconcile("create", make);
        return { topology: view.topology, status: view.status };
      }),
    getTopology: (req) =>
      guarded(async () => {
        const view = await backend.getTopology(required(req.name, "name"));
        return { topology: view.topology, status: view.status };
      }),
    listTopologies: () =>
      guarded(async () => ({
        topologies: (await backend.listTopologies()).map((v) =>
          create(managerv1.TopologySummarySchema, { name: v.topology.name, status: v.status, nodeCount: v.topology.nodes.length, linkCount: v.topology.links.length }),
        ),
      })),
    deleteTopology: (req) =>
      guarded(async () => {
        const name = required(req.name, "name");
        await reconcile("delete", () => backend.deleteTopology(name));
        return {};
      }),
    updateTopology: (req, ctx) =>
      guarded(async () => {
        const topology = await prepareTopology(req.topology, req.baseDir, "topology", limits);
        await checkHostConstraints(topology, options.readSysctl);
        const update = () => backend.updateTopology(topology, { dryRun: req.dryRun, timeoutMs: effectiveTimeout(durationMs(req.timeout), ctx) });
        const result = req.dryRun ? await update() : await reconcile("update", update);
        return { topology: result.view.topology, status: result.view.status, changes: result.changes };
      }),
    async *watchTopologies(req, ctx) {
      try {
        const name = req.name || undefined;
        // One backend subscription per name (or for all), shared by every watcher of it.
        for await (const e of watchHub.watch(`topologies/${name ?? ""}`, topologySource(name), { afterRevision: req.afterRevision, signal: ctx.signal })) {
          yield { event: { ...e.value, revision: e.revision, snapshot: e.snapshot } };
        }
      } catch (err) {
        if (!ctx.signal.aborted) throw toManagerConnectError(err);
      }
    },
    listServices: (req) => guarded(async () => ({ endpoints: await backend.listServices(required(req.topology, "topology")) })),
  };

  const findLinkInfo = async (topology: string, ref: string): Promise<managerv1.LinkInfo> => {
    const links = await backend.listLinks(required(topology, "topology"));
    const want = required(ref, "link").trim();
    const found = links.find((l) => {
      const a = l.a?.endpoint ? endpointRef(l.a.endpoint.node, l.a.endpoint.interface) : "";
      const z = l.z?.endpoint ? endpointRef(l.z.endpoint.node, l.z.endpoint.interface) : "";
      return l.id === want || `${z}--${a}` === want || a === want || z === want;
    });
    if (!found) throw new ManagerError("NOT_FOUND", `topology ${topology} has no link ${JSON.stringify(want)}; its links: ${links.map((l) => l.id).join(", ") || "none"}`);
    return found;
  };

  const linkService: ServiceImpl<typeof managerv1.LinkService> = {
    getLink: (req) => guarded(async () => ({ link: await findLinkInfo(req.topology, req.link) })),
    listLinks: (req) => guarded(async () => ({ links: await backend.listLinks(required(req.topology, "topology"), req.node || undefined) })),
    setLinkState: (req) =>
      guarded(async () => ({
        link: linkChanged(await backend.setLinkState(required(req.topology, "topology"), required(req.link, "link"), req.state, req.endpoint || undefined)),
      })),
    setLinkImpairments: (req) =>
      guarded(async () => ({
        link: linkChanged(
          await backend.setLinkImpairments(required(req.topology, "topology"), required(req.link, "link"), {
            ...(req.aToZ ? { aToZ: req.aToZ } : {}),
            ...(req.zToA ? { zToA: req.zToA } : {}),
          }),
        ),
      })),
    async *watchLinks(req, ctx) {
      try {
        const topology = required(req.topology, "topology");
        // Resolved once, here: an unknown topology or link is NOT_FOUND before the stream starts.
        const only = req.link ? (await findLinkInfo(topology, req.link)).id : undefined;
        if (!only) await backend.getTopology(topology);
        const filter = only ? (link: managerv1.LinkInfo) => link.id === only : undefined;
        // One backend subscription per topology, shared by every watcher of its links.
        for await (const e of watchHub.watch(`links/${topology}`, linkSource(topology), { afterRevision: req.afterRevision, signal: ctx.signal, ...(filter ? { filter } : {}) })) {
          yield { revision: e.revision, link: e.value, time: timestampFromMs(e.publishedAt), snapshot: e.snapshot };
        }
      } catch (err) {
        if (!ctx.signal.aborted) throw toManagerConnectError(err);
      }
    },
  };

  const nodeService: ServiceImpl<typeof managerv1.NodeService> = {
    getNode: (req) =>
      guarded(async () => {
        const nodes = await backend.listNodes(required(req.topology, "topology"));
        const found = nodes.find((n) => n.node.name === required(req.node, "node"));
        if (!found) throw new ManagerError("NOT_FOUND", `topology ${req.topology} has no node ${req.node}`);
        return found;
      }),
    listNodes: (req) => guarded(async () => ({ nodes: (await backend.listNodes(required(req.topology, "topology"))).map((n) => create(managerv1.GetNodeResponseSchema, n)) })),
    pushConfig: (req) =>
      guarded(async () => {
        await backend.pushConfig(required(req.topology, "topology"), required(req.node, "node"), req.config);
        return {};
      }),
    resetConfig: (req) =>
      guarded(async () => {
        await backend.resetConfig(required(req.topology, "topology"), req.node || undefined, req.push);
        return {};
      }),
    saveConfig: (req) => guarded(async () => ({ config: await backend.saveConfig(required(req.topology, "topology"), required(req.node, "node")) })),
    generateCertificate: (req) =>
      guarded(async () => {
        required(req.topology, "topology");
        required(req.node, "node");
        if (!backend.generateCertificate) throw new ManagerError("UNIMPLEMENTED", `certificates are not generated on the ${backend.name} backend`);
        const cert = await backend.generateCertificate(req.topology, req.node);
        return { certificatePem: cert.certificatePem, certificatePath: cert.certificatePath ?? "", keyPath: cert.keyPath ?? "" };
      }),
    execCommand: (req, ctx) =>
      guarded(async () => {
        // The call's deadline bounds the command as its own timeout does, and a cancelled call kills it.
        const deadline = ctx.timeoutMs();
        const timeoutMs = Math.min(req.timeoutMs > 0 ? req.timeoutMs : Infinity, deadline ?? Infinity);
        const out = await backend.execCommand(required(req.topology, "topology"), required(req.node, "node"), {
          argv: req.command,
          ...(req.stdin.length > 0 ? { stdin: req.stdin } : {}),
          ...(Number.isFinite(timeoutMs) ? { timeoutMs: Math.max(1, timeoutMs) } : {}),
          signal: ctx.signal,
        });
        return { exitCode: out.exitCode, stdout: out.stdout, stderr: out.stderr };
      }),
    async *execStream(requests, ctx) {
      try {
        const input = requests[Symbol.asyncIterator]();
        const first = await input.next();
        if (first.done) throw new ManagerError("INVALID_ARGUMENT", "the first request names the topology, node and command", [{ field: "command", description: "is required" }]);
        const req = first.value;
        if (!backend.execStream) throw new ManagerError("UNIMPLEMENTED", `streamed exec is not available on the ${backend.name} backend; use ExecCommand`);
        const session = await backend.execStream(required(req.topology, "topology"), required(req.node, "node"), {
          argv: req.command,
          ...(req.timeoutMs > 0 ? { timeoutMs: req.timeoutMs } : {}),
        }, ctx.signal);
        // Input is passed on while output streams back; the end of the requests closes stdin.
        const pump = async (message: managerv1.ExecStreamRequest): Promise<void> => {
          for (let m: IteratorResult<managerv1.ExecStreamRequest> = { done: false, value: message }; !m.done; m = await input.next()) {
            if (m.value.stdin.length > 0) session.write(m.value.stdin);
            if (m.value.closeStdin) session.closeStdin();
          }
          session.closeStdin();
        };
        void pump(req).catch(() => session.closeStdin());
        for await (const chunk of session.output) {
          yield chunk.exitCode !== undefined
            ? { exited: true, exitCode: chunk.exitCode }
            : { ...(chunk.stdout ? { stdout: chunk.stdout } : {}), ...(chunk.stderr ? { stderr: chunk.stderr } : {}) };
        }
      } catch (err) {
        if (!ctx.signal.aborted) throw toManagerConnectError(err);
      }
    },
    getNodeLogs: (req) =>
      guarded(async () => ({
        logs: new TextEncoder().encode(await backend.nodeLogs(required(req.topology, "topology"), required(req.node, "node"), { tailLines: req.tailLines })),
      })),
  };

  const clusterless = (method: string) => () =>
    guarded(async () => {
      throw new ManagerError(
        "UNIMPLEMENTED",
        `${method} is not served here: this topology manager runs topologies on the ${backend.name} backend and manages no cluster. ` +
          "Use CreateTopology/DeleteTopology/ShowTopology (or kne.manager.v1.TopologyService); to run in Kubernetes, install the topology-manager into the cluster with its Helm chart",
      );
    });
  const controllerState = (phase: managerv1.TopologyPhase): controller.TopologyState => {
    switch (phase) {
      case managerv1.TopologyPhase.RUNNING:
        return controller.TopologyState.RUNNING;
      case managerv1.TopologyPhase.ERROR:
        return controller.TopologyState.ERROR;
      case managerv1.TopologyPhase.UNSPECIFIED:
        return controller.TopologyState.UNSPECIFIED;
      default:
        return controller.TopologyState.CREATING;
    }
  };

  const logger = options.logger ?? createLogger({ name: "manager-services", level: "silent" });
  const clusters = options.kubecfgClusters;
  /** The cluster of a request's kubecfg; without clusters to choose from, this manager's backend. */
  const clusterFor = async (kubecfg: string): Promise<ClusterLease> => {
    if (clusters) return clusters.acquire(kubecfg);
    await checkKubecfg(kubecfg);
    if (kubecfg !== "") logger.info({ kubecfg, backend: backend.name }, "ignored the request's kubecfg: topologies run on this manager's backend");
    return { backend, kubecfg, own: true, release: () => {} };
  };
  const clusterOf = (name: string): Promise<ClusterLease> => (clusters ? clusters.clusterOf(name) : Promise.resolve({ backend, kubecfg: "", own: true, release: () => {} }));
  const inCluster = (lease: ClusterLease) => (err: unknown): never => {
    // Errors of another cluster say which one.
    if (lease.own) throw err;
    const where = ` (in the cluster of kubecfg ${JSON.stringify(lease.kubecfg)})`;
    if (err instanceof ManagerError) throw new ManagerError(err.code, err.message + where, err.violations, { cause: err });
    if (err instanceof ConnectError) throw new ConnectError(err.rawMessage + where, err.code, err.metadata, undefined, err);
    throw err;
  };

  const controllerService: ServiceImpl<typeof controller.TopologyManager> = {
    createTopology: (req, ctx) =>
      guarded(async () => {
        const topology = await prepareTopology(req.topology, "", "topology", limits);
        return withLease(clusterFor(req.kubecfg), async (lease) => {
          // Later requests name only the topology: its name picks one cluster.
          const other = clusters ? await clusters.elsewhere(topology.name, lease.backend) : undefined;
          if (other) throw new ManagerError("ALREADY_EXISTS", `topology ${topology.name} already exists in ${other}`);
          await checkHostConstraints(topology, options.readSysctl);
          const view = await lease.backend.createTopology(topology, { timeoutMs: effectiveTimeout(undefined, ctx), signal: ctx.signal }).catch(inCluster(lease));
          if (!lease.own) logger.info({ topology: topology.name, kubecfg: lease.kubecfg }, "created a topology in the cluster of a kubecfg");
          return { topologyName: view.topology.name, state: controllerState(view.status.phase), topology: view.topology };
        });
      }),
    deleteTopology: (req) =>
      guarded(async () => {
        const name = required(req.topologyName, "topology_name");
        await withLease(clusterOf(name), (lease) => lease.backend.deleteTopology(name).catch(inCluster(lease)));
        return {};
      }),
    showTopology: (req) =>
      guarded(async () => {
        const name = required(req.topologyName, "topology_name");
        const view = await withLease(clusterOf(name), (lease) => lease.backend.getTopology(name).catch(inCluster(lease)));
        return { state: controllerState(view.status.phase), topology: view.topology };
      }),
    pushConfig: (req) =>
      guarded(async () => {
        const name = required(req.topologyName, "topology_name");
        const device = required(req.deviceName, "device_name");
        await withLease(clusterOf(name), (lease) => lease.backend.pushConfig(name, device, req.config).catch(inCluster(lease)));
        return {};
      }),
    resetConfig: (req) =>
      guarded(async () => {
        const name = required(req.topologyName, "topology_name");
        const device = required(req.deviceName, "device_name");
        await withLease(clusterOf(name), (lease) => lease.backend.resetConfig(name, device, false).catch(inCluster(lease)));
        return {};
      }),
    createCluster: clusterless("CreateCluster"),
    deleteCluster: clusterless("DeleteCluster"),
    showCluster: clusterless("ShowCluster"),
    applyCluster: clusterless("ApplyCluster"),
    joinCluster: clusterless("JoinCluster"),
  };

  return { topology: topologyService, link: linkService, node: nodeService, controller: controllerService, watchHub };
}

/** The services as `startServer` takes them. */
export function managerRegistrations(services: ManagerServices): ServiceRegistration[] {
  return [
    serviceRegistration(managerv1.TopologyService, services.topology),
    serviceRegistration(managerv1.LinkService, services.link),
    serviceRegistration(managerv1.NodeService, services.node),
    serviceRegistration(controller.TopologyManager, services.controller),
  ];
}

/** Registers the services on a Connect router (in-process transport). */
export function registerManagerServices(router: ConnectRouter, services: ManagerServices): void {
  const pairs: Array<[DescService, object]> = [
    [managerv1.TopologyService, services.topology],
    [managerv1.LinkService, services.link],
    [managerv1.NodeService, services.node],
    [controller.TopologyManager, services.controller],
  ];
  for (const [desc, impl] of pairs) router.service(desc, impl as never);
}

