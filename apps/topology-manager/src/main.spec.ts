import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { controller, healthv1, managerv1, topo } from "@kne/proto";
import { ServingStatus, fieldViolationsOf } from "@kne/rpc";
import { runProcess, startServerProcess } from "@kne/rpc/testing";
import { createLogger } from "@kne/telemetry";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTopologyManagerApp, topologyManagerCommand } from "./index";

const bin = fileURLToPath(new URL("../bin/topology-manager.mjs", import.meta.url));
let stateDir: string;

beforeAll(async () => {
  stateDir = await mkdtemp(join(tmpdir(), "kne-tm-"));
});
afterAll(async () => {
  await rm(stateDir, { recursive: true, force: true });
});

describe("topology-manager", () => {
  it("serves health and the manager services over the local backend", async () => {
    const app = await createTopologyManagerApp({ port: 0, logger: createLogger({ name: "test", level: "silent" }), stateDir });
    try {
      const transport = createGrpcTransport({ baseUrl: app.url });
      const health = createClient(healthv1.Health, transport);
      expect((await health.check({})).status).toBe(ServingStatus.SERVING);
      for (const service of topologyManagerCommand.services) {
        expect((await health.check({ service })).status).toBe(ServingStatus.SERVING);
      }
      const topologies = createClient(managerv1.TopologyService, transport);
      expect((await topologies.listTopologies({})).topologies).toEqual([]);
      await expect(topologies.getTopology({ name: "nope" })).rejects.toMatchObject({ code: Code.NotFound });

      // An invalid topology is refused with field violations, before anything is made.
      const bad = await topologies
        .createTopology({ topology: { name: "bad", nodes: [{ name: "r1", vendor: topo.Vendor.HOST }], links: [{ aNode: "r1", aInt: "eth1", zNode: "r9", zInt: "eth1" }] } })
        .catch((e: unknown) => e as ConnectError);
      expect(bad).toBeInstanceOf(ConnectError);
      expect((bad as ConnectError).code).toBe(Code.InvalidArgument);
      expect(fieldViolationsOf(bad as ConnectError).map((v) => v.field)).toContain("topology.links[0].z_node");

      const upstream = createClient(controller.TopologyManager, transport);
      await expect(upstream.createCluster({})).rejects.toMatchObject({ code: Code.Unimplemented, rawMessage: expect.stringContaining("CreateTopology") });
      await expect(upstream.showTopology({ topologyName: "nope" })).rejects.toMatchObject({ code: Code.NotFound });
    } finally {
      await app.close();
    }
  });

  it("runs as a process until SIGTERM, and explains itself with --help", async () => {
    const help = await runProcess(bin, ["--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("Usage: topology-manager [flags]");
    expect(help.stdout).toContain("kne.manager.v1.TopologyService");

    process.env["KNE_STATE_DIR"] = stateDir;
    const proc = await startServerProcess(bin, ["--log-level", "debug"]);
    delete process.env["KNE_STATE_DIR"];
    const health = createClient(healthv1.Health, createGrpcTransport({ baseUrl: proc.url }));
    expect((await health.check({ service: "kne.manager.v1.NodeService" })).status).toBe(ServingStatus.SERVING);
    expect(await proc.stop("SIGTERM")).toBe(0);
    expect(proc.lines.map((l) => l["msg"])).toEqual(expect.arrayContaining(["server started", "rpc completed", "shutdown requested", "server stopped"]));
  }, 60_000);
});
