/** `kne link impair NAME LINK --loss 20 --rate 50mbit ...` — degrade a link. */
import { parseArgs } from "node:util";
import { create } from "@bufbuild/protobuf";
import { topo } from "@kne/proto";
import { ExitCode, type CliIo } from "../cli-io";
import { parseDuration, reportError, topologyName } from "../cli-support";
import type { Command } from "../command";
import { writeLinkTable } from "../link-table";
import { connectionHelp, connectionOptions, withManager } from "../manager-client";
import { UsageError } from "../usage-error";

/** `50mbit`, `1gbit`, `800kbit`, `2000` (kbit) → kbit/s. */
export function parseRate(text: string): bigint {
  const m = /^(\d+(?:\.\d+)?)\s*(kbit|mbit|gbit|kbps|mbps|gbps)?$/i.exec(text.trim());
  if (!m) throw new UsageError(`--rate must be a rate such as 50mbit, 800kbit or 1gbit, got "${text}"`);
  const unit = (m[2] ?? "kbit").toLowerCase();
  const factor = unit.startsWith("g") ? 1_000_000 : unit.startsWith("m") ? 1000 : 1;
  const kbps = Math.round(Number(m[1]) * factor);
  if (kbps <= 0) throw new UsageError("--rate must be more than 0");
  return BigInt(kbps);
}

function percent(text: string, flag: string): number {
  const v = Number(text.replace(/%$/, ""));
  if (!Number.isFinite(v) || v < 0 || v > 100) throw new UsageError(`${flag} must be a percentage 0-100, got "${text}"`);
  return v;
}

export const linkImpairCommand: Command = {
  words: ["link", "impair"],
  summary: "Impair a link: loss, rate limit (delay, jitter... where the kernel has netem)",
  help: `Impair a running link: the impairments replace the link's current ones, on the egress
of both endpoints (both directions) unless --direction says a-to-z or z-to-a. Loss and
rate work on any kernel (nft random drop, tbf); delay, jitter, corruption, duplication
and reordering need the kernel's sch_netem — without it the request fails naming it and
nothing changes. 'kne link clear' removes them.

Usage:
  kne link impair NAME LINK [--loss P] [--rate R] [--delay D] [--jitter D]
                  [--corrupt P] [--duplicate P] [--reorder P] [--direction both|a-to-z|z-to-a]

Flags:
      --loss P          drop P percent of packets (0-100)
      --rate R          rate limit: 50mbit, 800kbit, 1gbit
      --delay D         added delay (10ms); --jitter D its variation
      --corrupt P, --duplicate P, --reorder P   percentages
      --direction DIR   both (default), a-to-z or z-to-a
${connectionHelp}
  -h, --help            Show this help

Examples:
  kne link impair frr-clos leaf1:eth1 --loss 20
  kne link impair frr-clos spine1:eth1--leaf1:eth1 --rate 50mbit --direction a-to-z
`,
  async run(args: string[], io: CliIo) {
    const { values, positionals } = parseArgs({
      args,
      options: {
        ...connectionOptions,
        loss: { type: "string" },
        rate: { type: "string" },
        delay: { type: "string" },
        jitter: { type: "string" },
        corrupt: { type: "string" },
        duplicate: { type: "string" },
        reorder: { type: "string" },
        direction: { type: "string", default: "both" },
      },
      allowPositionals: true,
      strict: true,
    });
    if (positionals.length !== 2) throw new UsageError("link impair needs NAME and LINK");
    const i = create(topo.ImpairmentsSchema);
    if (values.loss !== undefined) i.lossPercent = percent(values.loss, "--loss");
    if (values.rate !== undefined) i.rateKbps = parseRate(values.rate);
    if (values.delay !== undefined) i.delayUs = parseDuration(values.delay, "--delay") * 1000;
    if (values.jitter !== undefined) i.jitterUs = parseDuration(values.jitter, "--jitter") * 1000;
    if (values.corrupt !== undefined) i.corruptionPercent = percent(values.corrupt, "--corrupt");
    if (values.duplicate !== undefined) i.duplicationPercent = percent(values.duplicate, "--duplicate");
    if (values.reorder !== undefined) i.reorderPercent = percent(values.reorder, "--reorder");
    if (!["both", "a-to-z", "z-to-a"].includes(values.direction!)) throw new UsageError(`--direction must be both, a-to-z or z-to-a, got "${values.direction}"`);
    if (Object.values({ ...values, server: undefined, "state-dir": undefined, direction: undefined }).every((v) => v === undefined)) {
      throw new UsageError("give at least one impairment (--loss, --rate, ...); 'kne link clear' removes them");
    }
    const name = await topologyName(positionals[0]!, io);
    return withManager(values, async (m) => {
      try {
        const r = await m.link.setLinkImpairments({
          topology: name,
          link: positionals[1]!,
          ...(values.direction !== "z-to-a" ? { aToZ: i } : {}),
          ...(values.direction !== "a-to-z" ? { zToA: i } : {}),
        });
        writeLinkTable(io, [r.link!]);
        return ExitCode.ok;
      } catch (error) {
        return reportError("kne link impair", error, io);
      }
    });
  },
};
