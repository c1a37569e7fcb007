// buf curl is a client no one here wrote (Go, connect-go + its own reflection client):
// if it can list and call our methods with no local schema, so can grpcurl and friends.
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "./test-fixtures";

const buf = fileURLToPath(new URL("../../../node_modules/.bin/buf", import.meta.url));

interface CurlResult {
  code: number;
  stdout: string;
  stderr: string;
}

function bufCurl(args: readonly string[]): Promise<CurlResult> {
  return new Promise((resolve, reject) => {
    execFile(buf, ["curl", "--http2-prior-knowledge", ...args], { timeout: 20_000 }, (err, stdout, stderr) => {
      if (err && typeof err.code !== "number") return reject(err);
      resolve({ code: typeof err?.code === "number" ? err.code : 0, stdout, stderr });
    });
  });
}

describe("buf curl against startServer", () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(() => t.server.close());

  it("calls the health check over gRPC", async () => {
    const res = await bufCurl(["--protocol", "grpc", `${t.server.url}/grpc.health.v1.Health/Check`, "-d", "{}"]);
    expect(res.stderr).toBe("");
    expect(JSON.parse(res.stdout)).toEqual({ status: "SERVING" });
  }, 30_000);

  it("lists services and methods through reflection", async () => {
    const services = await bufCurl(["--list-services", t.server.url]);
    expect(services.stdout.trim().split("\n")).toEqual([
      "controller.TopologyManager",
      "grpc.health.v1.Health",
      "grpc.reflection.v1.ServerReflection",
      "grpc.reflection.v1alpha.ServerReflection",
    ]);
    const methods = await bufCurl(["--list-methods", t.server.url]);
    expect(methods.code).toBe(0);
    const lines = methods.stdout.trim().split("\n");
    expect(lines).toContain("controller.TopologyManager/ShowTopology");
    expect(lines).toContain("grpc.health.v1.Health/Watch");
    expect(lines).toHaveLength(15);
  }, 30_000);

  it("calls our own service with only the schema it got by reflection, in every protocol", async () => {
    for (const protocol of ["grpc", "grpcweb", "connect"]) {
      const res = await bufCurl([
        "--protocol",
        protocol,
        `${t.server.url}/controller.TopologyManager/ShowTopology`,
        "-d",
        JSON.stringify({ topologyName: "t1" }),
      ]);
      expect({ protocol, code: res.code, body: JSON.parse(res.stdout) as unknown }).toEqual({
        protocol,
        code: 0,
        body: { state: "TOPOLOGY_STATE_RUNNING", topology: { name: "t1" } },
      });
    }
  }, 60_000);

  it("works over reflection v1alpha too", async () => {
    const res = await bufCurl([
      "--reflect-protocol",
      "grpc-v1alpha",
      `${t.server.url}/controller.TopologyManager/ShowTopology`,
      "-d",
      '{"topology_name":"t2"}',
    ]);
    expect(JSON.parse(res.stdout)).toMatchObject({ topology: { name: "t2" } });
  }, 30_000);

  it("shows the gRPC code, message and BadRequest details of an error", async () => {
    const res = await bufCurl([
      "--protocol",
      "grpc",
      `${t.server.url}/controller.TopologyManager/ShowTopology`,
      "-d",
      '{"topologyName":""}',
    ]);
    expect(res.code).not.toBe(0);
    const err = JSON.parse(res.stderr) as { code: string; message: string; details: { type: string }[] };
    expect(err).toMatchObject({
      code: "invalid_argument",
      message: "the request is incomplete: topology_name: must not be empty",
      details: [{ type: "google.rpc.BadRequest" }],
    });
    const missing = await bufCurl([`${t.server.url}/controller.TopologyManager/ShowTopology`, "-d", '{"topologyName":"missing"}']);
    expect(JSON.parse(missing.stderr)).toMatchObject({ code: "not_found" });
  }, 30_000);
});
