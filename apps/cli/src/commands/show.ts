/** `kne show NAME|FILE` — a running topology: its nodes, their state and addresses, its links. */
import { parseArgs } from "node:util";
import { create } from "@bufbuild/protobuf";
import { managerv1, topo } from "@kne/proto";
import { ExitCode, type CliIo } from "../cli-io";
import { protoJson, reportError, topologyName } from "../cli-support";
import type { Command } from "../command";
import { connectionHelp, connectionOptions, withManager } from "../manager-client";
import { formatTable, outputOption, parseOutputFormat, writeStructured } from "../output";
import { phaseName } from "../progress";
import { UsageError } from "../usage-error";

function vendorOf(node: topo.Node): string {
  return topo.Vendor[node.vendor] ?? String(node.vendor);
}

/** The table `create`, `show` and `apply` print. */
export function writeTopologyTable(io: CliIo, topology: topo.Topology, status: managerv1.TopologyStatus): void {
  const phase = status.phase === managerv1.TopologyPhase.UNSPECIFIED ? "not created (dry run)" : phaseName(status.phase, "topology");
  io.stdout.write(`topology ${topology.name}: ${phase}${status.backend ? ` (${status.backend} backend)` : ""}\n\n`);
  const byName = new Map(status.nodes.map((n) => [n.name, n]));
  const rows = [["NODE", "VENDOR", "PHASE", "MANAGEMENT", "RESTARTS", "MESSAGE"]];
  for (const node of topology.nodes) {
    const s = byName.get(node.name);
    rows.push([node.name, vendorOf(node), s ? phaseName(s.phase, "node") : "-", s?.managementAddress || "-", String(s?.restarts ?? 0), s?.message ?? ""]);
  }
  io.stdout.write(formatTable(rows));
  if (topology.links.length > 0) {
    io.stdout.write("\n");
    const links = [["LINK", "A", "Z"]];
    topology.links.forEach((l, i) => {
      const uid = topology.nodes.find((n) => n.name === l.aNode)?.interfaces[l.aInt]?.uid ?? BigInt(i);
      links.push([String(uid), `${l.aNode}:${l.aInt}`, `${l.zNode}:${l.zInt}`]);
    });
    io.stdout.write(formatTable(links));
  }
}

export const showCommand: Command = {
  words: ["show"],
  summary: "Show a running topology: nodes, their phase and management addresses, links",
  help: `Show a running topology: each node's phase (pending, starting, ready, failed,
stopped) with why, its management address (reachable from this host) and how often its
processes were restarted; then the links with their uids. The argument is the topology's
name or the file it was created from.

Usage:
  kne show NAME|FILE [-o table|json|yaml]

Flags:
  -o, --output FORMAT   table (default), json or yaml (the resolved topology and its status)
${connectionHelp}
  -h, --help            Show this help

Exit status: 0 shown, 1 no such topology, 2 wrong command line.

Examples:
  kne show frr-clos
  kne show examples/frr-clos/topology.pb.txt -o yaml
`,
  async run(args: string[], io: CliIo) {
    const { values, positionals } = parseArgs({ args, options: { ...outputOption, ...connectionOptions }, allowPositionals: true, strict: true });
    const output = parseOutputFormat(values.output);
    if (positionals.length !== 1) throw new UsageError("show takes one topology NAME or FILE");
    const name = await topologyName(positionals[0]!, io);
    return withManager(values, async (m) => {
      try {
        const r = await m.topology.getTopology({ name });
        if (output !== "table") await writeStructured(io.stdout, output, protoJson(managerv1.GetTopologyResponseSchema, create(managerv1.GetTopologyResponseSchema, r)));
        else writeTopologyTable(io, r.topology!, r.status!);
        return ExitCode.ok;
      } catch (error) {
        return reportError("kne show", error, io);
      }
    });
  },
};
