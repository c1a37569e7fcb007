import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, createRouterTransport } from "@connectrpc/connect";
import { controller, managerv1, topo } from "@kne/proto";
import { fieldViolationsOf } from "@kne/rpc";
import { createLogger } from "@kne/telemetry";
import { describe, expect, it } from "vitest";
import type { RuntimeBackend, TopologyView } from "./backend.ts";
import { ManagerError } from "./errors.ts";
import { KubecfgClusters, type StartableBackend } from "./kubernetes/kubecfg-clusters.ts";
import { type ManagerServiceOptions, createManagerServices, registerManagerServices } from "./services.ts";

/** A backend that records calls and answers from memory. */
function fakeBackend(): RuntimeBackend & { calls: string[] } {
  const topologies = new Map<string, TopologyView>();
  const calls: string[] = [];
  const missing = (name: string) => new ManagerError("NOT_FOUND", `topology ${name} does not exist`);
  return {
    name: "fake",
    calls,
    async createTopology(t, o) {
      calls.push(`create ${t.name}${o?.dryRun ? " dry" : ""}`);
      if (topologies.has(t.name)) throw new ManagerError("ALREADY_EXISTS", `topology ${t.name} already exists`);
      const view = { topology: t, status: create(managerv1.TopologyStatusSchema, { phase: managerv1.TopologyPhase.RUNNING, backend: "fake" }) };
      if (!o?.dryRun) topologies.set(t.name, view);
      return view;
    },
    async deleteTopology(name) {
      calls.push(`delete ${name}`);
      if (!topologies.delete(name)) throw missing(name);
    },
    async getTopology(name) {
      const v = topologies.get(name);
      if (!v) throw missing(name);
      return v;
    },
    async listTopologies() {
      return [...topologies.values()];
    },
    async updateTopology(t) {
      return { view: { topology: t, status: create(managerv1.TopologyStatusSchema) }, changes: [] };
    },
    async listLinks() {
      return [];
    },
    async setLinkState() {
      throw new ManagerError("NOT_FOUND", "no link");
    },
    async setLinkImpairments() {
      throw new ManagerError("NOT_FOUND", "no link");
    },
    async listNodes() {
      return [];
    },
    async execCommand(_t, _n, r) {
      calls.push(`exec ${r.argv.join(" ")}`);
      return { exitCode: 3, stdout: new TextEncoder().encode("out"), stderr: new Uint8Array() };
    },
    async nodeLogs() {
      return "log line\n";
    },
    async pushConfig(t, n, c) {
      calls.push(`push ${t}/${n} ${new TextDecoder().decode(c)}`);
    },
    async resetConfig(t, n, push) {
      calls.push(`reset ${t}/${n ?? "*"} ${push}`);
    },
    async saveConfig() {
      return new Uint8Array();
    },
    async listServices() {
      return [];
    },
    async *watchTopologies() {},
    async *watchLinks() {},
    async close() {},
  };
}

function clients(backend: RuntimeBackend, options: ManagerServiceOptions = {}) {
  const transport = createRouterTransport((router) => registerManagerServices(router, createManagerServices(backend, options)));
  return {
    topology: createClient(managerv1.TopologyService, transport),
    node: createClient(managerv1.NodeService, transport),
    upstream: createClient(controller.TopologyManager, transport),
  };
}

const host = (name: string) => create(topo.NodeSchema, { name, vendor: topo.Vendor.HOST });

