/**
 * Upstream's `CreateTopologyRequest.kubecfg` on the kubernetes backend: the cluster a request
 * names by a kubeconfig file on the manager's host. One kubernetes backend per cluster, made
 * and started at the first request that names it, shared by every later one, closed when its
 * cluster has held no topology for a while (and all of them on shutdown); a bounded number.
 *
 * A cluster is known by its API server URL, not by the file: two kubeconfigs for one server
 * would otherwise run two reconcilers over the same Topology objects. A kubecfg whose server
 * is the manager's own cluster uses the manager's own backend.
 *
 * The manager runs as root or with a ServiceAccount: a client that could name any file would
 * have it read (and a kubeconfig's `exec` user run). So only files under one directory the
 * operator chose (`allowedDir`, `--kubecfg-dir`) are read; without it, only the manager's own
 * kubeconfig may be named. Whether a path exists is answered for any path, as upstream does.
 */
import { realpath, stat } from "node:fs/promises";
import { isAbsolute, relative, resolve as resolvePath, sep } from "node:path";
import { Code } from "@connectrpc/connect";
import { loadKubeConfig } from "@kne/kube";
import { createLogger, type Logger } from "@kne/telemetry";
import type { RuntimeBackend } from "../backend.ts";
import { ManagerError } from "../errors.ts";
import type { ClusterLease, KubecfgClusterChooser } from "../services.ts";

/** A backend that starts before use: installs CRDs, fills its caches (KubernetesBackend). */
export interface StartableBackend extends RuntimeBackend {
  start(): Promise<void>;
}

export interface KubecfgClustersOptions {
  /** The manager's own backend and its cluster's API server URL. */
  own: { backend: RuntimeBackend; server: string };
  /** The manager's own kubeconfig files: naming one of them needs no `allowedDir`. */
  ownKubeconfigPaths?: readonly string[];
  /** The directory whose kubeconfigs requests may name (`--kubecfg-dir`); relative names are taken in it. */
  allowedDir?: string;
  /** Clusters besides the manager's own served at once (default 4). */
  maxClusters?: number;
  /** A cluster without topologies and calls for this long is closed (default 10 minutes). */
  idleMs?: number;
  /** A cluster that does not start (CRDs, caches) by then is UNAVAILABLE (default 30 s). */
  startTimeoutMs?: number;
  /** Makes the backend of another cluster from its kubeconfig file. */
  createBackend: (kubeconfigPath: string) => Promise<StartableBackend>;
  logger?: Logger;
  /** Milliseconds now (tests move it). */
  now?: () => number;
}

interface ClusterEntry {
  server: string;
  kubeconfigPath: string;
  backend: StartableBackend | undefined;
  ready: Promise<StartableBackend>;
  inUse: number;
  lastUsed: number;
}

const DEFAULT_MAX_CLUSTERS = 4;
const DEFAULT_IDLE_MS = 10 * 60_000;
const DEFAULT_START_TIMEOUT_MS = 30_000;

function isWithin(dir: string, path: string): boolean {
  const rel = relative(dir, path);
  return rel !== "" && !rel.startsWith(`..${sep}`) && rel !== ".." && !isAbsolute(rel);
}

