// The lean unary path on both ends (fast-unary-server.ts, fast-grpc-transport.ts), over
// real HTTP/2 on 127.0.0.1: what callers see must not depend on which path a call took,
// so most checks run every pairing of {connect-node client, fast client} × {Connect
// adapter (fastUnary: false), fast path}.
import { create, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, type HandlerContext, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { controller, healthv1 } from "@kne/proto";
import http2 from "node:http2";
import { afterEach, describe, expect, it } from "vitest";
import { createFastGrpcTransport, type FastGrpcTransport } from "./fast-grpc-transport";
import { authInterceptor, fieldViolationsOf, invalidArgument, serviceRegistration, ServingStatus, startServer, type RunningServer } from "./index";
import { captureLogs, rejection } from "./test-fixtures";

/** A TopologyManager that echoes metadata and lets a test hold a call and watch its signal. */
interface ProbeServer {
  server: RunningServer;
  lines(): Record<string, unknown>[];
  /** The context of every DeleteTopology call, once the handler has it. */
  held: Promise<HandlerContext>;
  /** Settles with the reason the held call's signal was aborted with. */
  heldAbort: Promise<unknown>;
  /** The ShowTopology contexts, to check them after the call. */
  shown: HandlerContext[];
}

async function startProbeServer(
  options: { fastUnary?: boolean; readMaxBytes?: number; auth?: string; port?: number; shutdownGraceMs?: number } = {},
): Promise<ProbeServer> {
  const logs = captureLogs();
  let enter!: (ctx: HandlerContext) => void;
  let aborted!: (reason: unknown) => void;
  const held = new Promise<HandlerContext>((r) => (enter = r));
  const heldAbort = new Promise<unknown>((r) => (aborted = r));
  const shown: HandlerContext[] = [];
  const probe = serviceRegistration(controller.TopologyManager, {
    showTopology(req, ctx) {
      shown.push(ctx);
      if (req.topologyName === "") {
        throw invalidArgument("the request is incomplete", [{ field: "topology_name", description: "must not be empty" }]);
      }
      const probeHeader = ctx.requestHeader.get("x-probe");
      if (probeHeader !== null) {
        ctx.responseHeader.set("x-echo", probeHeader);
        ctx.responseTrailer.set("x-trailer-echo", `${probeHeader}!`);
      }
      return { state: controller.TopologyState.RUNNING, topology: { name: req.topologyName } };
    },
    createTopology(req) {
      return { state: controller.TopologyState.CREATING, topology: req.topology };
    },
    async deleteTopology(_req, ctx) {
      enter(ctx);
      await new Promise<void>((resolve) => ctx.signal.addEventListener("abort", () => resolve(), { once: true }));
      aborted(ctx.signal.reason);
      return {};
    },
  });
  const server = await startServer({
    port: options.port ?? 0,
    services: [probe],
    logger: logs.logger,
    fastUnary: options.fastUnary,
    readMaxBytes: options.readMaxBytes,
    shutdownGraceMs: options.shutdownGraceMs,
    interceptors: options.auth === undefined ? [] : [authInterceptor({ token: options.auth })],
  });
  return { server, lines: logs.lines, held, heldAbort, shown };
}

const servers = [
  ["Connect adapter", false],
  ["fast path", true],
] as const;

type ClientKind = "connect-node" | "fast";
const clientKinds: ClientKind[] = ["connect-node", "fast"];

describe("the lean unary path", () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });
  async function probe(options: Parameters<typeof startProbeServer>[0] = {}): Promise<ProbeServer> {
    const p = await startProbeServer(options);
    cleanups.push(() => p.server.close());
    return p;
  }
  function transport(kind: ClientKind, baseUrl: string, options: { readMaxBytes?: number } = {}): Transport {
    if (kind === "connect-node") return createGrpcTransport({ baseUrl, ...options });
    const t = createFastGrpcTransport({ baseUrl, ...options });
    cleanups.push(() => t.close());
    return t;
  }

  it("carries request metadata to the handler and response header and trailer back, through the interceptors", async () => {
    for (const [serverName, fastUnary] of servers) {
      const p = await probe({ fastUnary });
      for (const kind of clientKinds) {
        const client = createClient(controller.TopologyManager, transport(kind, p.server.url));
        let header: Headers | undefined;
        let trailer: Headers | undefined;
        const res = await client.showTopology(
          { topologyName: "t1" },
          { headers: { "x-probe": "hello" }, onHeader: (h) => (header = h), onTrailer: (t) => (trailer = t) },
        );
        const label = `${kind} → ${serverName}`;
        expect(res.topology?.name, label).toBe("t1");
        expect(header?.get("x-echo"), label).toBe("hello");
        expect(header?.get("content-type"), label).toBe("application/grpc+proto");
        // The logging interceptor ran: it echoes the request id it logged.
        expect(header?.get("x-request-id"), label).toMatch(/^[0-9a-f-]{36}$/);
        expect(trailer?.get("x-trailer-echo"), label).toBe("hello!");
        expect(trailer?.get("grpc-status"), label).toBe("0");
        const ctx = p.shown.at(-1)!;
        expect(ctx.requestHeader.get("x-probe"), label).toBe("hello");
        expect(ctx.url, label).toBe(`${p.server.url}/controller.TopologyManager/ShowTopology`);
        expect(ctx.method.name, label).toBe("ShowTopology");
        // As with Connect, the call's signal is aborted once the call is over.
        expect(ctx.signal.aborted, label).toBe(true);
      }
      const completed = p.lines().filter((l) => l["msg"] === "rpc completed" && l["method"] === "controller.TopologyManager/ShowTopology");
      expect(completed, serverName).toHaveLength(2);
    }
  });

  it("delivers errors with google.rpc.BadRequest details identically on every path", async () => {
    const seen: unknown[] = [];
    for (const [serverName, fastUnary] of servers) {
      const p = await probe({ fastUnary });
      for (const kind of clientKinds) {
        const err = await rejection(createClient(controller.TopologyManager, transport(kind, p.server.url)).showTopology({ topologyName: "" }));
        seen.push({
          code: err.code,
          message: err.rawMessage,
          violations: fieldViolationsOf(err),
          requestId: err.metadata.get("x-request-id") !== null,
          contentType: err.metadata.get("content-type"),
        });
        expect(seen.at(-1), `${kind} → ${serverName}`).toEqual(seen[0]);
      }
      expect(p.lines().filter((l) => l["msg"] === "rpc failed"), serverName).toHaveLength(2);
    }
    expect(seen[0]).toEqual({
      code: Code.InvalidArgument,
      message: "the request is incomplete: topology_name: must not be empty",
      violations: [{ field: "topology_name", description: "must not be empty" }],
      requestId: true,
      contentType: "application/grpc+proto",
    });
  });

  it("ends a call at the deadline the server was given with DEADLINE_EXCEEDED, and the handler's signal says so", async () => {
    for (const [serverName, fastUnary] of servers) {
      for (const kind of clientKinds) {
        const p = await probe({ fastUnary });
        const client = createClient(controller.TopologyManager, transport(kind, p.server.url));
        // Only the server knows the deadline (no timeoutMs: the client sets no timer).
        const err = await rejection(client.deleteTopology({ topologyName: "t1" }, { headers: { "grpc-timeout": "200m" } }));
        const label = `${kind} → ${serverName}`;
        expect(err.code, label).toBe(Code.DeadlineExceeded);
        expect(ConnectError.from(await p.heldAbort).code, label).toBe(Code.DeadlineExceeded);
      }
    }
  });

  it("ends a call at the client's timeoutMs with DEADLINE_EXCEEDED, and the handler stops", async () => {
    for (const [serverName, fastUnary] of servers) {
      for (const kind of clientKinds) {
        const p = await probe({ fastUnary });
        const client = createClient(controller.TopologyManager, transport(kind, p.server.url));
        const started = performance.now();
        const err = await rejection(client.deleteTopology({ topologyName: "t1" }, { timeoutMs: 200 }));
        const label = `${kind} → ${serverName}`;
        expect(err.code, label).toBe(Code.DeadlineExceeded);
        expect(performance.now() - started, label).toBeLessThan(2000);
        // Whichever end's timer fires first: the server's deadline, or the client's reset.
        expect([Code.DeadlineExceeded, Code.Canceled, Code.Internal], label).toContain(ConnectError.from(await p.heldAbort).code);
      }
    }
  });

  it("cancels the handler's signal when the client cancels (CANCELED on both ends)", async () => {
    for (const [serverName, fastUnary] of servers) {
      for (const kind of clientKinds) {
        const p = await probe({ fastUnary });
        const client = createClient(controller.TopologyManager, transport(kind, p.server.url));
        const abort = new AbortController();
        const call = rejection(client.deleteTopology({ topologyName: "t1" }, { signal: abort.signal }));
        await p.held;
        abort.abort();
        const label = `${kind} → ${serverName}`;
        expect((await call).code, label).toBe(Code.Canceled);
        expect(ConnectError.from(await p.heldAbort).code, label).toBe(Code.Canceled);
      }
    }
  });

  it("runs the caller's interceptors: authInterceptor refuses a call without the token", async () => {
    const p = await probe({ auth: "s3cret" });
    for (const kind of clientKinds) {
      const client = createClient(controller.TopologyManager, transport(kind, p.server.url));
      const create = { topology: { name: "t1" } };
      expect((await rejection(client.createTopology(create))).code, kind).toBe(Code.Unauthenticated);
      const ok = await client.createTopology(create, { headers: { authorization: "Bearer s3cret" } });
      expect(ok.state, kind).toBe(controller.TopologyState.CREATING);
    }
  });

  it("refuses a request larger than readMaxBytes with RESOURCE_EXHAUSTED naming both sizes, as Connect does", async () => {
    const big = { topologyName: "x".repeat(300) };
    const oversized = { topologyName: "y".repeat(200_000) };
    const messages: string[] = [];
    for (const [serverName, fastUnary] of servers) {
      // Connect's adapter leaves the oversized request's stream open (it stops reading, the
      // client cannot finish sending), so closing that server takes its grace period.
      const p = await probe({ fastUnary, readMaxBytes: 100, shutdownGraceMs: 300 });
      for (const kind of clientKinds) {
        const client = createClient(controller.TopologyManager, transport(kind, p.server.url));
        const err = await rejection(client.showTopology(big));
        expect(err.code, `${kind} → ${serverName}`).toBe(Code.ResourceExhausted);
        messages.push(err.rawMessage);
        // A body far beyond the limit is refused without waiting for all of it.
        expect((await rejection(client.showTopology(oversized))).code, `${kind} → ${serverName}`).toBe(Code.ResourceExhausted);
        // And the connection still serves the next call.
        expect((await client.showTopology({ topologyName: "ok" })).topology?.name).toBe("ok");
      }
    }
    expect(new Set(messages)).toEqual(new Set(["message size 303 is larger than configured readMaxBytes 100"]));
  });

  it("refuses an answer larger than the client's readMaxBytes", async () => {
    const p = await probe();
    for (const kind of clientKinds) {
      const client = createClient(controller.TopologyManager, transport(kind, p.server.url, { readMaxBytes: 10 }));
      const err = await rejection(client.showTopology({ topologyName: "a-long-topology-name" }));
      expect({ code: err.code, message: err.rawMessage }, kind).toEqual({
        code: Code.ResourceExhausted,
        message: "message size 26 is larger than configured readMaxBytes 10",
      });
    }
  });

  it("answers malformed gRPC requests with Connect's codes", async () => {
    const answers: Record<string, unknown>[] = [];
    for (const [, fastUnary] of servers) {
      const p = await probe({ fastUnary });
      const session = http2.connect(p.server.url);
      const ok = toBinary(controller.ShowTopologyRequestSchema, create(controller.ShowTopologyRequestSchema, { topologyName: "t1" }));
      const envelope = (bytes: Uint8Array, flags = 0): Buffer => {
        const b = Buffer.alloc(5 + bytes.length);
        b[0] = flags;
        b.writeUInt32BE(bytes.length, 1);
        b.set(bytes, 5);
        return b;
      };
      const cases: Record<string, [Buffer, Record<string, string>?]> = {
        empty: [Buffer.alloc(0)],
        twoMessages: [Buffer.concat([envelope(ok), envelope(ok)])],
        torn: [Buffer.concat([envelope(ok), Buffer.from([0, 0])])],
        compressedFlag: [envelope(ok, 1)],
        garbage: [envelope(Buffer.from([0xff, 0xff, 0xff]))],
        badTimeout: [envelope(ok), { "grpc-timeout": "soon" }],
      };
      const answer: Record<string, unknown> = {};
      for (const [name, [body, headers]] of Object.entries(cases)) {
        answer[name] = await new Promise((resolve) => {
          const fields: Record<string, unknown> = {};
          const stream = session.request({
            ":method": "POST",
            ":path": "/controller.TopologyManager/ShowTopology",
            "content-type": "application/grpc",
            te: "trailers",
            ...headers,
          });
          const collect = (h: http2.IncomingHttpHeaders): void => {
            if (h["grpc-status"] !== undefined) fields["status"] = h["grpc-status"];
            if (h["grpc-message"] !== undefined) fields["message"] = decodeURIComponent(String(h["grpc-message"]));
          };
          stream.on("response", collect);
          stream.on("trailers", collect);
          stream.on("data", () => undefined);
          stream.on("close", () => resolve(fields));
          stream.end(body);
        });
      }
      session.close();
      answers.push(answer);
    }
    expect(answers[1]).toEqual(answers[0]);
    expect(answers[0]).toMatchObject({
      empty: { status: "12", message: "protocol error: missing input message for unary method" },
      twoMessages: { status: "12", message: "protocol error: received extra input message for unary method" },
      torn: { status: "3", message: "protocol error: incomplete envelope" },
      compressedFlag: { status: "13" },
      garbage: { status: "13" },
      badTimeout: { status: "3", message: "protocol error: invalid grpc timeout value: soon" },
    });
  });

  it("leaves streaming methods, gRPC-Web and the Connect protocol to Connect's adapter", async () => {
    const p = await probe();
    const fast = createFastGrpcTransport({ baseUrl: p.server.url });
    cleanups.push(() => fast.close());
    const watch = createClient(healthv1.Health, fast).watch({})[Symbol.asyncIterator]();
    expect((await watch.next()).value?.status).toBe(ServingStatus.SERVING);
    await watch.return?.();
    for (const t of [
      createGrpcWebTransport({ baseUrl: p.server.url, httpVersion: "2" }),
      createConnectTransport({ baseUrl: p.server.url, httpVersion: "2" }),
      createConnectTransport({ baseUrl: p.server.url, httpVersion: "2", useBinaryFormat: false }),
      createGrpcTransport({ baseUrl: p.server.url, useBinaryFormat: false }),
    ]) {
      expect((await createClient(controller.TopologyManager, t).showTopology({ topologyName: "t2" })).topology?.name).toBe("t2");
    }
  });

  it("reconnects after the server restarts on the same port, and fails UNAVAILABLE while it is down", async () => {
    const first = await startProbeServer();
    const port = first.server.port;
    const fast = createFastGrpcTransport({ baseUrl: first.server.url });
    cleanups.push(() => fast.close());
    const client = createClient(controller.TopologyManager, fast);
    expect((await client.showTopology({ topologyName: "before" })).topology?.name).toBe("before");
    await first.server.close();
    expect((await rejection(client.showTopology({ topologyName: "down" }))).code).toBe(Code.Unavailable);
    const second = await probe({ port });
    expect(second.server.port).toBe(port);
    expect((await client.showTopology({ topologyName: "after" })).topology?.name).toBe("after");
  });

  it("fails calls after close() and lets go of the connection", async () => {
    const p = await probe();
    const fast: FastGrpcTransport = createFastGrpcTransport({ baseUrl: p.server.url });
    const client = createClient(controller.TopologyManager, fast);
    expect((await client.showTopology({ topologyName: "t" })).topology?.name).toBe("t");
    await fast.close();
    expect((await rejection(client.showTopology({ topologyName: "t" }))).code).toBe(Code.Canceled);
  });
});
