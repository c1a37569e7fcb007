/** `kne watch NAME` — follow a topology's events until interrupted. */
import { parseArgs } from "node:util";
import { create } from "@bufbuild/protobuf";
import { managerv1 } from "@kne/proto";
import { ExitCode, type CliIo } from "../cli-io";
import { protoJson, reportError, topologyName } from "../cli-support";
import type { Command } from "../command";
import { connectionHelp, connectionOptions, withManager } from "../manager-client";
import { outputOption, parseOutputFormat } from "../output";
import { phaseName } from "../progress";
import { UsageError } from "../usage-error";

function describe(event: managerv1.TopologyEvent): string {
  const time = event.time ? new Date(Number(event.time.seconds) * 1000).toISOString().slice(11, 19) : "";
  switch (event.type) {
    case managerv1.TopologyEvent_Type.NODE_CHANGED:
      return `${time} ${event.topology} node ${event.node?.name}: ${phaseName(event.node?.phase ?? 0, "node")}${event.node?.message ? `: ${event.node.message}` : ""}${event.node?.restarts ? ` (${event.node.restarts} restarts)` : ""}`;
    case managerv1.TopologyEvent_Type.DELETED:
      return `${time} ${event.topology} deleted`;
    default:
      return `${time} ${event.topology} ${phaseName(event.status?.phase ?? 0, "topology")}`;
  }
}

export const watchCommand: Command = {
  words: ["watch"],
  summary: "Follow a topology: node phase changes, restarts, deletion",
  help: `Follow a topology's events until interrupted (Ctrl-C): first its current state, then
every change of its phase or of a node's phase, message or restart count, and its deletion
(which ends the watch). Without NAME, every topology.

Usage:
  kne watch [NAME] [-o table|json|yaml]

Flags:
  -o, --output FORMAT   table (default: one line per event), json or yaml (one document per event)
      --count N         stop after N events
${connectionHelp}
  -h, --help            Show this help

Examples:
  kne watch frr-clos
  kne watch -o json | jq .event.node
`,
  async run(args: string[], io: CliIo) {
    const { values, positionals } = parseArgs({ args, options: { ...outputOption, ...connectionOptions, count: { type: "string" } }, allowPositionals: true, strict: true });
    const output = parseOutputFormat(values.output);
    if (positionals.length > 1) throw new UsageError("watch takes at most one topology NAME");
    const name = positionals[0] ? await topologyName(positionals[0], io) : "";
    const limit = values.count !== undefined ? Number(values.count) : Infinity;
    const abort = new AbortController();
    const stop = (): void => abort.abort();
    process.once("SIGINT", stop);
    return withManager(values, async (m) => {
      let seen = 0;
      try {
        for await (const { event } of m.topology.watchTopologies({ name }, { signal: abort.signal })) {
          if (!event) continue;
          if (output === "json") io.stdout.write(`${JSON.stringify(protoJson(managerv1.WatchTopologiesResponseSchema, create(managerv1.WatchTopologiesResponseSchema, { event })))}\n`);
          else if (output === "yaml") io.stdout.write(`---\n${(await import("yaml")).stringify(protoJson(managerv1.TopologyEventSchema, event))}`);
          else io.stdout.write(`${describe(event)}\n`);
          if (++seen >= limit || (name !== "" && event.type === managerv1.TopologyEvent_Type.DELETED)) break;
        }
        return ExitCode.ok;
      } catch (error) {
        if (abort.signal.aborted) return ExitCode.ok;
        return reportError("kne watch", error, io);
      } finally {
        process.off("SIGINT", stop);
      }
    });
  },
};
