/** `kne topology generate ring N` — a ring topology, written as text format (or YAML, JSON). */
import { existsSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { isTopologyFormat, loadTopology, serializeTopology, topologyFormats } from "@kne/topology";
import { ExitCode, type CliIo } from "../cli-io";
import type { Command } from "../command";
import { cloneRing, hostRing } from "../ring";
import { UsageError } from "../usage-error";

function count(text: string, what: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > 10_000) throw new UsageError(`${what} must be a whole number 1-10000, got "${text}"`);
  return n;
}

export const topologyGenerateRingCommand: Command = {
  words: ["topology", "generate", "ring"],
  summary: "Generate a ring topology (of hosts, or of clones of a file's first node)",
  help: `Generate a ring topology and print it (text format unless --to says otherwise).

  kne topology generate ring N                a ring of N Linux hosts h1..hN, each host's
                                              eth1 wired to the next one's eth2
  kne topology generate ring FILE COUNT LINKS upstream's form: FILE's first node cloned COUNT
                                              times as <name>-i, node i's eth{j} wired to node
                                              (i+1)%COUNT's eth{j+LINKS}, j = 1..LINKS

Usage:
  kne topology generate ring N [--name NAME] [--to textproto|yaml|json] [-O FILE]
  kne topology generate ring FILE COUNT LINKS [--to FORMAT] [-O FILE]

Flags:
      --name NAME       topology name of a host ring (default ring-N)
      --to FORMAT       textproto (default), yaml or json
  -O, --out-file FILE   write here instead of stdout
  -h, --help            Show this help

Examples:
  kne topology generate ring 100 -O ring100.pb.txt && kne create ring100.pb.txt
  kne topology generate ring examples/frr-2node-ebgp/topology.pb.txt 4 1 --to yaml
`,
  async run(args: string[], io: CliIo) {
    const { values, positionals } = parseArgs({
      args,
      options: { name: { type: "string" }, to: { type: "string", default: "textproto" }, "out-file": { type: "string", short: "O" } },
      allowPositionals: true,
      strict: true,
    });
    if (!isTopologyFormat(values.to!)) throw new UsageError(`--to must be one of ${topologyFormats.join(", ")}`);
    let topology;
    if (positionals.length === 1) {
      const n = count(positionals[0]!, "N");
      const name = values.name ?? `ring-${n}`;
      topology = hostRing(name, n);
    } else if (positionals.length === 3) {
      if (!existsSync(resolve(io.cwd, positionals[0]!))) throw new UsageError(`${positionals[0]}: no such file`);
      const base = (await loadTopology(positionals[0]!, { cwd: io.cwd })).topology;
      topology = cloneRing(base, count(positionals[1]!, "COUNT"), count(positionals[2]!, "LINKS"));
      if (values.name) topology.name = values.name;
    } else {
      throw new UsageError("give N, or FILE COUNT LINKS");
    }
    const text = serializeTopology(topology, values.to!);
    if (values["out-file"]) await writeFile(resolve(io.cwd, values["out-file"]), text);
    else io.stdout.write(text);
    return ExitCode.ok;
  },
};
