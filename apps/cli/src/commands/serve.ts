/**
 * `kne serve` — the topology-manager in the foreground: the same process, flags and
 * environment variables as the `topology-manager` app. It runs as a child (apps never import
 * apps), with its logs passed through and SIGINT/SIGTERM/SIGHUP forwarded to it by pid.
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { ExitCode, type CliIo } from "../cli-io";
import type { Command } from "../command";

const managerBin = fileURLToPath(new URL("../../../topology-manager/bin/topology-manager.mjs", import.meta.url));

export const serveCommand: Command = {
  words: ["serve"],
  summary: "Serve the topology-manager API (gRPC, gRPC-Web, Connect) in the foreground",
  help: `Serve the KNE API in the foreground: kne.manager.v1 (TopologyService, LinkService,
NodeService) and upstream's controller.TopologyManager over the local backend, with
grpc.health.v1 and server reflection, on one HTTP/2 port. Other kne commands use it with
--server ADDR (or $KNE_SERVER). It is the topology-manager app; its flags are these.

Usage:
  kne serve [flags]

Flags:
      --port N                 TCP port (default 50051; 0 picks a free one)
      --host ADDR              address to bind (default 127.0.0.1)
      --log-level LEVEL        fatal, error, warn, info, debug, trace or silent
      --state-dir DIR          where topologies are kept ($KNE_STATE_DIR; default /var/lib/kne)
      --tls-cert FILE          serve TLS with this PEM certificate ($KNE_TLS_CERT)
      --tls-key FILE           its PEM private key ($KNE_TLS_KEY)
      --tls-client-ca FILE     mTLS: require client certificates signed by this CA
                               ($KNE_TLS_CLIENT_CA)
      --auth-token-file FILE   require "authorization: Bearer <token>" on calls that change
                               state ($KNE_AUTH_TOKEN_FILE)
      --metrics-addr HOST:PORT serve Prometheus metrics at /metrics ($KNE_METRICS_ADDR)
      --otlp-endpoint URL      export traces and metrics over OTLP/HTTP
                               ($OTEL_EXPORTER_OTLP_ENDPOINT)
      --max-nodes N            nodes per topology ($KNE_MAX_NODES; default 10000)
      --max-links N            links per topology ($KNE_MAX_LINKS; default 50000)
      --max-message-bytes N    largest request ($KNE_MAX_MESSAGE_BYTES; default 16 MiB)
  -h, --help                   Show this help

Logs are JSON lines on stdout. SIGINT or SIGTERM stops the server gracefully.

Examples:
  kne serve --state-dir /var/lib/kne
  kne serve --port 50051 --auth-token-file /etc/kne/token
  kne serve --tls-cert server.pem --tls-key server-key.pem --tls-client-ca ca.pem
  kne serve --metrics-addr 127.0.0.1:9464 --otlp-endpoint http://127.0.0.1:4318
  buf curl --http2-prior-knowledge --list-services http://127.0.0.1:50051
  kne list --server 127.0.0.1:50051
`,
  run(args: string[], io: CliIo) {
    return new Promise<ExitCode>((resolve) => {
      // Its own process group: a terminal's Ctrl-C reaches kne only, and kne forwards it once
      // (a second signal would make the manager skip its graceful stop).
      const child = spawn(process.execPath, [managerBin, ...args], { cwd: io.cwd, stdio: ["ignore", "pipe", "pipe"], detached: true });
      child.stdout.setEncoding("utf8").on("data", (chunk: string) => io.stdout.write(chunk));
      child.stderr.setEncoding("utf8").on("data", (chunk: string) => io.stderr.write(chunk));
      const signals = ["SIGINT", "SIGTERM", "SIGHUP"] as const;
      const forward = (signal: NodeJS.Signals): void => {
        if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      };
      for (const s of signals) process.on(s, forward);
      const done = (code: ExitCode): void => {
        for (const s of signals) process.off(s, forward);
        resolve(code);
      };
      child.once("error", (err) => {
        io.stderr.write(`kne serve: could not start the topology-manager: ${err.message}\n`);
        done(ExitCode.failure);
      });
      child.once("close", (code) => done(code === 0 ? ExitCode.ok : code === 2 ? ExitCode.usage : ExitCode.failure));
    });
  },
};
