// The public API proved with clients no one here wrote, against the real topology-manager
// process on a temporary state dir: buf curl (Go, via reflection), a Python grpcio client
// generated from proto/, and grpc-js with upstream's controller.proto layouts.
import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { credentials, loadPackageDefinition, Metadata, status, type Client, type ServiceError } from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";
import { startServerProcess, type ServerProcess } from "@kne/rpc/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { workspaceRoot } from "./helpers.ts";

const managerBin = join(workspaceRoot, "apps/topology-manager/bin/topology-manager.mjs");
const buf = join(workspaceRoot, "node_modules/.bin/buf");
const pythonDir = join(workspaceRoot, "tests/python");

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(file: string, args: readonly string[], timeout: number): Promise<Run> {
  return new Promise((resolve, reject) => {
    execFile(file, [...args], { timeout, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      if (err && typeof err.code !== "number" && !err.killed) return reject(err);
      resolve({ code: typeof err?.code === "number" ? err.code : err ? -1 : 0, stdout, stderr });
    });
  });
}

const bufCurl = (args: readonly string[], timeout = 30_000) => run(buf, ["curl", "--http2-prior-knowledge", ...args], timeout);

/** buf curl prints each streamed message as an indented JSON object. */
function jsonMessages(stdout: string): Record<string, unknown>[] {
  return stdout
    .split(/(?<=^\})\n(?=\{)/m)
    .filter((s) => s.trim() !== "")
    .map((s) => JSON.parse(s) as Record<string, unknown>);
}

const hostTopology = (name: string) => ({
  name,
  nodes: [
    { name: "h1", vendor: "HOST" },
    { name: "h2", vendor: "HOST" },
  ],
  links: [{ aNode: "h1", aInt: "eth1", zNode: "h2", zInt: "eth1" }],
});

let stateDir: string;
let server: ServerProcess | undefined;
let address: string;

