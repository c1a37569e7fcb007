// Observability of the real topology-manager and topology-agent processes: Prometheus
// /metrics scraped over HTTP, spans received by a minimal OTLP/HTTP receiver run here
// (JSON bodies, as the OTLP/HTTP exporter sends them), and log lines carrying trace and
// request ids. Calls go over gRPC (HTTP/2 on loopback) with a W3C traceparent this test makes.
import { randomBytes } from "node:crypto";
import { createServer, type Server } from "node:http";
import { mkdtemp, rm } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { agentv1, bootstrapv1, managerv1, topo } from "@kne/proto";
import { startServerProcess, type ServerProcess } from "@kne/rpc/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { kernelLeftovers, workspaceRoot } from "./helpers.ts";

const managerBin = join(workspaceRoot, "apps/topology-manager/bin/topology-manager.mjs");
const agentBin = join(workspaceRoot, "apps/topology-agent/bin/topology-agent.mjs");
const bootstrapperBin = join(workspaceRoot, "apps/config-bootstrapper/bin/config-bootstrapper.mjs");
const name = "obsring";

interface ReceivedSpan {
  service: string;
  pid: number;
  name: string;
  kind: number;
  traceId: string;
  spanId: string;
  parentSpanId: string;
  attributes: Record<string, unknown>;
}

interface OtlpValue {
  stringValue?: string;
  intValue?: string | number;
  boolValue?: boolean;
}
interface OtlpAttribute {
  key: string;
  value: OtlpValue;
}
interface OtlpTraces {
  resourceSpans?: Array<{
    resource?: { attributes?: OtlpAttribute[] };
    scopeSpans?: Array<{ spans?: Array<{ name: string; kind: number; traceId: string; spanId: string; parentSpanId?: string; attributes?: OtlpAttribute[] }> }>;
  }>;
}

const plain = (v: OtlpValue): unknown => v.stringValue ?? (v.intValue !== undefined ? Number(v.intValue) : v.boolValue);
const attrs = (list: OtlpAttribute[] = []) => Object.fromEntries(list.map((a) => [a.key, plain(a.value)]));

/** The OTLP/HTTP receiver: traces decoded from JSON bodies; metrics requests counted. */
function startReceiver(): Promise<{ server: Server; url: string; spans: ReceivedSpan[]; metricPosts: () => number }> {
  const spans: ReceivedSpan[] = [];
  let metricPosts = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      if (req.url === "/v1/traces") {
        if (!String(req.headers["content-type"]).includes("json")) {
          res.writeHead(415).end();
          return;
        }
        const decoded = JSON.parse(body) as OtlpTraces;
        for (const rs of decoded.resourceSpans ?? []) {
          const resource = attrs(rs.resource?.attributes);
          for (const ss of rs.scopeSpans ?? []) {
            for (const s of ss.spans ?? []) {
              spans.push({
                service: String(resource["service.name"]),
                pid: Number(resource["process.pid"]),
                name: s.name,
                kind: s.kind,
                traceId: s.traceId,
                spanId: s.spanId,
                parentSpanId: s.parentSpanId ?? "",
                attributes: attrs(s.attributes),
              });
            }
          }
        }
      } else if (req.url === "/v1/metrics") {
        metricPosts++;
      }
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
  });
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => {
      resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, spans, metricPosts: () => metricPosts });
    });
  });
}

