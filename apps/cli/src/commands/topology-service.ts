/** `kne topology service NAME` — the nodes' services and where to reach them. */
import { parseArgs } from "node:util";
import { create } from "@bufbuild/protobuf";
import { managerv1 } from "@kne/proto";
import { serializeTopology } from "@kne/topology";
import { ExitCode, type CliIo } from "../cli-io";
import { protoJson, reportError, topologyName } from "../cli-support";
import type { Command } from "../command";
import { connectionHelp, connectionOptions, withManager } from "../manager-client";
import { formatTable, parseOutputFormat, writeStructured } from "../output";
import { UsageError } from "../usage-error";

export const topologyServiceCommand: Command = {
  words: ["topology", "service"],
  summary: "Show the nodes' services and the addresses they are reached at",
  help: `Show the services of a running topology's nodes (from the topology, else the vendor's
defaults) and where they are reached: on the local backend, at the node's management
address (from this host) on the service's inside port, and, for a topology created with
--forward-services (or services with a node_port), at a host port forwarded to it
(FORWARD, 127.0.0.1:PORT unless the topology was created with another --forward-address).

-o textproto prints upstream KNE's form: the resolved topology in text format, each node
with pod_ip and each service with inside_ip (the management address), outside and
inside; a forwarded service has outside_ip (the host address) and node_port (the host
port), as upstream reports a service's external address and node port.

Usage:
  kne topology service NAME [-o table|textproto|json|yaml]

Flags:
  -o, --output FORMAT   table (default), textproto, json or yaml
${connectionHelp}
  -h, --help            Show this help

Examples:
  kne topology service gobgp-2node
  kne topology service frr-clos -o textproto
`,
  async run(args: string[], io: CliIo) {
    const { values, positionals } = parseArgs({
      args,
      options: { ...connectionOptions, output: { type: "string", short: "o", default: "table" } },
      allowPositionals: true,
      strict: true,
    });
    const textproto = values.output === "textproto";
    const output = textproto ? "table" : parseOutputFormat(values.output);
    if (positionals.length !== 1) throw new UsageError("topology service takes one topology NAME");
    const name = await topologyName(positionals[0]!, io);
    return withManager(values, async (m) => {
      try {
        if (textproto) {
          const r = await m.topology.getTopology({ name });
          io.stdout.write(serializeTopology(r.topology!, "textproto"));
          return ExitCode.ok;
        }
        const r = await m.topology.listServices({ topology: name });
        if (output !== "table") {
          await writeStructured(io.stdout, output, protoJson(managerv1.ListServicesResponseSchema, create(managerv1.ListServicesResponseSchema, r)));
        } else if (r.endpoints.length === 0) {
          io.stderr.write(`topology ${name}: no node has services\n`);
        } else {
          const rows = [["NODE", "SERVICE", "OUTSIDE", "INSIDE", "REACH AT", "FORWARD"]];
          for (const e of r.endpoints) {
            const s = e.service;
            const names = s?.names.length ? s.names.join(",") : (s?.name ?? "");
            const forward = s && s.nodePort !== 0 ? `${hostPort(s.outsideIp, s.nodePort)}` : "-";
            rows.push([e.node, names, String(s?.outside ?? ""), String(s?.inside ?? ""), hostPort(e.address, e.port), forward]);
          }
          io.stdout.write(formatTable(rows));
        }
        return ExitCode.ok;
      } catch (error) {
        return reportError("kne topology service", error, io);
      }
    });
  },
};

function hostPort(address: string, port: number): string {
  return address.includes(":") ? `[${address}]:${port}` : `${address}:${port}`;
}
