// Shared by this package's specs (not exported): a server with a fake upstream-compatible
// TopologyManager, and a logger whose lines the test can read.
import { createLogger, type Logger } from "@kne/telemetry";
import { controller } from "@kne/proto";
import { ConnectError, type Interceptor } from "@connectrpc/connect";
import { invalidArgument } from "./errors";
import { serviceRegistration } from "./service-registration";
import { startServer, type RunningServer, type TlsOptions } from "./server";

export interface CapturedLogs {
  logger: Logger;
  lines(): Record<string, unknown>[];
}

export function captureLogs(): CapturedLogs {
  const chunks: string[] = [];
  const logger = createLogger({ name: "rpc-test", level: "debug", destination: { write: (m: string) => void chunks.push(m) } });
  return {
    logger,
    lines: () =>
      chunks
        .join("")
        .split("\n")
        .filter((l) => l !== "")
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

/** A deferred the test resolves to let a held call finish. */
export interface Gate {
  entered: Promise<void>;
  release(): void;
}

export interface TestServer extends CapturedLogs {
  server: RunningServer;
  /** DeleteTopology waits on this gate, so tests can hold a call in flight. */
  holdDelete(): Gate;
}

/**
 * ShowTopology: "" → INVALID_ARGUMENT with a field violation; "missing" → a raw ENOENT
 * (foreign error); otherwise RUNNING. DeleteTopology can be held open with holdDelete().
 */
export async function startTestServer(
  options: {
    tls?: TlsOptions;
    interceptors?: Interceptor[];
    shutdownGraceMs?: number;
    fastUnary?: boolean;
    readMaxBytes?: number;
    port?: number;
  } = {},
): Promise<TestServer> {
  const logs = captureLogs();
  let gate: { entered: () => void; released: Promise<void> } | undefined;
  const fake = serviceRegistration(controller.TopologyManager, {
    showTopology(req) {
      if (req.topologyName === "") {
        throw invalidArgument("the request is incomplete", [{ field: "topology_name", description: "must not be empty" }]);
      }
      if (req.topologyName === "missing") {
        throw Object.assign(new Error("ENOENT: no such file or directory, open '/var/lib/kne/missing.json'"), {
          code: "ENOENT",
          errno: -2,
          syscall: "open",
        });
      }
      return { state: controller.TopologyState.RUNNING, topology: { name: req.topologyName } };
    },
    createTopology(req) {
      return { state: controller.TopologyState.CREATING, topology: req.topology };
    },
    async deleteTopology() {
      if (gate) {
        gate.entered();
        await gate.released;
      }
      return {};
    },
  });
  const server = await startServer({
    port: options.port ?? 0,
    host: "127.0.0.1",
    services: [fake],
    logger: logs.logger,
    tls: options.tls,
    interceptors: options.interceptors,
    shutdownGraceMs: options.shutdownGraceMs,
    fastUnary: options.fastUnary,
    readMaxBytes: options.readMaxBytes,
  });
  return {
    ...logs,
    server,
    holdDelete() {
      let entered!: () => void;
      let release!: () => void;
      const enteredP = new Promise<void>((r) => (entered = r));
      const released = new Promise<void>((r) => (release = r));
      gate = { entered, released };
      return { entered: enteredP, release };
    },
  };
}

/** The error a call failed with; fails the test if the call succeeded. */
export async function rejection(call: Promise<unknown>): Promise<ConnectError> {
  try {
    await call;
  } catch (err) {
    return ConnectError.from(err);
  }
  throw new Error("expected the call to fail, it succeeded");
}