describe("manager services", () => {
  it("refuses an invalid topology with every problem as a field violation, before the backend is called", async () => {
    const backend = fakeBackend();
    const { topology } = clients(backend);
    const err = await topology
      .createTopology({
        topology: { name: "Bad_Name", nodes: [host("h1"), host("h1")], links: [{ aNode: "h1", aInt: "eth1", zNode: "h9", zInt: "eth1" }] },
      })
      .then(() => undefined, (e: unknown) => e as ConnectError) as ConnectError;
    expect(err).toBeInstanceOf(ConnectError);
    expect(err.code).toBe(Code.InvalidArgument);
    const fields = fieldViolationsOf(err).map((v) => v.field);
    expect(fields).toEqual(expect.arrayContaining(["topology.name", "topology.links[0].z_node"]));
    expect(fields.length).toBeGreaterThanOrEqual(3);
    expect(backend.calls).toEqual([]);
  });

  it("refuses image pull secrets on a backend that pulls no images, before the backend is called", async () => {
    const backend = fakeBackend();
    const t = { name: "lab", nodes: [host("h1")] };
    const err = await clients(backend).topology.createTopology({ topology: t, imagePullSecrets: ["regcred"] }).then(() => undefined, (e: unknown) => e as ConnectError) as ConnectError;
    expect(err.code).toBe(Code.InvalidArgument);
    expect(err.rawMessage).toContain("fake backend");
    expect(fieldViolationsOf(err).map((v) => v.field)).toEqual(["image_pull_secrets"]);
    expect(backend.calls).toEqual([]);
  });

  it("requires a topology and names the missing field", async () => {
    const err = await clients(fakeBackend()).topology.createTopology({}).then(() => undefined, (e: unknown) => e as ConnectError) as ConnectError;
    expect(err.code).toBe(Code.InvalidArgument);
    expect(fieldViolationsOf(err)).toEqual([{ field: "topology", description: "is required" }]);
  });

  it("passes valid topologies on and maps backend errors to their codes", async () => {
    const backend = fakeBackend();
    const { topology } = clients(backend);
    const t = { name: "lab", nodes: [host("h1"), host("h2")], links: [{ aNode: "h1", aInt: "eth1", zNode: "h2", zInt: "eth1" }] };
    expect((await topology.createTopology({ topology: t, dryRun: true })).topology?.name).toBe("lab");
    await topology.createTopology({ topology: t });
    await expect(topology.createTopology({ topology: t })).rejects.toMatchObject({ code: Code.AlreadyExists });
    expect((await topology.listTopologies({})).topologies.map((s) => [s.name, s.nodeCount, s.linkCount])).toEqual([["lab", 2, 1]]);
    await topology.deleteTopology({ name: "lab" });
    await expect(topology.deleteTopology({ name: "lab" })).rejects.toMatchObject({ code: Code.NotFound });
    await expect(topology.getTopology({ name: "" })).rejects.toMatchObject({ code: Code.InvalidArgument });
    expect(backend.calls).toEqual(["create lab dry", "create lab", "create lab", "delete lab", "delete lab"]);
  });

  it("refuses topologies beyond the configured limits before the backend sees them, naming limit and count", async () => {
    const backend = fakeBackend();
    const { topology, upstream } = clients(backend, { limits: { maxNodes: 2, maxLinks: 1 } });
    const three = { name: "big", nodes: [host("h1"), host("h2"), host("h3")] };
    const err = (await topology.createTopology({ topology: three }).then(() => undefined, (e: unknown) => e)) as ConnectError;
    expect(err.code).toBe(Code.InvalidArgument);
    expect(fieldViolationsOf(err)).toEqual([{ field: "topology.nodes", description: "3 nodes exceed this manager's limit of 2 nodes per topology (max-nodes)" }]);
    const twoLinks = {
      name: "links",
      nodes: [host("h1"), host("h2")],
      links: [
        { aNode: "h1", aInt: "eth1", zNode: "h2", zInt: "eth1" },
        { aNode: "h1", aInt: "eth2", zNode: "h2", zInt: "eth2" },
      ],
    };
    await expect(topology.updateTopology({ topology: twoLinks })).rejects.toMatchObject({ code: Code.InvalidArgument, rawMessage: expect.stringContaining("2 links exceed this manager's limit of 1 links per topology (max-links)") });
    await expect(upstream.createTopology({ topology: three })).rejects.toMatchObject({ code: Code.InvalidArgument });
    expect(backend.calls).toEqual([]);
    await topology.createTopology({ topology: { name: "ok", nodes: [host("h1"), host("h2")] } });
    expect(backend.calls).toEqual(["create ok"]);
  });

  it("refuses a relative config file when the request has no base_dir", async () => {
    const node = host("h1");
    node.config = create(topo.ConfigSchema, { configData: { case: "file", value: "h1.conf" } });
    const err = await clients(fakeBackend())
      .topology.createTopology({ topology: { name: "lab", nodes: [node] } })
      .then(() => undefined, (e: unknown) => e as ConnectError) as ConnectError;
    expect(err.code).toBe(Code.InvalidArgument);
    expect(fieldViolationsOf(err)[0]?.field).toBe("topology.nodes[h1].config.file");
  });

  it("serves node operations and upstream's controller service", async () => {
    const backend = fakeBackend();
    const { node, upstream, topology } = clients(backend);
    const r = await node.execCommand({ topology: "lab", node: "h1", command: ["ip", "link"] });
    expect([r.exitCode, new TextDecoder().decode(r.stdout)]).toEqual([3, "out"]);
    expect(new TextDecoder().decode((await node.getNodeLogs({ topology: "lab", node: "h1" })).logs)).toBe("log line\n");
    await node.resetConfig({ topology: "lab", push: true });
    await expect(node.generateCertificate({ topology: "lab", node: "h1" })).rejects.toMatchObject({ code: Code.Unimplemented });
    await upstream.pushConfig({ topologyName: "lab", deviceName: "h1", config: new TextEncoder().encode("x") });
    await upstream.resetConfig({ topologyName: "lab", deviceName: "h1" });
    for (const call of [() => upstream.createCluster({}), () => upstream.deleteCluster({}), () => upstream.showCluster({}), () => upstream.applyCluster({}), () => upstream.joinCluster({})]) {
      await expect(call()).rejects.toMatchObject({ code: Code.Unimplemented, rawMessage: expect.stringContaining("Use CreateTopology") });
    }
    await topology.createTopology({ topology: { name: "lab", nodes: [host("h1")] } });
    expect(await upstream.showTopology({ topologyName: "lab" })).toMatchObject({ state: controller.TopologyState.RUNNING, topology: { name: "lab" } });
    expect(backend.calls).toEqual(["exec ip link", "reset lab/* true", "push lab/h1 x", "reset lab/h1 false", "create lab"]);
  });

  it("answers upstream's CreateTopology naming a kubecfg that does not exist with INVALID_ARGUMENT, before anything is made", async () => {
    const backend = fakeBackend();
    const { upstream } = clients(backend);
    const missing = join(tmpdir(), `kne-no-such-kubeconfig-${process.pid}`);
    const err = await upstream
      .createTopology({ topology: { name: "lab", nodes: [host("h1")] }, kubecfg: missing })
      .then(() => undefined, (e: unknown) => e as ConnectError) as ConnectError;
    expect(err.code).toBe(Code.InvalidArgument);
    expect(err.rawMessage).toContain(`kubecfg "${missing}" does not exist`);
    expect(fieldViolationsOf(err).map((v) => v.field)).toEqual(["kubecfg"]);
    expect(backend.calls).toEqual([]);
    // An existing file is not opened: without clusters to choose from (the local backend) the
    // topology runs on this manager's backend, and the log says the kubecfg was ignored.
    const lines: string[] = [];
    const logger = createLogger({ name: "test", level: "info", destination: { write: (line: string) => void lines.push(line) } });
    const existing = join(tmpdir(), `kne-kubeconfig-${process.pid}`);
    writeFileSync(existing, "apiVersion: v1\nkind: Config\n");
    try {
      await clients(backend, { logger }).upstream.createTopology({ topology: { name: "lab", nodes: [host("h1")] }, kubecfg: existing });
    } finally {
      rmSync(existing, { force: true });
    }
    expect(backend.calls).toEqual(["create lab"]);
    expect(lines.map((l) => JSON.parse(l) as Record<string, unknown>)).toContainEqual(
      expect.objectContaining({ msg: "ignored the request's kubecfg: topologies run on this manager's backend", kubecfg: existing, backend: "fake" }),
    );
  });

  it("sends upstream's calls to the cluster a kubecfg named at create: Show, Push, Reset and Delete follow the topology's name", async () => {
    const dir = mkdtempSync(join(tmpdir(), "kne-kubecfg-routing-"));
    const kubeconfig = (server: string) =>
      `apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {server: "${server}"}\nusers:\n- name: u\n  user: {token: t}\n` +
      "contexts:\n- name: c\n  context: {cluster: c, user: u}\ncurrent-context: c\n";
    writeFileSync(join(dir, "b.yaml"), kubeconfig("https://127.0.0.1:7443"));
    const own = fakeBackend();
    const other = Object.assign(fakeBackend(), { start: async () => {} });
    const kubecfgClusters = new KubecfgClusters({ own: { backend: own, server: "https://127.0.0.1:6443" }, allowedDir: dir, createBackend: async () => other as StartableBackend });
    try {
      const { upstream } = clients(own, { kubecfgClusters });
      const created = await upstream.createTopology({ topology: { name: "lab", nodes: [host("h1")] }, kubecfg: "b.yaml" });
      expect(created.topologyName).toBe("lab");
      expect(other.calls).toEqual(["create lab"]);
      expect(own.calls).toEqual([]);
      expect(await upstream.showTopology({ topologyName: "lab" })).toMatchObject({ state: controller.TopologyState.RUNNING, topology: { name: "lab" } });
      await upstream.pushConfig({ topologyName: "lab", deviceName: "h1", config: new TextEncoder().encode("x") });
      await upstream.resetConfig({ topologyName: "lab", deviceName: "h1" });
      // One name, one cluster: not again in the manager's own.
      await expect(upstream.createTopology({ topology: { name: "lab", nodes: [host("h1")] } })).rejects.toMatchObject({
        code: Code.AlreadyExists,
        rawMessage: `topology lab already exists in the cluster of kubecfg "${join(dir, "b.yaml")}"`,
      });
      // The other cluster's own refusal says which cluster it came from.
      await expect(upstream.createTopology({ topology: { name: "lab", nodes: [host("h1")] }, kubecfg: "b.yaml" })).rejects.toMatchObject({
        code: Code.AlreadyExists,
        rawMessage: 'topology lab already exists (in the cluster of kubecfg "b.yaml")',
      });
      await upstream.deleteTopology({ topologyName: "lab" });
      expect(other.calls).toEqual(["create lab", "push lab/h1 x", "reset lab/h1 false", "create lab", "delete lab"]);
      expect(own.calls).toEqual([]);
      // Gone from the other cluster: the name is looked for in the manager's own again.
      await expect(upstream.showTopology({ topologyName: "lab" })).rejects.toMatchObject({ code: Code.NotFound, rawMessage: "topology lab does not exist" });
      await expect(upstream.createTopology({ topology: { name: "lab", nodes: [host("h1")] }, kubecfg: join(dir, "..", "elsewhere.yaml") })).rejects.toMatchObject({ code: Code.InvalidArgument });
    } finally {
      await kubecfgClusters.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
