import { X509Certificate, createPrivateKey } from "node:crypto";
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

describe("config-bootstrapper", () => {
  it("generates certificates over its API, and says where configs are applied instead", async () => {
    const app = await createConfigBootstrapperApp({ port: 0, logger: createLogger({ name: "test", level: "silent" }) });
    try {
      const transport = createGrpcTransport({ baseUrl: app.url });
      const health = createClient(healthv1.Health, transport);
      for (const service of configBootstrapperCommand.services) {
        expect((await health.check({ service })).status).toBe(ServingStatus.SERVING);
      }
      const bootstrap = createClient(bootstrapv1.BootstrapService, transport);
      const r = await bootstrap.generateCertificate({ topology: "lab", node: "r1", selfSigned: { commonName: "r1.lab", keySize: 2048 }, ipAddresses: ["192.0.2.1"] });
      const cert = new X509Certificate(r.certificatePem);
      expect(cert.subject).toBe("CN=r1.lab");
      expect(cert.subjectAltName).toBe("DNS:r1, DNS:r1.lab, IP Address:192.0.2.1");
      expect(cert.checkPrivateKey(createPrivateKey(Buffer.from(r.privateKeyPem)))).toBe(true);
      await expect(bootstrap.generateCertificate({ node: "r1", selfSigned: { keySize: 100 } })).rejects.toMatchObject({ code: Code.InvalidArgument });
      await expect(bootstrap.pushConfig({})).rejects.toMatchObject({
        code: Code.Unimplemented,
        rawMessage: expect.stringContaining("PushConfig is not served by the config-bootstrapper"),
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
