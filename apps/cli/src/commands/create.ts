/** `kne create FILE` — make a topology and wait until every node is ready. */
import { isIP } from "node:net";
import { parseArgs } from "node:util";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { managerv1, type topo } from "@kne/proto";
import { ExitCode, type CliIo } from "../cli-io";
import { loadForManager, parseDuration, protoJson, reportError } from "../cli-support";
import type { Command } from "../command";
import { connectionHelp, connectionOptions, withManager } from "../manager-client";
import { outputOption, parseOutputFormat, writeStructured } from "../output";
import { progressMode, verboseOption, watchProgress } from "../progress";
import { UsageError } from "../usage-error";
import { writeTopologyTable } from "./show";

export const createCommand: Command = {
  words: ["create"],
  summary: "Create a topology from a file and wait until every node is ready",
  help: `Create a topology: validate the file (every problem is reported, and nothing is made
when there is one), then make each node — a network namespace with its links, a management
interface eth0 on the host's segment kne-mgmt (an address from 198.19.0.0/16) and the vendor's
processes (FRR daemons, gobgpd, bird, a host command) — and wait until every node is
ready. Progress per node is written to stderr while it waits.

Without --server the manager runs in this process (the local backend: this machine, as
root); the topology keeps running after kne exits, under its own supervisor process.

Node services (ssh 22, gnmi 9339, ... from the topology, else the vendor's defaults) are
reachable from this host at the node's management address. --forward-services also
forwards a host port to each of them, on 127.0.0.1 unless --forward-address says
otherwise: a free port each, or the service's node_port when the topology sets one (a
service with a node_port is forwarded even without the flag). The forwards live as long
as the topology; 'kne topology service NAME' lists them.

Usage:
  kne create FILE [--dryrun] [--timeout 5m] [--forward-services [--forward-address IP]]
                  [--image-pull-secret NAME]... [-o table|json|yaml]

Flags:
      --dryrun          validate and show what would be made; make nothing
      --timeout D       fail when the nodes are not all ready by then (default 5m);
                        the topology stays (see 'kne show'); 'kne delete' removes it
      --forward-services
                        forward a host port to every node service
      --forward-address IP
                        the host address forwards listen on (default 127.0.0.1;
                        0.0.0.0 opens them to every network this host is on)
      --image-pull-secret NAME
                        kubernetes backend: a Secret in the topology's namespace
                        that its pods pull images with (repeat for several)
  -v, --verbose         progress as a line per node and change (default: a live
                        status on a terminal, a line a second otherwise)
  -o, --output FORMAT   table (default), json or yaml (the result only: no progress)
${connectionHelp}
  -h, --help            Show this help

Exit status: 0 created and ready, 1 invalid topology or a node failed or timed out,
2 wrong command line.

Examples:
  kne create examples/frr-clos/topology.pb.txt
  kne create lab.yaml --timeout 90s
  kne create examples/gobgp-2node/topology.pb.txt --forward-services
  kne create examples/host-3node/topology.pb.txt --dryrun -o yaml
`,
  async run(args: string[], io: CliIo) {
    const { values, positionals } = parseArgs({
      args,
      options: {
        ...outputOption,
        ...verboseOption,
        ...connectionOptions,
        dryrun: { type: "boolean" },
        timeout: { type: "string" },
        "forward-services": { type: "boolean" },
        "forward-address": { type: "string" },
        "image-pull-secret": { type: "string", multiple: true },
      },
      allowPositionals: true,
      strict: true,
    });
    const output = parseOutputFormat(values.output);
    if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? "a topology FILE is needed" : "create takes exactly one FILE");
    const timeoutMs = values.timeout !== undefined ? parseDuration(values.timeout, "--timeout") : 5 * 60_000;
    const forwardAddress = values["forward-address"]?.trim();
    if (forwardAddress !== undefined && isIP(forwardAddress) === 0) throw new UsageError(`--forward-address must be an IP address of this host (for example 127.0.0.1), got "${values["forward-address"]}"`);
    const input = await loadForManager(positionals[0]!, io);
    if (!input) return ExitCode.failure;
    const name = input.topology.name;
    return withManager(values, async (m) => {
      const started = Date.now();
      const mode = values.dryrun ? "quiet" : progressMode(io, values);
      if (mode !== "quiet") io.stderr.write(`creating topology ${name} (${input.topology.nodes.length} nodes, ${input.topology.links.length} links) — ${m.where}\n`);
      const progress = watchProgress(m, io, mode, { verb: "creating", topology: name, expected: input.topology.nodes.length, started });
      try {
        const response = await m.topology.createTopology(
          {
            topology: input.topology,
            dryRun: values.dryrun ?? false,
            baseDir: input.loaded.baseDir ?? "",
            timeout: { seconds: BigInt(Math.ceil(timeoutMs / 1000)), nanos: 0 },
            forwardServices: values["forward-services"] ?? false,
            forwardAddress: forwardAddress ?? "",
            imagePullSecrets: values["image-pull-secret"] ?? [],
          },
          { timeoutMs: timeoutMs + 30_000 },
        );
        await progress.stop(response.status?.nodes);
        if (output !== "table") {
          await writeStructured(io.stdout, output, protoJson(managerv1.CreateTopologyResponseSchema, create(managerv1.CreateTopologyResponseSchema, response)));
        } else {
          if (!values.dryrun) io.stderr.write(`topology ${name} is ready (${((Date.now() - started) / 1000).toFixed(1)} s)\n`);
          writeForwards(io, response.topology!);
          writeTopologyTable(io, response.topology!, response.status!);
        }
        return ExitCode.ok;
      } catch (error) {
        await progress.stop();
        const code = reportError("kne create", error, io);
        if (error instanceof ConnectError && [Code.DeadlineExceeded, Code.FailedPrecondition, Code.Internal].includes(error.code) && /nodes|supervisor/.test(error.rawMessage) && !values.dryrun) {
          io.stderr.write(`see 'kne show ${name}' and 'kne logs ${name} NODE'; 'kne delete ${name}' removes what was made\n`);
        }
        return code;
      }
    });
  },
};

/** One stderr line per forwarded service: where to connect from this host. */
function writeForwards(io: CliIo, topology: topo.Topology): void {
  const lines: string[] = [];
  for (const node of topology.nodes) {
    for (const [port, s] of Object.entries(node.services).sort((a, b) => Number(a[0]) - Number(b[0]))) {
      if (s.nodePort === 0) continue;
      const names = s.names.length > 0 ? s.names.join(",") : s.name || port;
      const host = s.outsideIp.includes(":") ? `[${s.outsideIp}]` : s.outsideIp;
      lines.push(`  ${node.name} ${names} (${port}): ${host}:${s.nodePort} -> ${node.podIp}:${s.inside || port}`);
    }
  }
  if (lines.length > 0) io.stderr.write(`forwarded services (host port -> node):\n${lines.join("\n")}\n`);
}
