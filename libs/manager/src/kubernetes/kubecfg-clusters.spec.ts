// The clusters a request's kubecfg names: which files may be read, how clusters are told
// apart, the errors, and the cache (shared, bounded, closed when idle). The cache's backends
// are small stand-ins that count what is done to them; the unreachable cluster is a real
// KubernetesBackend against a loopback port nobody listens on.
import { mkdtemp, mkdir, rm, symlink, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { RuntimeBackend, TopologyView } from "../backend.ts";
import { ManagerError } from "../errors.ts";
import { KubecfgClusters, type KubecfgClustersOptions, type StartableBackend } from "./kubecfg-clusters.ts";
import { KubernetesBackend } from "./kubernetes-backend.ts";

const kubeconfig = (server: string, user = "admin") => `apiVersion: v1
kind: Config
clusters:
- name: c
  cluster:
    server: ${server}
    insecure-skip-tls-verify: true
users:
- name: ${user}
  user:
    token: t-${user}
contexts:
- name: c
  context: {cluster: c, user: ${user}}
current-context: c
`;

/** A backend that holds topologies by name and records its starts and closes. */
class RecordingBackend {
  readonly name = "kubernetes";
  readonly topologies = new Set<string>();
  starts = 0;
  closed = false;
  constructor(readonly kubeconfigPath: string) {}
  async start(): Promise<void> {
    this.starts++;
    await new Promise((r) => setTimeout(r, 20));
  }
  async getTopology(name: string): Promise<TopologyView> {
    if (!this.topologies.has(name)) throw new ManagerError("NOT_FOUND", `topology ${name} not found`);
    return { topology: { name } as TopologyView["topology"], status: {} as TopologyView["status"] };
  }
  async listTopologies(): Promise<TopologyView[]> {
    return Promise.all([...this.topologies].map((n) => this.getTopology(n)));
  }
  async close(): Promise<void> {
    this.closed = true;
  }
}

async function codeOf(p: Promise<unknown>): Promise<{ code: string; message: string; fields: string[] }> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ManagerError);
  const m = err as ManagerError;
  return { code: m.code, message: m.message, fields: m.violations.map((v) => v.field) };
}

