/**
 * RPC path benchmark: one trivial unary call (grpc.health.v1.Health/Check) over gRPC on
 * loopback, N sequential calls after a warm-up, for every pairing of
 *
 * - client: connect-node's `createGrpcTransport`, or @kne/rpc's `createFastGrpcTransport`;
 * - server: `startServer` with `fastUnary: false` (every call through Connect's node
 *   adapter) or with the lean unary path (the default).
 *
 * Both servers run in a child process (this script with --serve), so the CPU time of the
 * client (this process) and of the server (the child) are measured apart. Printed: p50,
 * p99 and max latency, client and server CPU µs per call, and the load average.
 *
 * Run:  npm run bench:rpc -w @kne/bench -- [--calls 5000] [--warmup 1000]
 *   (or: npx tsx tools/bench/rpc/run.ts ...). No privileges needed.
 */
import { fork, type ChildProcess } from "node:child_process";
import { loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { createClient, type Transport } from "@connectrpc/connect";
import { createGrpcTransport, Http2SessionManager } from "@connectrpc/connect-node";
import { healthv1 } from "@kne/proto";
import { createFastGrpcTransport, startServer, type RunningServer } from "@kne/rpc";
import { createLogger } from "@kne/telemetry";

const { values: flags } = parseArgs({
  options: {
    calls: { type: "string", default: "5000" },
    warmup: { type: "string", default: "1000" },
    serve: { type: "boolean", default: false },
  },
});

type ServerKind = "adapter" | "fast";
type ToParent = { ports: Record<ServerKind, number> } | { cpuMicros: number };

/** The child: both servers, answering CPU-usage questions over IPC. */
async function serve(): Promise<void> {
  // Health checks log at debug: nothing is written, as in production at level info.
  const logger = createLogger({ name: "bench-rpc", level: "info", destination: { write: () => undefined } });
  const servers: Record<ServerKind, RunningServer> = {
    adapter: await startServer({ port: 0, services: [], logger, fastUnary: false }),
    fast: await startServer({ port: 0, services: [], logger, fastUnary: true }),
  };
  const send = (m: ToParent): void => void process.send?.(m);
  process.on("message", (m: string) => {
    if (m === "cpu") {
      const u = process.cpuUsage();
      send({ cpuMicros: u.user + u.system });
    } else if (m === "stop") {
      void Promise.all([servers.adapter.close(), servers.fast.close()]).then(() => process.exit(0));
    }
  });
  send({ ports: { adapter: servers.adapter.port, fast: servers.fast.port } });
}

function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}
const ms = (x: number): string => x.toFixed(x < 10 ? 2 : 1);

async function main(): Promise<void> {
  const calls = Number(flags.calls);
  const warmup = Number(flags.warmup);
  if (!(Number.isInteger(calls) && calls > 0) || !(Number.isInteger(warmup) && warmup >= 0)) {
    console.error("usage: run.ts [--calls N>0] [--warmup W>=0]");
    process.exit(2);
  }
  const child: ChildProcess = fork(fileURLToPath(import.meta.url), ["--serve"], { execArgv: process.execArgv, stdio: "inherit" });
  const next = (): Promise<ToParent> => new Promise((resolve) => child.once("message", (m) => resolve(m as ToParent)));
  const serverCpu = async (): Promise<number> => {
    const reply = next();
    child.send("cpu");
    const m = await reply;
    if (!("cpuMicros" in m)) throw new Error("the server child answered something else than its CPU time");
    return m.cpuMicros;
  };
  try {
    const hello = await next();
    if (!("ports" in hello)) throw new Error("the server child did not report its ports");
    const rows: string[] = [];
    for (const server of ["adapter", "fast"] as const) {
      for (const client of ["connect-node", "fast"] as const) {
        const baseUrl = `http://127.0.0.1:${hello.ports[server]}`;
        let transport: Transport;
        let close: () => Promise<void>;
        if (client === "fast") {
          const t = createFastGrpcTransport({ baseUrl });
          transport = t;
          close = () => t.close();
        } else {
          const sessions = new Http2SessionManager(baseUrl);
          transport = createGrpcTransport({ baseUrl, sessionManager: sessions });
          close = async () => sessions.abort();
        }
        const health = createClient(healthv1.Health, transport);
        for (let i = 0; i < warmup; i++) await health.check({});
        const latencies = new Array<number>(calls);
        const server0 = await serverCpu();
        const client0 = process.cpuUsage();
        for (let i = 0; i < calls; i++) {
          const t = performance.now();
          await health.check({});
          latencies[i] = performance.now() - t;
        }
        const c = process.cpuUsage(client0);
        const serverMicros = (await serverCpu()) - server0;
        await close();
        latencies.sort((a, b) => a - b);
        rows.push(
          `| ${client} | ${server === "fast" ? "fast unary path" : "Connect adapter (fastUnary: false)"} | ${calls} | ${ms(quantile(latencies, 0.5))} | ${ms(quantile(latencies, 0.99))} | ${ms(latencies.at(-1)!)} | ${((c.user + c.system) / calls).toFixed(0)} | ${(serverMicros / calls).toFixed(0)} |`,
        );
      }
    }
    console.log(`\ngrpc.health.v1.Health/Check over gRPC (HTTP/2 cleartext, loopback), ${calls} sequential calls after ${warmup} warm-up calls`);
    console.log("| client | server | calls | p50 ms | p99 ms | max ms | client CPU µs/call | server CPU µs/call |");
    console.log("|---|---|---|---|---|---|---|---|");
    for (const r of rows) console.log(r);
    console.log(`load average at the end: ${loadavg().map((x) => x.toFixed(2)).join(" ")}`);
  } finally {
    child.send("stop");
    await new Promise((resolve) => child.once("exit", resolve));
  }
}

if (flags.serve) await serve();
else await main();
