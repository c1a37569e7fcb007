import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { createFileRegistry, fromBinary, type MessageInitShape } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, createClient, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { controller, healthv1, reflectionv1, reflectionv1alpha } from "@kne/proto";
import { afterEach, describe, expect, it } from "vitest";
import { authInterceptor, createFastGrpcTransport, fieldViolationsOf, ServingStatus } from "./index";
import { rejection, startTestServer, type TestServer } from "./test-fixtures";

const run = promisify(execFile);

describe("startServer", () => {
  let t: TestServer | undefined;
  afterEach(async () => {
    await t?.server.close();
    t = undefined;
  });

  it("reports the ephemeral port it bound and serves gRPC, gRPC-Web and Connect on it", async () => {
    t = await startTestServer();
    expect(t.server.port).toBeGreaterThan(0);
    expect(t.server.url).toBe(`http://127.0.0.1:${t.server.port}`);
    const transports: Record<string, Transport> = {
      grpc: createGrpcTransport({ baseUrl: t.server.url }),
      grpcWeb: createGrpcWebTransport({ baseUrl: t.server.url, httpVersion: "2" }),
      connect: createConnectTransport({ baseUrl: t.server.url, httpVersion: "2" }),
    };
    for (const [protocol, transport] of Object.entries(transports)) {
      const res = await createClient(controller.TopologyManager, transport).showTopology({ topologyName: "t1" });
      expect({ protocol, state: res.state, name: res.topology?.name }).toEqual({
        protocol,
        state: controller.TopologyState.RUNNING,
        name: "t1",
      });
    }
    expect(t.lines().find((l) => l["msg"] === "server started")).toMatchObject({
      url: t.server.url,
      services: [
        "controller.TopologyManager",
        "grpc.health.v1.Health",
        "grpc.reflection.v1.ServerReflection",
        "grpc.reflection.v1alpha.ServerReflection",
      ],
    });
  });

  it("answers health checks for every registered service and NOT_FOUND for others", async () => {
    t = await startTestServer();
    const health = createClient(healthv1.Health, createGrpcTransport({ baseUrl: t.server.url }));
    expect((await health.check({})).status).toBe(ServingStatus.SERVING);
    expect((await health.check({ service: "controller.TopologyManager" })).status).toBe(ServingStatus.SERVING);
    await expect(health.check({ service: "no.Such" })).rejects.toMatchObject({ code: Code.NotFound });
    const list = await health.list({});
    expect(Object.keys(list.statuses).sort()).toEqual([
      "",
      "controller.TopologyManager",
      "grpc.health.v1.Health",
      "grpc.reflection.v1.ServerReflection",
      "grpc.reflection.v1alpha.ServerReflection",
    ]);
    t.server.health.setStatus("controller.TopologyManager", ServingStatus.NOT_SERVING);
    expect((await health.check({ service: "controller.TopologyManager" })).status).toBe(ServingStatus.NOT_SERVING);
  });

  it("streams health changes to a watcher", async () => {
    t = await startTestServer();
    const health = createClient(healthv1.Health, createGrpcTransport({ baseUrl: t.server.url }));
    const abort = new AbortController();
    const stream = health.watch({ service: "controller.TopologyManager" }, { signal: abort.signal })[Symbol.asyncIterator]();
    expect((await stream.next()).value?.status).toBe(ServingStatus.SERVING);
    t.server.health.setStatus("controller.TopologyManager", ServingStatus.NOT_SERVING);
    expect((await stream.next()).value?.status).toBe(ServingStatus.NOT_SERVING);
    abort.abort();
  });

  it("translates a foreign error into a gRPC code and logs it once with its stack", async () => {
    t = await startTestServer();
    const client = createClient(controller.TopologyManager, createGrpcTransport({ baseUrl: t.server.url }));
    const err = await rejection(client.showTopology({ topologyName: "missing" }));
    expect(err.code).toBe(Code.NotFound);
    expect(err.rawMessage).toMatch(/^ENOENT: no such file or directory/);
    const foreign = t.lines().filter((l) => l["msg"] === "handler threw a foreign error");
    expect(foreign).toHaveLength(1);
    expect(foreign[0]).toMatchObject({ level: "error", method: "controller.TopologyManager/ShowTopology", code: "NOT_FOUND" });
    expect((foreign[0]?.["err"] as { stack: string }).stack).toMatch(/ENOENT/);
    expect(t.lines().filter((l) => l["msg"] === "rpc failed")).toEqual([
      expect.objectContaining({ method: "controller.TopologyManager/ShowTopology", code: "NOT_FOUND", level: "warn" }),
    ]);
  });

  it("sends field violations as google.rpc.BadRequest details", async () => {
    t = await startTestServer();
    for (const transport of [
      createGrpcTransport({ baseUrl: t.server.url }),
      createConnectTransport({ baseUrl: t.server.url, httpVersion: "2" }),
    ]) {
      const err = await rejection(createClient(controller.TopologyManager, transport).showTopology({ topologyName: "" }));
      expect(err.code).toBe(Code.InvalidArgument);
      expect(err.rawMessage).toBe("the request is incomplete: topology_name: must not be empty");
      expect(fieldViolationsOf(err)).toEqual([{ field: "topology_name", description: "must not be empty" }]);
    }
  });

  it("requires the bearer token for mutating methods only", async () => {
    t = await startTestServer({ interceptors: [authInterceptor({ token: "s3cret" })] });
    const transport = createGrpcTransport({ baseUrl: t.server.url });
    const client = createClient(controller.TopologyManager, transport);
    const create: MessageInitShape<typeof controller.CreateTopologyRequestSchema> = { topology: { name: "t1" } };
    await expect(client.createTopology(create)).rejects.toMatchObject({ code: Code.Unauthenticated });
    await expect(client.createTopology(create, { headers: { authorization: "Bearer wrong" } })).rejects.toMatchObject({
      code: Code.Unauthenticated,
    });
    const ok = await client.createTopology(create, { headers: { authorization: "Bearer s3cret" } });
    expect(ok.state).toBe(controller.TopologyState.CREATING);
    expect((await client.showTopology({ topologyName: "t1" })).state).toBe(controller.TopologyState.RUNNING);
    const health = createClient(healthv1.Health, transport);
    expect((await health.check({})).status).toBe(ServingStatus.SERVING);
  });

  it("serves reflection v1 and v1alpha over one bidi stream per client", async () => {
    t = await startTestServer();
    const transport = createGrpcTransport({ baseUrl: t.server.url });
    for (const [version, service] of [
      ["v1", reflectionv1.ServerReflection],
      ["v1alpha", reflectionv1alpha.ServerReflection],
    ] as const) {
      const client = createClient(service, transport);
      async function* requests() {
        yield { host: "h", messageRequest: { case: "listServices" as const, value: "*" } };
        yield { messageRequest: { case: "fileContainingSymbol" as const, value: "controller.TopologyManager.ShowTopology" } };
        yield { messageRequest: { case: "fileContainingSymbol" as const, value: "no.Such" } };
      }
      const answers = [];
      for await (const res of client.serverReflectionInfo(requests())) answers.push(res);
      expect(answers.map((a) => a.messageResponse.case), version).toEqual([
        "listServicesResponse",
        "fileDescriptorResponse",
        "errorResponse",
      ]);
      const [list, file, error] = answers.map((a) => a.messageResponse);
      expect(answers[0]?.validHost).toBe("h");
      expect(answers[0]?.originalRequest?.messageRequest.case).toBe("listServices");
      if (list?.case !== "listServicesResponse" || file?.case !== "fileDescriptorResponse" || error?.case !== "errorResponse") {
        throw new Error("unexpected answers");
      }
      expect(list.value.service.map((s) => s.name)).toContain("controller.TopologyManager");
      const protos = file.value.fileDescriptorProto.map((b) => fromBinary(FileDescriptorProtoSchema, b));
      expect(protos.map((p) => p.name)).toEqual(["controller/controller.proto", "topo/topo.proto", "google/protobuf/any.proto"]);
      // The answer is self-contained: a registry builds from it alone (a FileDescriptorSet
      // lists imports first; reflection answers with the asked-for file first).
      const registry = createFileRegistry({ $typeName: "google.protobuf.FileDescriptorSet", file: [...protos].reverse() });
      expect(registry.getService("controller.TopologyManager")?.method["showTopology"]?.output.typeName).toBe(
        "controller.ShowTopologyResponse",
      );
      expect(error.value).toMatchObject({ errorCode: Code.NotFound, errorMessage: 'symbol "no.Such" not found' });
    }
  });

  it("lets an in-flight call finish within the grace period", async () => {
    t = await startTestServer({ shutdownGraceMs: 5000 });
    const client = createClient(controller.TopologyManager, createGrpcTransport({ baseUrl: t.server.url }));
    const gate = t.holdDelete();
    const call = client.deleteTopology({ topologyName: "t1" });
    await gate.entered;
    const closing = t.server.close();
    setTimeout(gate.release, 100);
    await expect(call).resolves.toBeDefined();
    await closing;
    expect(t.lines().find((l) => l["msg"] === "server stopped")).toMatchObject({ cancelledCalls: false });
  });

  it("cancels calls that outlive the grace period, and close() never hangs on open streams", async () => {
    t = await startTestServer({ shutdownGraceMs: 300 });
    const transport = createGrpcTransport({ baseUrl: t.server.url });
    const health = createClient(healthv1.Health, transport);
    const watch = health.watch({})[Symbol.asyncIterator]();
    expect((await watch.next()).value?.status).toBe(ServingStatus.SERVING);
    const gate = t.holdDelete();
    const held = rejection(createClient(controller.TopologyManager, transport).deleteTopology({ topologyName: "t1" }));
    await gate.entered;

    const started = performance.now();
    await t.server.close();
    const took = performance.now() - started;
    expect(took).toBeGreaterThanOrEqual(250);
    expect(took).toBeLessThan(2000);

    // The watcher first hears NOT_SERVING, then the stream ends with UNAVAILABLE.
    expect((await watch.next()).value?.status).toBe(ServingStatus.NOT_SERVING);
    expect(await rejection(watch.next())).toMatchObject({ code: Code.Unavailable });
    expect(await held).toMatchObject({ code: Code.Unavailable, rawMessage: "the server is shutting down" });
    gate.release();
    expect(t.lines().find((l) => l["msg"] === "server stopped")).toMatchObject({ cancelledCalls: true });
    // close() is idempotent and the port is gone.
    await t.server.close();
    await expect(health.check({})).rejects.toMatchObject({ code: Code.Unavailable });
  });
});