function normalizedServer(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname.replace(/\/+$/, "")}`;
  } catch {
    return url;
  }
}

function violation(description: string) {
  return [{ field: "kubecfg", description }];
}

export class KubecfgClusters implements KubecfgClusterChooser {
  private readonly entries = new Map<string, ClusterEntry>();
  private readonly logger: Logger;
  private readonly now: () => number;
  private readonly ownServer: string;
  private sweeper: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly options: KubecfgClustersOptions) {
    this.logger = options.logger ?? createLogger({ name: "kubecfg-clusters", level: "silent" });
    this.now = options.now ?? Date.now;
    this.ownServer = normalizedServer(options.own.server);
    const idleMs = options.idleMs ?? DEFAULT_IDLE_MS;
    this.sweeper = setInterval(() => void this.closeIdle().catch((err: unknown) => this.logger.warn({ err }, "closing idle clusters failed")), Math.max(1000, Math.min(idleMs / 2, 60_000)));
    this.sweeper.unref();
  }

  /** The other clusters' backends now open, by kubeconfig file. */
  openClusters(): Array<{ server: string; kubeconfigPath: string; inUse: number }> {
    return [...this.entries.values()].map((e) => ({ server: e.server, kubeconfigPath: e.kubeconfigPath, inUse: e.inUse }));
  }

  /**
   * The backend of the cluster `kubecfg` names ("" → the manager's own), started, held until
   * `release`. INVALID_ARGUMENT for a path that is no file or no kubeconfig, PERMISSION_DENIED
   * for a file this manager may not read, UNAVAILABLE for a cluster that does not answer,
   * RESOURCE_EXHAUSTED when `maxClusters` others are in use.
   */
  async acquire(kubecfg: string): Promise<ClusterLease> {
    if (this.closed) throw new ManagerError("UNAVAILABLE", "the manager is shutting down");
    if (kubecfg === "") return this.ownLease("");
    const path = await this.readablePath(kubecfg);
    if (path === "own") return this.ownLease(kubecfg);
    let server: string;
    try {
      const cluster = loadKubeConfig(path).getCurrentCluster();
      server = normalizedServer(cluster!.server);
    } catch (err) {
      throw new ManagerError("INVALID_ARGUMENT", `kubecfg ${JSON.stringify(kubecfg)} is not a usable kubeconfig: ${(err as Error).message}`, violation("is not a kubeconfig with a current cluster"), { cause: err });
    }
    if (server === this.ownServer) return this.ownLease(kubecfg);
    const entry = this.entries.get(server) ?? this.open(server, path, kubecfg);
    entry.inUse++;
    entry.lastUsed = this.now();
    try {
      const backend = await entry.ready;
      return this.lease(entry, backend, kubecfg);
    } catch (err) {
      entry.inUse--;
      throw err;
    }
  }

  /**
   * The cluster that holds topology `name`: another cluster's open backend that has it, else
   * the manager's own (upstream's requests after create name only the topology).
   */
  async clusterOf(name: string): Promise<ClusterLease> {
    for (const entry of this.entries.values()) {
      const backend = entry.backend;
      if (!backend) continue;
      entry.inUse++;
      const has = await backend.getTopology(name).then(
        () => true,
        () => false,
      );
      if (has) {
        entry.lastUsed = this.now();
        return this.lease(entry, backend, entry.kubeconfigPath);
      }
      entry.inUse--;
    }
    return this.ownLease("");
  }

  /** Where else a topology of this name already runs (the manager's own cluster or another open one), for CreateTopology. */
  async elsewhere(name: string, except: RuntimeBackend): Promise<string | undefined> {
    const candidates: Array<[RuntimeBackend, string]> = [[this.options.own.backend, "the manager's own cluster"]];
    for (const e of this.entries.values()) if (e.backend) candidates.push([e.backend, `the cluster of kubecfg ${JSON.stringify(e.kubeconfigPath)}`]);
    for (const [backend, where] of candidates) {
      if (backend === except) continue;
      const has = await backend.getTopology(name).then(
        () => true,
        () => false,
      );
      if (has) return where;
    }
    return undefined;
  }

  /** Closes the other clusters that hold no topology and served no call for `idleMs`. */
  async closeIdle(): Promise<number> {
    const idleMs = this.options.idleMs ?? DEFAULT_IDLE_MS;
    let closed = 0;
    for (const [server, entry] of [...this.entries]) {
      if (!entry.backend || entry.inUse > 0 || this.now() - entry.lastUsed < idleMs) continue;
      const topologies = await entry.backend.listTopologies().catch(() => []);
      // A call may have taken it while the list ran.
      if (topologies.length > 0 || entry.inUse > 0 || this.entries.get(server) !== entry) continue;
      this.entries.delete(server);
      await entry.backend.close();
      this.logger.info({ kubecfg: entry.kubeconfigPath, server }, "closed the idle cluster of a kubecfg");
      closed++;
    }
    return closed;
  }

  /** Closes every other cluster's backend (not the manager's own). */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.sweeper);
    const entries = [...this.entries.values()];
    this.entries.clear();
    await Promise.all(entries.map((e) => e.ready.then((b) => b.close(), () => undefined)));
  }

  private ownLease(kubecfg: string): ClusterLease {
    return { backend: this.options.own.backend, kubecfg, own: true, release: () => {} };
  }

  private lease(entry: ClusterEntry, backend: RuntimeBackend, kubecfg: string): ClusterLease {
    let released = false;
    return {
      backend,
      kubecfg,
      own: false,
      release: () => {
        if (released) return;
        released = true;
        entry.inUse--;
        entry.lastUsed = this.now();
      },
    };
  }

  /** Resolves and checks the file a request names: "own" for the manager's kubeconfig, else its real path. */
  private async readablePath(kubecfg: string): Promise<string | "own"> {
    const dir = this.options.allowedDir;
    const absolute = isAbsolute(kubecfg) ? kubecfg : resolvePath(dir ?? ".", kubecfg);
    const found = await stat(absolute).catch((err: NodeJS.ErrnoException) => err);
    if (found instanceof Error || !found.isFile()) {
      const why = found instanceof Error ? (found.code ?? found.message) : "not a regular file";
      throw new ManagerError("INVALID_ARGUMENT", `kubecfg ${JSON.stringify(kubecfg)} does not exist: ${absolute}: ${why}`, violation("names no kubeconfig file"));
    }
    const real = await realpath(absolute);
    for (const own of this.options.ownKubeconfigPaths ?? []) {
      const ownReal = await realpath(own).catch(() => resolvePath(own));
      if (ownReal === real) return "own";
    }
    if (dir === undefined) {
      throw new ManagerError(
        "PERMISSION_DENIED",
        `kubecfg ${JSON.stringify(kubecfg)}: this manager reads no kubeconfig named by a request but its own; start it with --kubecfg-dir DIR to allow the kubeconfigs in DIR`,
        violation("is not the manager's own kubeconfig and no --kubecfg-dir is set"),
      );
    }
    const dirReal = await realpath(dir).catch(() => resolvePath(dir));
    if (!isWithin(dirReal, real)) {
      throw new ManagerError("PERMISSION_DENIED", `kubecfg ${JSON.stringify(kubecfg)} (${real}) is outside the kubeconfig directory of this manager (--kubecfg-dir ${dir})`, violation("is outside --kubecfg-dir"));
    }
    return real;
  }

  private open(server: string, kubeconfigPath: string, kubecfg: string): ClusterEntry {
    const max = this.options.maxClusters ?? DEFAULT_MAX_CLUSTERS;
    if (this.entries.size >= max) {
      throw new ManagerError(
        "RESOURCE_EXHAUSTED",
        `kubecfg ${JSON.stringify(kubecfg)}: this manager already serves ${this.entries.size} other clusters, its limit (--kubecfg-max-clusters ${max}); a cluster is let go ${Math.round((this.options.idleMs ?? DEFAULT_IDLE_MS) / 1000)} s after its last topology is deleted`,
      );
    }
    const entry = { server, kubeconfigPath, backend: undefined, inUse: 0, lastUsed: this.now() } as Omit<ClusterEntry, "ready"> as ClusterEntry;
    entry.ready = this.start(entry, kubecfg);
    // Not cached when it fails: the next request tries again (the cluster may be up by then).
    entry.ready.catch(() => {
      if (this.entries.get(server) === entry) this.entries.delete(server);
    });
    this.entries.set(server, entry);
    return entry;
  }

  private async start(entry: ClusterEntry, kubecfg: string): Promise<StartableBackend> {
    const started = this.now();
    let backend: StartableBackend;
    try {
      backend = await this.options.createBackend(entry.kubeconfigPath);
    } catch (err) {
      throw new ManagerError("INVALID_ARGUMENT", `kubecfg ${JSON.stringify(kubecfg)} is not a usable kubeconfig: ${(err as Error).message}`, violation("is not a usable kubeconfig"), { cause: err });
    }
    const timeoutMs = this.options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS;
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        backend.start(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
        }),
      ]);
    } catch (err) {
      await backend.close().catch(() => undefined);
      const code = (err as { code?: unknown }).code;
      // The API server's own refusals keep their code (UNAUTHENTICATED, PERMISSION_DENIED); anything else is a cluster that cannot be reached.
      const denied = code === Code.Unauthenticated || code === Code.PermissionDenied;
      const message = `kubecfg ${JSON.stringify(kubecfg)}: the cluster at ${entry.server} ${denied ? "refused this manager" : "cannot be reached"}: ${(err as Error).message}`;
      if (denied) throw new ManagerError(code === Code.Unauthenticated ? "UNAUTHENTICATED" : "PERMISSION_DENIED", message, [], { cause: err });
      throw new ManagerError("UNAVAILABLE", message, [], { cause: err });
    } finally {
      clearTimeout(timer);
    }
    if (this.closed) {
      await backend.close();
      throw new ManagerError("UNAVAILABLE", "the manager is shutting down");
    }
    entry.backend = backend;
    this.logger.info({ kubecfg: entry.kubeconfigPath, server: entry.server, ms: this.now() - started }, "started the cluster of a kubecfg");
    return backend;
  }
}
