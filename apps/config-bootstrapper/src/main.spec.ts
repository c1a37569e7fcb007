import { fileURLToPath } from "node:url";
import { Code, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { healthv1, bootstrapv1 } from "@kne/proto";
import { ServingStatus } from "@kne/rpc";
import { runProcess, startServerProcess } from "@kne/rpc/testing";
import { createLogger } from "@kne/telemetry";
import { describe, expect, it } from "vitest";
import { createConfigBootstrapperApp, configBootstrapperCommand } from "./index";

const bin = fileURLToPath(new URL("../bin/config-bootstrapper.mjs", import.meta.url));
const pending = "boot config, config push/reset/save and certificates land with @kne/bootstrap";

describe("config-bootstrapper", () => {
  it("serves health for its services and answers their methods UNIMPLEMENTED for now", async () => {
    const app = await createConfigBootstrapperApp({ port: 0, logger: createLogger({ name: "test", level: "silent" }) });
    try {
      const transport = createGrpcTransport({ baseUrl: app.url });
      const health = createClient(healthv1.Health, transport);
      expect((await health.check({})).status).toBe(ServingStatus.SERVING);
      for (const service of configBootstrapperCommand.services) {
        expect((await health.check({ service })).status).toBe(ServingStatus.SERVING);
      }
      await expect(createClient(bootstrapv1.BootstrapService, transport).pushConfig({})).rejects.toMatchObject({
        code: Code.Unimplemented,
        rawMessage: `not implemented yet: kne.bootstrap.v1.BootstrapService/PushConfig (${pending})`,
      });
    } finally {
      await app.close();
    }
  });

  it("runs as a process until SIGTERM, and explains itself with --help", async () => {
    const help = await runProcess(bin, ["--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("Usage: config-bootstrapper [flags]");
    expect(help.stdout).toContain("kne.bootstrap.v1.BootstrapService");

    const proc = await startServerProcess(bin, ["--log-level", "debug"]);
    const health = createClient(healthv1.Health, createGrpcTransport({ baseUrl: proc.url }));
    expect((await health.check({ service: "kne.bootstrap.v1.BootstrapService" })).status).toBe(ServingStatus.SERVING);
    expect(await proc.stop("SIGTERM")).toBe(0);
    expect(proc.lines.map((l) => l["msg"])).toEqual(
      expect.arrayContaining(["server started", "rpc completed", "shutdown requested", "server stopped"]),
    );
  }, 60_000);
});