describe("startServer with TLS", () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  /** A CA, a server cert for 127.0.0.1 and a client cert, made with the openssl CLI. */
  async function makeCerts(): Promise<Record<"ca" | "serverCert" | "serverKey" | "clientCert" | "clientKey", string>> {
    dir = await mkdtemp(join(tmpdir(), "kne-rpc-tls-"));
    const d = dir;
    const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
    await run("openssl", ["req", "-x509", ...ec, "-keyout", join(d, "ca.key"), "-out", join(d, "ca.crt"), "-subj", "/CN=kne-test-ca", "-days", "1"]);
    await writeFile(join(d, "server.ext"), "subjectAltName=IP:127.0.0.1\n");
    await writeFile(join(d, "client.ext"), "extendedKeyUsage=clientAuth\n");
    for (const who of ["server", "client"]) {
      await run("openssl", ["req", ...ec, "-keyout", join(d, `${who}.key`), "-out", join(d, `${who}.csr`), "-subj", `/CN=kne-test-${who}`]);
      await run("openssl", [
        "x509", "-req", "-in", join(d, `${who}.csr`), "-CA", join(d, "ca.crt"), "-CAkey", join(d, "ca.key"),
        "-CAcreateserial", "-out", join(d, `${who}.crt`), "-days", "1", "-extfile", join(d, `${who}.ext`),
      ]);
    }
    const read = (f: string): Promise<string> => readFile(join(d, f), "utf8");
    return {
      ca: await read("ca.crt"),
      serverCert: await read("server.crt"),
      serverKey: await read("server.key"),
      clientCert: await read("client.crt"),
      clientKey: await read("client.key"),
    };
  }

  it("serves over TLS, and with mutual TLS only to clients with a certificate from the CA", async () => {
    const c = await makeCerts();
    const tlsServer = await startTestServer({ tls: { cert: c.serverCert, key: c.serverKey, ca: c.ca, requestClientCert: true } });
    try {
      expect(tlsServer.server.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      const withCert = createGrpcTransport({
        baseUrl: tlsServer.server.url,
        nodeOptions: { ca: c.ca, cert: c.clientCert, key: c.clientKey },
      });
      const res = await createClient(controller.TopologyManager, withCert).showTopology({ topologyName: "t1" });
      expect(res.topology?.name).toBe("t1");
      // The lean client takes the same TLS material.
      const fast = createFastGrpcTransport({ baseUrl: tlsServer.server.url, nodeOptions: { ca: c.ca, cert: c.clientCert, key: c.clientKey } });
      try {
        expect((await createClient(controller.TopologyManager, fast).showTopology({ topologyName: "t2" })).topology?.name).toBe("t2");
      } finally {
        await fast.close();
      }
      // HTTP/1.1 (browsers, plain curl) works on the TLS port for Connect.
      const http1 = createConnectTransport({
        baseUrl: tlsServer.server.url,
        httpVersion: "1.1",
        nodeOptions: { ca: c.ca, cert: c.clientCert, key: c.clientKey },
      });
      expect((await createClient(healthv1.Health, http1).check({})).status).toBe(ServingStatus.SERVING);
      const withoutCert = createGrpcTransport({ baseUrl: tlsServer.server.url, nodeOptions: { ca: c.ca } });
      await expect(createClient(healthv1.Health, withoutCert).check({})).rejects.toBeInstanceOf(ConnectError);
    } finally {
      await tlsServer.server.close();
    }
  }, 30_000);
});
