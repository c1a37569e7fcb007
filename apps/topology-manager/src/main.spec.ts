import { fileURLToPath } from "node:url";
import { Code, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { controller, healthv1, managerv1 } from "@kne/proto";
import { ServingStatus } from "@kne/rpc";
import { runProcess, startServerProcess } from "@kne/rpc/testing";
import { createLogger } from "@kne/telemetry";
import { describe, expect, it } from "vitest";
import { createTopologyManagerApp, topologyManagerCommand } from "./index";

const bin = fileURLToPath(new URL("../bin/topology-manager.mjs", import.meta.url));
const pending = "the topology manager implementation lands with @kne/manager";

describe("topology-manager", () => {
  it("serves health for its services and answers their methods UNIMPLEMENTED for now", async () => {
    const app = await createTopologyManagerApp({ port: 0, logger: createLogger({ name: "test", level: "silent" }) });
    try {
      const transport = createGrpcTransport({ baseUrl: app.url });
      const health = createClient(healthv1.Health, transport);
      expect((await health.check({})).status).toBe(ServingStatus.SERVING);
      for (const service of topologyManagerCommand.services) {
        expect((await health.check({ service })).status).toBe(ServingStatus.SERVING);
      }
      await expect(createClient(managerv1.TopologyService, transport).createTopology({})).rejects.toMatchObject({
        code: Code.Unimplemented,
        rawMessage: `not implemented yet: kne.manager.v1.TopologyService/CreateTopology (${pending})`,
      });
      await expect(createClient(managerv1.LinkService, transport).setLinkState({})).rejects.toMatchObject({
        code: Code.Unimplemented,
        rawMessage: `not implemented yet: kne.manager.v1.LinkService/SetLinkState (${pending})`,
      });
      await expect(createClient(controller.TopologyManager, transport).showTopology({ topologyName: "t" })).rejects.toMatchObject({
        code: Code.Unimplemented,
        rawMessage: `not implemented yet: controller.TopologyManager/ShowTopology (${pending})`,
      });
    } finally {
      await app.close();
    }
  });

  it("runs as a process until SIGTERM, and explains itself with --help", async () => {
    const help = await runProcess(bin, ["--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("Usage: topology-manager [flags]");
    expect(help.stdout).toContain("kne.manager.v1.TopologyService");

    const proc = await startServerProcess(bin, ["--log-level", "debug"]);
    const health = createClient(healthv1.Health, createGrpcTransport({ baseUrl: proc.url }));
    expect((await health.check({ service: "kne.manager.v1.NodeService" })).status).toBe(ServingStatus.SERVING);
    expect(await proc.stop("SIGTERM")).toBe(0);
    expect(proc.lines.map((l) => l["msg"])).toEqual(
      expect.arrayContaining(["server started", "rpc completed", "shutdown requested", "server stopped"]),
    );
  }, 60_000);
});
