// Security of the real topology-manager process: the bearer token guards every mutating
// call (reads stay open), and with mTLS a client certificate from another CA is refused.
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { controller, managerv1, topo } from "@kne/proto";
import { startServerProcess, type ServerProcess } from "@kne/rpc/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { workspaceRoot } from "./helpers.ts";

const managerBin = join(workspaceRoot, "apps/topology-manager/bin/topology-manager.mjs");
const execFileAsync = promisify(execFile);
const openssl = (args: string[], cwd: string) => execFileAsync("openssl", args, { cwd, timeout: 30_000 });

let dir: string;
const started: ServerProcess[] = [];

async function startManager(args: string[]): Promise<ServerProcess> {
  const stateDir = await mkdtemp(join(dir, "state-"));
  const server = await startServerProcess(managerBin, ["--state-dir", stateDir, ...args], 60_000);
  started.push(server);
  return server;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "kne-api-sec-"));
});
afterAll(async () => {
  // Only the processes this file started, each by its own handle.
  await Promise.all(started.map((s) => s.stop("SIGTERM")));
  await rm(dir, { recursive: true, force: true });
});

const dryRunTopology = {
  topology: { name: "auth", nodes: [{ name: "h1", vendor: topo.Vendor.HOST }] },
  dryRun: true,
};

describe("--auth-token-file", () => {
  it("rejects mutating calls without the token and keeps reads open", async () => {
    await writeFile(join(dir, "token"), "t0ken-for-tests\n");
    const server = await startManager(["--auth-token-file", join(dir, "token")]);
    const anonymous = createGrpcTransport({ baseUrl: server.url });
    const withToken = createGrpcTransport({
      baseUrl: server.url,
      interceptors: [
        (next) => (req) => {
          req.header.set("authorization", "Bearer t0ken-for-tests");
          return next(req);
        },
      ],
    });

    const open = createClient(managerv1.TopologyService, anonymous);
    const refused = await open.createTopology(dryRunTopology).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ConnectError);
    expect((refused as ConnectError).code).toBe(Code.Unauthenticated);
    await expect(open.deleteTopology({ name: "x" })).rejects.toMatchObject({ code: Code.Unauthenticated });
    await expect(createClient(managerv1.LinkService, anonymous).setLinkState({ topology: "x", link: "a:b--c:d" })).rejects.toMatchObject({ code: Code.Unauthenticated });
    await expect(createClient(controller.TopologyManager, anonymous).createTopology({})).rejects.toMatchObject({ code: Code.Unauthenticated });

    const wrong = createGrpcTransport({ baseUrl: server.url, interceptors: [(next) => (req) => (req.header.set("authorization", "Bearer nope"), next(req))] });
    await expect(createClient(managerv1.TopologyService, wrong).createTopology(dryRunTopology)).rejects.toMatchObject({ code: Code.Unauthenticated });

    const allowed = await createClient(managerv1.TopologyService, withToken).createTopology(dryRunTopology);
    expect(allowed.topology?.name).toBe("auth");
    expect((await open.listTopologies({})).topologies).toEqual([]);
    await expect(createClient(controller.TopologyManager, anonymous).showTopology({ topologyName: "nope" })).rejects.toMatchObject({ code: Code.NotFound });
  });
});

describe("--tls-cert --tls-key --tls-client-ca (mTLS)", () => {
  async function makeCa(name: string): Promise<void> {
    await openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", `${name}.key`, "-out", `${name}.pem`, "-subj", `/CN=${name}`, "-days", "2"], dir);
  }
  async function makeLeaf(name: string, ca: string, ext: string): Promise<void> {
    await writeFile(join(dir, `${name}.ext`), ext);
    await openssl(["req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", `/CN=${name}`], dir);
    await openssl(["x509", "-req", "-in", `${name}.csr`, "-CA", `${ca}.pem`, "-CAkey", `${ca}.key`, "-CAcreateserial", "-out", `${name}.pem`, "-days", "2", "-extfile", `${name}.ext`], dir);
  }
  const pem = (name: string) => readFile(join(dir, name), "utf8");

  it("serves clients with a certificate from its CA and refuses others", async () => {
    await makeCa("ca");
    await makeCa("rogue-ca");
    await makeLeaf("server", "ca", "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n");
    await makeLeaf("client", "ca", "extendedKeyUsage=clientAuth\n");
    await makeLeaf("rogue-client", "rogue-ca", "extendedKeyUsage=clientAuth\n");

    const server = await startManager(["--tls-cert", join(dir, "server.pem"), "--tls-key", join(dir, "server.key"), "--tls-client-ca", join(dir, "ca.pem")]);
    expect(server.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const ca = await pem("ca.pem");
    const list = (nodeOptions: { cert?: string; key?: string }) =>
      createClient(managerv1.TopologyService, createGrpcTransport({ baseUrl: server.url, nodeOptions: { ca, ...nodeOptions } })).listTopologies({}, { timeoutMs: 10_000 });

    expect((await list({ cert: await pem("client.pem"), key: await pem("client.key") })).topologies).toEqual([]);

    const rogue = await list({ cert: await pem("rogue-client.pem"), key: await pem("rogue-client.key") }).catch((e: unknown) => e);
    expect(rogue).toBeInstanceOf(ConnectError);
    // Under TLS 1.3 the server checks the client certificate after the client's handshake
    // completes, so Node's client sees the connection torn down (CANCELED, UNAVAILABLE or
    // INTERNAL, by timing) rather than a TLS alert: what matters is that no answer came.
    expect((rogue as ConnectError).code).not.toBe(Code.DeadlineExceeded);

    const anonymous = await list({}).catch((e: unknown) => e);
    expect(anonymous).toBeInstanceOf(ConnectError);

    // buf curl (Go's TLS stack) agrees: with the good client cert it calls, with the rogue one it cannot.
    const buf = join(workspaceRoot, "node_modules/.bin/buf");
    const call = (cert: string) =>
      execFileAsync(buf, ["curl", "--cacert", join(dir, "ca.pem"), "--cert", join(dir, `${cert}.pem`), "--key", join(dir, `${cert}.key`), `${server.url}/kne.manager.v1.TopologyService/ListTopologies`], { timeout: 30_000 });
    expect(JSON.parse((await call("client")).stdout)).toEqual({});
    // With its reflection stream cut at the handshake, buf curl learns no schema at all.
    await expect(call("rogue-client")).rejects.toMatchObject({ stdout: "", stderr: expect.stringMatching(/certificate|tls|unavailable|failed to find service/i) });
  });
});
