import { type AddressInfo, connect, createServer } from "node:net";
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

function ask(port: number, text: string): Promise<string> {
  return new Promise((resolve) => {
    const s = connect({ host: "127.0.0.1", port }, () => s.write(text));
    const chunks: Buffer[] = [];
    let failure = "";
    s.on("data", (b: Buffer) => chunks.push(b));
    s.on("error", (err: NodeJS.ErrnoException) => (failure = `error ${err.code}`));
    s.on("close", () => resolve(chunks.length > 0 ? Buffer.concat(chunks).toString("utf8") : failure));
  });
}

describe("service-exposer", () => {
  it("forwards host ports to node services over its API, lists them and removes them", async () => {
    // Stands in for a node's service on its address (loopback here).
    const node = createServer((s) => s.once("data", (d: Buffer) => s.end(`node says ${d.toString("utf8")}`)));
    await new Promise<void>((r) => node.listen(0, "127.0.0.1", r));
    const inside = (node.address() as AddressInfo).port;
    const app = await createServiceExposerApp({ port: 0, logger: createLogger({ name: "test", level: "silent" }) });
    try {
      const transport = createGrpcTransport({ baseUrl: app.url });
      const health = createClient(healthv1.Health, transport);
      for (const service of serviceExposerCommand.services) expect((await health.check({ service })).status).toBe(ServingStatus.SERVING);
      const exposer = createClient(exposerv1.ExposerService, transport);
      const r = await exposer.exposeServices({ topology: "lab", node: "r1", nodeAddress: "127.0.0.1", services: { 22: { name: "ssh", inside } }, hostPorts: true });
      expect(r.services).toHaveLength(1);
      const s = r.services[0]!;
      expect(s).toMatchObject({ node: "r1", address: "127.0.0.1", service: { outside: 22, inside, insideIp: "127.0.0.1", outsideIp: "127.0.0.1", nodePort: s.port } });
      expect(await ask(s.port, "hi")).toBe("node says hi");
      expect((await exposer.listEndpoints({ topology: "lab" })).services.map((e) => e.port)).toEqual([s.port]);
      await exposer.unexposeServices({ topology: "lab" });
      expect((await exposer.listEndpoints({ topology: "lab" })).services).toEqual([]);
      expect(await ask(s.port, "hi")).toBe("error ECONNREFUSED");
      await expect(exposer.exposeServices({ topology: "lab", node: "r1", nodeAddress: "r1", services: {}, hostPorts: true })).rejects.toMatchObject({ code: Code.InvalidArgument });
    } finally {
      await app.close();
      await new Promise((r) => node.close(r));
    }
  });

  it("runs as a process until SIGTERM, and explains itself with --help", async () => {
    const help = await runProcess(bin, ["--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("Usage: service-exposer [flags]");
    expect(help.stdout).toContain("kne.exposer.v1.ExposerService");
    expect(help.stdout).toContain("--forward-address <ip>");
    const bad = await runProcess(bin, ["--forward-address", "everywhere"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--forward-address must be an IP address of this host (for example 127.0.0.1), got "everywhere"');

    const proc = await startServerProcess(bin, ["--log-level", "debug", "--forward-address", "127.0.0.1"]);
    const health = createClient(healthv1.Health, createGrpcTransport({ baseUrl: proc.url }));
    expect((await health.check({ service: "kne.exposer.v1.ExposerService" })).status).toBe(ServingStatus.SERVING);
    expect(await proc.stop("SIGTERM")).toBe(0);
    expect(proc.lines.map((l) => l["msg"])).toEqual(
      expect.arrayContaining(["server started", "rpc completed", "shutdown requested", "server stopped"]),
    );
  }, 60_000);
});