describe("KubecfgClusters", () => {
  let dir: string;
  let allowed: string;
  let ownPath: string;
  let own: RecordingBackend;
  let made: RecordingBackend[];
  let now: number;
  let clusters: KubecfgClusters | undefined;

  const make = (options: Partial<KubecfgClustersOptions> = {}) => {
    clusters = new KubecfgClusters({
      own: { backend: own as unknown as RuntimeBackend, server: "https://127.0.0.1:6443" },
      ownKubeconfigPaths: [ownPath],
      allowedDir: allowed,
      idleMs: 60_000,
      now: () => now,
      createBackend: async (path) => {
        const b = new RecordingBackend(path);
        made.push(b);
        return b as unknown as StartableBackend;
      },
      ...options,
    });
    return clusters;
  };

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "kubecfg-clusters-"));
    allowed = join(dir, "allowed");
    await mkdir(allowed);
    ownPath = join(dir, "own.yaml");
    await writeFile(ownPath, kubeconfig("https://127.0.0.1:6443"));
    own = new RecordingBackend(ownPath);
    made = [];
    now = 1_000_000;
  });

  afterEach(async () => {
    await clusters?.close();
    clusters = undefined;
    await rm(dir, { recursive: true, force: true });
  });

  it("uses the manager's own backend for no kubecfg, its own file (also through a symlink, without --kubecfg-dir) and another file for its server", async () => {
    const c = make({ allowedDir: undefined });
    expect((await c.acquire("")).backend).toBe(own);
    await symlink(ownPath, join(dir, "link.yaml"));
    expect((await c.acquire(join(dir, "link.yaml"))).own).toBe(true);
    await c.close();
    const withDir = make();
    await writeFile(join(allowed, "same-server.yaml"), kubeconfig("https://127.0.0.1:6443/", "someone-else"));
    const lease = await withDir.acquire("same-server.yaml");
    expect(lease.own).toBe(true);
    expect(lease.backend).toBe(own);
    expect(made).toHaveLength(0);
  });

  it("answers a path that names no file with INVALID_ARGUMENT naming it, as upstream", async () => {
    const c = make();
    const missing = join(dir, "nope.yaml");
    expect(await codeOf(c.acquire(missing))).toEqual({ code: "INVALID_ARGUMENT", message: expect.stringContaining(`kubecfg "${missing}" does not exist`), fields: ["kubecfg"] });
    expect((await codeOf(c.acquire(dir))).message).toContain("not a regular file");
  });

  it("reads no file but its own without --kubecfg-dir, and none outside it with one (symlinks followed)", async () => {
    const other = join(dir, "other.yaml");
    await writeFile(other, kubeconfig("https://127.0.0.1:7443"));
    const noDir = make({ allowedDir: undefined });
    const refused = await codeOf(noDir.acquire(other));
    expect(refused.code).toBe("PERMISSION_DENIED");
    expect(refused.message).toContain(`kubecfg "${other}"`);
    expect(refused.message).toContain("--kubecfg-dir");
    await noDir.close();

    const c = make();
    expect((await codeOf(c.acquire(other))).code).toBe("PERMISSION_DENIED");
    await symlink(other, join(allowed, "escape.yaml"));
    const escaped = await codeOf(c.acquire("escape.yaml"));
    expect(escaped.code).toBe("PERMISSION_DENIED");
    expect(escaped.message).toContain("outside the kubeconfig directory");
    expect((await codeOf(c.acquire(join(allowed, "..", "other.yaml")))).code).toBe("PERMISSION_DENIED");
    expect(made).toHaveLength(0);
  });

  it("answers a file that is no kubeconfig with INVALID_ARGUMENT naming it", async () => {
    const c = make();
    await writeFile(join(allowed, "garbage.yaml"), "clusters: [\n");
    await writeFile(join(allowed, "empty.yaml"), "apiVersion: v1\nkind: Config\n");
    for (const name of ["garbage.yaml", "empty.yaml"]) {
      const got = await codeOf(c.acquire(name));
      expect(got.code).toBe("INVALID_ARGUMENT");
      expect(got.message).toContain(`kubecfg "${name}" is not a usable kubeconfig`);
      expect(got.fields).toEqual(["kubecfg"]);
    }
  });

  it("answers a cluster that does not answer with UNAVAILABLE naming the kubecfg, and tries again at the next request", async () => {
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, "127.0.0.1", () => {
        const { port } = s.address() as { port: number };
        s.close(() => resolve(port));
      });
    });
    await writeFile(join(allowed, "down.yaml"), kubeconfig(`https://127.0.0.1:${port}`));
    let attempts = 0;
    const c = make({
      createBackend: async (path) => {
        attempts++;
        return new KubernetesBackend({ kubeconfigPath: path });
      },
    });
    const started = Date.now();
    const got = await codeOf(c.acquire("down.yaml"));
    expect(got.code).toBe("UNAVAILABLE");
    expect(got.message).toContain(`kubecfg "down.yaml": the cluster at https://127.0.0.1:${port} cannot be reached`);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(c.openClusters()).toEqual([]);
    expect((await codeOf(c.acquire("down.yaml"))).code).toBe("UNAVAILABLE");
    expect(attempts).toBe(2);
  });

  it("answers a cluster that does not start in time with UNAVAILABLE and closes what it made", async () => {
    await writeFile(join(allowed, "slow.yaml"), kubeconfig("https://127.0.0.1:7443"));
    const slow = new RecordingBackend("slow");
    slow.start = () => new Promise(() => {});
    const c = make({ startTimeoutMs: 200, createBackend: async () => slow as unknown as StartableBackend });
    const got = await codeOf(c.acquire("slow.yaml"));
    expect(got.code).toBe("UNAVAILABLE");
    expect(got.message).toContain("no answer within 200 ms");
    expect(slow.closed).toBe(true);
  });

  it("makes one backend per cluster: concurrent requests and two files for one server share it", async () => {
    await writeFile(join(allowed, "b.yaml"), kubeconfig("https://127.0.0.1:7443"));
    await writeFile(join(allowed, "b-other-user.yaml"), kubeconfig("https://127.0.0.1:7443", "other"));
    const c = make();
    const leases = await Promise.all([c.acquire("b.yaml"), c.acquire("b.yaml"), c.acquire(join(allowed, "b-other-user.yaml"))]);
    expect(made).toHaveLength(1);
    expect(made[0]!.starts).toBe(1);
    expect(made[0]!.kubeconfigPath).toBe(join(allowed, "b.yaml"));
    for (const l of leases) expect(l.backend).toBe(made[0]);
    expect(leases.map((l) => l.own)).toEqual([false, false, false]);
    expect(c.openClusters()).toEqual([{ server: "https://127.0.0.1:7443", kubeconfigPath: join(allowed, "b.yaml"), inUse: 3 }]);
    for (const l of leases) l.release();
    expect(c.openClusters()[0]!.inUse).toBe(0);
  });

  it("finds a topology's cluster by its name, and where else a name is taken", async () => {
    await writeFile(join(allowed, "b.yaml"), kubeconfig("https://127.0.0.1:7443"));
    const c = make();
    const lease = await c.acquire("b.yaml");
    made[0]!.topologies.add("lab");
    own.topologies.add("home");
    lease.release();
    const found = await c.clusterOf("lab");
    expect(found.backend).toBe(made[0]);
    expect(found.kubecfg).toBe(join(allowed, "b.yaml"));
    found.release();
    expect((await c.clusterOf("home")).backend).toBe(own);
    expect((await c.clusterOf("unknown")).own).toBe(true);
    expect(await c.elsewhere("home", made[0] as unknown as RuntimeBackend)).toBe("the manager's own cluster");
    expect(await c.elsewhere("lab", own as unknown as RuntimeBackend)).toBe(`the cluster of kubecfg "${join(allowed, "b.yaml")}"`);
    expect(await c.elsewhere("lab", made[0] as unknown as RuntimeBackend)).toBeUndefined();
    expect(c.openClusters()[0]!.inUse).toBe(0);
  });

  it("bounds the clusters, and closes one that held no topology and served no call for the idle time", async () => {
    await writeFile(join(allowed, "b.yaml"), kubeconfig("https://127.0.0.1:7443"));
    await writeFile(join(allowed, "c.yaml"), kubeconfig("https://127.0.0.1:8443"));
    const c = make({ maxClusters: 1 });
    const b = await c.acquire("b.yaml");
    const full = await codeOf(c.acquire("c.yaml"));
    expect(full.code).toBe("RESOURCE_EXHAUSTED");
    expect(full.message).toContain("--kubecfg-max-clusters 1");
    made[0]!.topologies.add("lab");
    b.release();
    now += 120_000;
    expect(await c.closeIdle()).toBe(0); // it holds a topology
    made[0]!.topologies.delete("lab");
    now += 30_000;
    const again = await c.acquire("b.yaml"); // a call: it is used again
    again.release();
    now += 30_000;
    expect(await c.closeIdle()).toBe(0); // used 30 s ago
    now += 60_000;
    expect(await c.closeIdle()).toBe(1);
    expect(made[0]!.closed).toBe(true);
    const cLease = await c.acquire("c.yaml");
    expect(cLease.backend).toBe(made[1]);
    await c.close();
    expect(made[1]!.closed).toBe(true);
    expect((await codeOf(c.acquire("b.yaml"))).code).toBe("UNAVAILABLE");
    expect(own.closed).toBe(false);
  });
});
