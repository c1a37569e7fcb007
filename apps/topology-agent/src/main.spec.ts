import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Code, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { healthv1, agentv1 } from "@kne/proto";
import { FlagError, ServingStatus } from "@kne/rpc";
import { runProcess, startServerProcess } from "@kne/rpc/testing";
import { createLogger } from "@kne/telemetry";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTopologyAgentApp, splitAgentFlags, topologyAgentCommand } from "./index";

const bin = fileURLToPath(new URL("../bin/topology-agent.mjs", import.meta.url));

describe("topology-agent", () => {
  let stateDir: string;
  beforeAll(async () => {
    stateDir = await mkdtemp(join(tmpdir(), "kne-agent-spec-"));
  });
  afterAll(async () => {
    await rm(stateDir, { recursive: true, force: true });
  });

  it("serves health and AgentService, checking requests before they reach the kernel", async () => {
    const app = await createTopologyAgentApp({ port: 0, stateDir, resyncIntervalMs: 0, logger: createLogger({ name: "test", level: "silent" }) });
    try {
      const transport = createGrpcTransport({ baseUrl: app.url });
      const health = createClient(healthv1.Health, transport);
      expect((await health.check({})).status).toBe(ServingStatus.SERVING);
      for (const service of topologyAgentCommand.services) {
        expect((await health.check({ service })).status).toBe(ServingStatus.SERVING);
      }
      const agent = createClient(agentv1.AgentService, transport);
      await expect(agent.applyWires({ topology: "Bad_Name" })).rejects.toMatchObject({ code: Code.InvalidArgument, rawMessage: expect.stringContaining("topology") });
      await expect(
        agent.applyWires({ topology: "t1", generation: 1n, wires: [{ uid: 1n, a: { node: "r1", interface: "eth1/x" }, peer: { case: "z", value: { node: "r2", interface: "eth1" } } }] }),
      ).rejects.toMatchObject({ code: Code.InvalidArgument, rawMessage: expect.stringContaining("wires[0].a.interface") });
      await expect(agent.getInterfaces({ topology: "nothing-here" })).rejects.toMatchObject({ code: Code.NotFound });
      await expect(agent.setLinkState({ topology: "nothing-here", node: "r1", interface: "eth1", state: 2 })).rejects.toMatchObject({ code: Code.NotFound });
    } finally {
      await app.close();
    }
  });

  it("reads its own flags beside the common server flags", () => {
    expect(splitAgentFlags(["--port", "0", "--state-dir", "/tmp/x", "--underlay-address=198.18.0.1", "--namespace-scope", "listed"])).toEqual({
      agent: { stateDir: "/tmp/x", underlayAddress: "198.18.0.1", namespaceScope: "listed" },
      rest: ["--port", "0"],
    });
    expect(splitAgentFlags([]).agent.stateDir).toBe("/var/lib/kne/agent");
    expect(() => splitAgentFlags(["--namespace-scope", "all"])).toThrow(FlagError);
    expect(() => splitAgentFlags(["--state-dir", "relative"])).toThrow(/absolute/);
  });

  it("parses cluster mode's flags", () => {
    expect(splitAgentFlags(["--cluster", "--port", "0", "--node-name", "n1", "--cni-bin-dir", "/opt/cni/bin", "--cni-conf-dir=/etc/cni/net.d", "--kubeconfig", "/k"])).toEqual({
      agent: { stateDir: "/var/lib/kne/agent", cluster: { nodeName: "n1", handoffDir: "/var/lib/kne/agent/pods", kubeconfig: "/k", cniBinDir: "/opt/cni/bin", cniConfDir: "/etc/cni/net.d" } },
      rest: ["--port", "0"],
    });
    const saved = process.env.NODE_NAME;
    process.env.NODE_NAME = "from-env";
    try {
      expect(splitAgentFlags(["--cluster", "--cni-handoff-dir", "/h"]).agent.cluster).toEqual({ nodeName: "from-env", handoffDir: "/h" });
      delete process.env.NODE_NAME;
      expect(() => splitAgentFlags(["--cluster"])).toThrow(/NODE_NAME/);
    } finally {
      if (saved === undefined) delete process.env.NODE_NAME;
      else process.env.NODE_NAME = saved;
    }
    expect(splitAgentFlags([]).agent.cluster).toBeUndefined();
    expect(() => splitAgentFlags(["--cni-bin-dir", "/b", "--cni-conf-dir", "/c"])).toThrow(/cluster mode/);
    expect(() => splitAgentFlags(["--node-name", "n", "--cni-bin-dir", "/b"])).toThrow(/go together/);
    expect(() => splitAgentFlags(["--node-name", "n", "--cni-runtime-dir", "rel"])).toThrow(/absolute/);
  });

  it("runs as a process until SIGTERM, and explains itself with --help", async () => {
    const help = await runProcess(bin, ["--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("Usage: topology-agent [flags]");
    expect(help.stdout).toContain("kne.agent.v1.AgentService");
    expect(help.stdout).toContain("--state-dir");
    expect(help.stdout).toContain("--underlay-address");

    const proc = await startServerProcess(bin, ["--log-level", "debug", "--state-dir", stateDir, "--resync-interval", "0"]);
    const health = createClient(healthv1.Health, createGrpcTransport({ baseUrl: proc.url }));
    expect((await health.check({ service: "kne.agent.v1.AgentService" })).status).toBe(ServingStatus.SERVING);
    expect(await proc.stop("SIGTERM")).toBe(0);
    expect(proc.lines.map((l) => l["msg"])).toEqual(
      expect.arrayContaining(["desired state loaded", "server started", "rpc completed", "shutdown requested", "server stopped", "agent stopped"]),
    );
  }, 60_000);
});