async function waitFor<T>(what: string, probe: () => T | undefined, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

let stateDir: string;
let receiver: Awaited<ReturnType<typeof startReceiver>>;
let manager: ServerProcess | undefined;
let agent: ServerProcess | undefined;
let bootstrapper: ServerProcess | undefined;
let metricsUrl: string;
let topologies: ReturnType<typeof createClient<typeof managerv1.TopologyService>>;
let links: ReturnType<typeof createClient<typeof managerv1.LinkService>>;

beforeAll(async () => {
  stateDir = await mkdtemp(join(tmpdir(), "kne-obs-"));
  receiver = await startReceiver();
  manager = await startServerProcess(managerBin, ["--state-dir", join(stateDir, "manager"), "--log-level", "info", "--metrics-addr", "127.0.0.1:0", "--otlp-endpoint", receiver.url], 60_000);
  agent = await startServerProcess(agentBin, ["--state-dir", join(stateDir, "agent"), "--log-level", "info"], 60_000, { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url });
  bootstrapper = await startServerProcess(bootstrapperBin, ["--log-level", "info"], 60_000, { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url });
  const started = manager.lines.find((l) => l["msg"] === "telemetry started");
  metricsUrl = String(started?.["metricsUrl"]);
  const transport = createGrpcTransport({ baseUrl: manager.url });
  topologies = createClient(managerv1.TopologyService, transport);
  links = createClient(managerv1.LinkService, transport);
  await topologies.createTopology(
    {
      topology: {
        name,
        nodes: ["h1", "h2", "h3"].map((n) => ({ name: n, vendor: topo.Vendor.HOST })),
        links: [
          { aNode: "h1", aInt: "eth1", zNode: "h2", zInt: "eth2" },
          { aNode: "h2", aInt: "eth1", zNode: "h3", zInt: "eth2" },
          { aNode: "h3", aInt: "eth1", zNode: "h1", zInt: "eth2" },
        ],
      },
    },
    { timeoutMs: 120_000 },
  );
}, 180_000);

afterAll(async () => {
  if (manager) {
    await topologies.deleteTopology({ name }, { timeoutMs: 120_000 }).catch(() => undefined);
    await manager.stop("SIGTERM");
    // Metrics also went out over OTLP: at the latest, flushed when the manager stopped.
    expect(receiver.metricPosts()).toBeGreaterThan(0);
  }
  await agent?.stop("SIGTERM");
  await bootstrapper?.stop("SIGTERM");
  receiver?.server.close();
  await rm(stateDir, { recursive: true, force: true });
  expect(kernelLeftovers(name)).toEqual({ namespaces: [], ports: [] });
}, 180_000);

describe("traces, logs and metrics", () => {
  const traceId = randomBytes(16).toString("hex");
  const callerSpanId = randomBytes(8).toString("hex");
  const requestId = `obs-${randomBytes(4).toString("hex")}`;

  it("continues the caller's trace in the manager (and its agent calls), the agent process and the config-bootstrapper process, with parent links", async () => {
    const traceparent = `00-${traceId}-${callerSpanId}-01`;
    await links.setLinkState({ topology: name, link: "h1:eth1", state: topo.LinkState.DOWN }, { headers: { traceparent, "x-request-id": requestId } });
    await links.setLinkState({ topology: name, link: "h1:eth1", state: topo.LinkState.UP });
    const agentClient = createClient(agentv1.AgentService, createGrpcTransport({ baseUrl: agent!.url }));
    const agentCallerSpan = randomBytes(8).toString("hex");
    await agentClient.getCapabilities({}, { headers: { traceparent: `00-${traceId}-${agentCallerSpan}-01` } });

    const inTrace = () => receiver.spans.filter((s) => s.traceId === traceId);
    const serverSpan = await waitFor("the manager's SetLinkState span", () =>
      inTrace().find((s) => s.service === "topology-manager" && s.name === "kne.manager.v1.LinkService/SetLinkState"),
    );
    expect(serverSpan.parentSpanId).toBe(callerSpanId);
    expect(serverSpan.kind).toBe(2); // SERVER
    expect(serverSpan.attributes).toMatchObject({ "rpc.service": "kne.manager.v1.LinkService", "rpc.method": "SetLinkState", "rpc.grpc.status_code": 0 });
    // The agent call the manager made for it: client span under the server span, the agent's server span under that.
    const agentClientSpan = await waitFor("the manager's agent client span", () =>
      inTrace().find((s) => s.name === "kne.agent.v1.AgentService/SetLinkState" && s.kind === 3 && s.parentSpanId === serverSpan.spanId),
    );
    const agentServerSpan = await waitFor("the agent's server span", () =>
      inTrace().find((s) => s.name === "kne.agent.v1.AgentService/SetLinkState" && s.kind === 2 && s.parentSpanId === agentClientSpan.spanId),
    );
    expect(agentServerSpan.service).toBe("topology-manager");
    // The topology-agent process, a second process in the same trace.
    const remoteAgentSpan = await waitFor("the topology-agent process's span", () =>
      inTrace().find((s) => s.service === "topology-agent" && s.name === "kne.agent.v1.AgentService/GetCapabilities"),
    );
    expect(remoteAgentSpan.parentSpanId).toBe(agentCallerSpan);
    expect(remoteAgentSpan.pid).not.toBe(serverSpan.pid);
    // The config-bootstrapper process continues the same trace too (its answer here is an error:
    // the span is recorded with the error's code).
    const bootstrapCallerSpan = randomBytes(8).toString("hex");
    const bootstrapClient = createClient(bootstrapv1.BootstrapService, createGrpcTransport({ baseUrl: bootstrapper!.url }));
    await bootstrapClient.pushConfig({}, { headers: { traceparent: `00-${traceId}-${bootstrapCallerSpan}-01` } }).catch(() => undefined);
    const bootstrapSpan = await waitFor("the config-bootstrapper process's span", () =>
      inTrace().find((s) => s.service === "config-bootstrapper" && s.name === "kne.bootstrap.v1.BootstrapService/PushConfig"),
    );
    expect(bootstrapSpan.parentSpanId).toBe(bootstrapCallerSpan);
    expect(bootstrapSpan.kind).toBe(2);
    expect(bootstrapSpan.pid).not.toBe(serverSpan.pid);
    expect(bootstrapSpan.pid).not.toBe(remoteAgentSpan.pid);
    // The second flip sent no traceparent: a trace of its own, not this one.
    expect(inTrace().filter((s) => s.name === "kne.manager.v1.LinkService/SetLinkState")).toHaveLength(1);

    // The log line of the call carries the trace id and the request id it was sent with.
    const line = await waitFor("the rpc log line", () => manager!.lines.find((l) => l["msg"] === "rpc completed" && l["requestId"] === requestId));
    expect(line).toMatchObject({ method: "kne.manager.v1.LinkService/SetLinkState", trace_id: traceId, span_id: serverSpan.spanId, code: "OK" });
  });

  it("serves Prometheus metrics: RPC latency histograms for the calls made, topologies, nodes, links and reconciles", async () => {
    await topologies.getTopology({ name });
    const res = await fetch(metricsUrl);
    expect(res.status).toBe(200);
    const text = await res.text();
    const sample = (re: RegExp): number => {
      const m = text.split("\n").find((l) => re.test(l));
      if (!m) throw new Error(`no sample matching ${re} in /metrics:\n${text.slice(0, 4000)}`);
      return Number(m.split(" ").at(-1));
    };
    expect(text).toMatch(/# TYPE rpc_server_duration histogram\n/);
    expect(text).toMatch(/# UNIT rpc_server_duration ms\n/);
    // Two SetLinkState calls, both in the +Inf bucket and at least one below 1 s.
    expect(sample(/^rpc_server_duration_bucket\{.*rpc_method="SetLinkState".*le="\+Inf"\}/)).toBe(2);
    expect(sample(/^rpc_server_duration_bucket\{.*rpc_method="SetLinkState".*le="1000"\}/)).toBeGreaterThanOrEqual(1);
    expect(sample(/^rpc_server_duration_count\{.*rpc_method="GetTopology".*rpc_grpc_status_code="0"/)).toBe(1);
    expect(sample(/^kne_topologies\{phase="RUNNING",/)).toBe(1);
    expect(sample(/^kne_nodes\{phase="READY",/)).toBe(3);
    expect(sample(/^kne_links\{/)).toBe(3);
    expect(sample(/^kne_reconcile_duration_count\{operation="create",outcome="ok",/)).toBe(1);
    expect(sample(/^kne_watch_watchers\{/)).toBe(0);
    expect((await fetch(metricsUrl.replace("/metrics", "/other"))).status).toBe(404);
  });
});