beforeAll(async () => {
  stateDir = await mkdtemp(join(tmpdir(), "kne-api-"));
  server = await startServerProcess(managerBin, ["--state-dir", stateDir, "--log-level", "info"], 60_000);
  address = server.url.replace(/^http:\/\//, "");
});

afterAll(async () => {
  // Whatever a failed test left running goes first, through the API that made it.
  if (server) {
    const list = await bufCurl([`${server.url}/kne.manager.v1.TopologyService/ListTopologies`]).catch(() => undefined);
    const names = list?.code === 0 ? ((JSON.parse(list.stdout) as { topologies?: { name: string }[] }).topologies ?? []).map((t) => t.name) : [];
    for (const name of names) {
      await bufCurl([`${server.url}/kne.manager.v1.TopologyService/DeleteTopology`, "-d", JSON.stringify({ name })], 120_000).catch(() => undefined);
    }
    await server.stop("SIGTERM");
  }
  await rm(stateDir, { recursive: true, force: true });
});

describe("buf curl", () => {
  it("lists the services through reflection", async () => {
    const res = await bufCurl(["--list-services", server!.url]);
    expect(res.code).toBe(0);
    expect(res.stdout.trim().split("\n")).toEqual(expect.arrayContaining(["kne.manager.v1.TopologyService", "kne.manager.v1.LinkService", "controller.TopologyManager", "grpc.health.v1.Health"]));
  });

  it("calls a unary method and a server stream", async () => {
    const url = server!.url;
    const created = await bufCurl(
      ["--protocol", "grpc", `${url}/kne.manager.v1.TopologyService/CreateTopology`, "-d", JSON.stringify({ topology: hostTopology("bufcurl") })],
      120_000,
    );
    expect(created.stderr).toBe("");
    expect(JSON.parse(created.stdout)).toMatchObject({ topology: { name: "bufcurl" }, status: { phase: "TOPOLOGY_PHASE_RUNNING" } });

    const list = await bufCurl(["--protocol", "grpc", `${url}/kne.manager.v1.TopologyService/ListTopologies`]);
    expect(JSON.parse(list.stdout)).toMatchObject({ topologies: [{ name: "bufcurl", nodeCount: 2, linkCount: 1, status: { phase: "TOPOLOGY_PHASE_RUNNING" } }] });

    // A watch never ends by itself: buf curl's --timeout cuts it after the current state arrived.
    const watch = await bufCurl(["--protocol", "grpc", "--timeout", "3s", `${url}/kne.manager.v1.TopologyService/WatchTopologies`, "-d", '{"name":"bufcurl"}']);
    expect(watch.code).not.toBe(0);
    expect(watch.stderr).toMatch(/deadline_exceeded|deadline/i);
    const events = jsonMessages(watch.stdout).map((m) => m["event"] as { topology: string; revision: string; type: string });
    expect(events.length).toBeGreaterThan(0);
    expect(events.every((e) => e.topology === "bufcurl" && Number(e.revision) > 0)).toBe(true);

    const deleted = await bufCurl([`${url}/kne.manager.v1.TopologyService/DeleteTopology`, "-d", '{"name":"bufcurl"}'], 120_000);
    expect(deleted).toMatchObject({ code: 0, stderr: "" });
  });
});

describe("a Python grpcio client generated from proto/", () => {
  it("creates a topology, flips its link, reads the watch events and deletes it", async () => {
    const venv = await run(join(pythonDir, "ensure-venv.sh"), [], 600_000);
    expect(venv.code, venv.stderr).toBe(0);
    const python = join(venv.stdout.trim(), "bin", "python");
    const stubs = await mkdtemp(join(tmpdir(), "kne-pystubs-"));
    try {
      const gen = await run(join(pythonDir, "gen.sh"), [python, stubs], 120_000);
      expect(gen.code, gen.stderr).toBe(0);
      const client = await run(python, [join(pythonDir, "client_test.py"), "--address", address, "--stubs", stubs, "--name", "python"], 240_000);
      expect(client.stderr).toBe("");
      expect(client.code).toBe(0);
      const lines = client.stdout.trim().split("\n");
      expect(lines[0]).toBe("CREATED python phase=TOPOLOGY_PHASE_RUNNING nodes=2");
      expect(lines.some((l) => /^EVENT rev=\d+ link=h1:eth1--h2:eth1 a_admin=LINK_STATE_UP z_admin=LINK_STATE_UP$/.test(l))).toBe(true);
      expect(lines).toContain("SET h1:eth1--h2:eth1 a_admin=LINK_STATE_DOWN");
      expect(lines.some((l) => /^EVENT rev=\d+ link=h1:eth1--h2:eth1 a_admin=LINK_STATE_DOWN z_admin=LINK_STATE_DOWN$/.test(l))).toBe(true);
      expect(lines.slice(-2)).toEqual(["DELETED python", "PASS"]);
    } finally {
      await rm(stubs, { recursive: true, force: true });
    }
  }, 900_000);
});

describe("grpc-js with upstream's controller.proto", () => {
  type Callback<T> = (err: ServiceError | null, res?: T) => void;
  type Unary = (req: unknown, md: Metadata, cb: Callback<Record<string, unknown>>) => void;
  type TopologyManagerClient = Client & Record<"CreateTopology" | "ShowTopology" | "DeleteTopology" | "CreateCluster", Unary>;

  function upstreamClient(): TopologyManagerClient {
    // Upstream's own layouts, decoded by protobufjs: field names as the .proto spells them.
    const definition = loadSync(join(workspaceRoot, "proto/controller/controller.proto"), {
      includeDirs: [join(workspaceRoot, "proto")],
      keepCase: true,
      enums: String,
      longs: String,
      defaults: false,
    });
    const pkg = loadPackageDefinition(definition) as unknown as { controller: { TopologyManager: new (addr: string, creds: ReturnType<typeof credentials.createInsecure>) => TopologyManagerClient } };
    return new pkg.controller.TopologyManager(address, credentials.createInsecure());
  }
  const call = (client: TopologyManagerClient, method: "CreateTopology" | "ShowTopology" | "DeleteTopology" | "CreateCluster", req: unknown) =>
    new Promise<Record<string, unknown>>((resolve, reject) =>
      client[method].call(client, req, new Metadata(), (err, res) => (err ? reject(err) : resolve(res!))),
    );

  it("creates, shows and deletes a HOST topology; cluster RPCs are UNIMPLEMENTED", async () => {
    const client = upstreamClient();
    try {
      const topology = {
        name: "grpcjs",
        nodes: [
          { name: "h1", vendor: "HOST" },
          { name: "h2", vendor: "HOST" },
        ],
        links: [{ a_node: "h1", a_int: "eth1", z_node: "h2", z_int: "eth1" }],
      };
      const created = await call(client, "CreateTopology", { topology });
      expect(created).toMatchObject({ state: "TOPOLOGY_STATE_RUNNING", topology: { name: "grpcjs" } });

      const shown = await call(client, "ShowTopology", { topology_name: "grpcjs" });
      expect(shown["state"]).toBe("TOPOLOGY_STATE_RUNNING");
      const shownTopology = shown["topology"] as { name: string; nodes: { name: string; vendor: string }[]; links: { a_node: string; z_node: string }[] };
      expect(shownTopology.name).toBe("grpcjs");
      expect(shownTopology.nodes.map((n) => [n.name, n.vendor])).toEqual([
        ["h1", "HOST"],
        ["h2", "HOST"],
      ]);
      expect(shownTopology.links).toMatchObject([{ a_node: "h1", a_int: "eth1", z_node: "h2", z_int: "eth1" }]);

      await expect(call(client, "DeleteTopology", { topology_name: "grpcjs" })).resolves.toEqual({});
      await expect(call(client, "ShowTopology", { topology_name: "grpcjs" })).rejects.toMatchObject({ code: status.NOT_FOUND });

      const cluster = await call(client, "CreateCluster", { kind: { name: "kne" } }).catch((e: unknown) => e as ServiceError);
      expect(cluster).toMatchObject({ code: status.UNIMPLEMENTED });
      expect((cluster as ServiceError).details).toMatch(/\S{10,}/);
    } finally {
      client.close();
    }
  });
});
