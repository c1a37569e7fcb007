import { fileURLToPath } from "node:url";
import { Code, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { healthv1, exposerv1 } from "@kne/proto";
import { ServingStatus } from "@kne/rpc";
import { runProcess, startServerProcess } from "@kne/rpc/testing";
import { createLogger } from "@kne/telemetry";
import { describe, expect, it } from "vitest";
import { createServiceExposerApp, serviceExposerCommand } from "./index";

const bin = fileURLToPath(new URL("../bin/service-exposer.mjs", import.meta.url));
const pending = "service exposure lands with @kne/exposer";

describe("service-exposer", () => {
  it("serves health for its services and answers their methods UNIMPLEMENTED for now", async () => {
    const app = await createServiceExposerApp({ port: 0, logger: createLogger({ name: "test", level: "silent" }) });
    try {
      const transport = createGrpcTransport({ baseUrl: app.url });
      const health = createClient(healthv1.Health, transport);
      expect((await health.check({})).status).toBe(ServingStatus.SERVING);
      for (const service of serviceExposerCommand.services) {
        expect((await health.check({ service })).status).toBe(ServingStatus.SERVING);
      }
      await expect(createClient(exposerv1.ExposerService, transport).exposeServices({})).rejects.toMatchObject({
        code: Code.Unimplemented,
        rawMessage: `not implemented yet: kne.exposer.v1.ExposerService/ExposeServices (${pending})`,
      });
    } finally {
      await app.close();
    }
  });

  it("runs as a process until SIGTERM, and explains itself with --help", async () => {
    const help = await runProcess(bin, ["--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("Usage: service-exposer [flags]");
    expect(help.stdout).toContain("kne.exposer.v1.ExposerService");

    const proc = await startServerProcess(bin, ["--log-level", "debug"]);
    const health = createClient(healthv1.Health, createGrpcTransport({ baseUrl: proc.url }));
    expect((await health.check({ service: "kne.exposer.v1.ExposerService" })).status).toBe(ServingStatus.SERVING);
    expect(await proc.stop("SIGTERM")).toBe(0);
    expect(proc.lines.map((l) => l["msg"])).toEqual(
      expect.arrayContaining(["server started", "rpc completed", "shutdown requested", "server stopped"]),
    );
  }, 60_000);
});
