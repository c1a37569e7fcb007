/**
 * What this kernel can do, found by trying it in a throwaway namespace (`kne._probe.<pid>`)
 * once per process: device kinds, qdiscs, nft netdev egress hooks and `fwd`. Module lists
 * lie (features are often built in), attempts do not.
 */
import { parseBatchFailures, toolArgv } from "./batch.ts";
import { type CommandRunner, processRunner } from "./command-runner.ts";
import type { KernelFeature } from "./errors.ts";
import { translateCommandFailure } from "./errors.ts";

export const PROBE_NETNS_PREFIX = "kne._probe.";

export interface KernelFeatures {
  available: ReadonlySet<KernelFeature>;
  missing: ReadonlySet<KernelFeature>;
  /** Why each missing feature is considered missing (the tool's message). */
  reasons: ReadonlyMap<KernelFeature, string>;
}

const IP_PROBES: ReadonlyArray<[KernelFeature, string]> = [
  ["veth", "link add name p0 type veth peer name p1"],
  ["bridge", "link add name pbr type bridge"],
  ["ifb", "link add name pifb type ifb"],
  ["vxlan", "link add name pvx type vxlan id 1 local 127.0.0.1 dstport 4789"],
  ["macvlan", "link add name pmv link p0 type macvlan mode bridge"],
];

const TC_PROBES: ReadonlyArray<[KernelFeature | undefined, string]> = [
  ["sch_netem", "qdisc add dev p0 root handle 1: netem delay 1ms"],
  [undefined, "qdisc del dev p0 root"],
  ["sch_tbf", "qdisc add dev p0 root handle 1: tbf rate 1mbit burst 16k latency 50ms"],
  [undefined, "qdisc del dev p0 root"],
  ["sch_htb", "qdisc add dev p0 root handle 1: htb"],
  [undefined, "qdisc del dev p0 root"],
];

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

async function run(runner: CommandRunner, file: string, args: string[], input?: string): Promise<{ ok: boolean; stderr: string }> {
  const r = await runner.run(file, args, input === undefined ? {} : { input });
  return { ok: r.exitCode === 0, stderr: r.stderr };
}

/** Removes probe namespaces left by processes that died mid-probe. */
export async function removeStaleProbeNamespaces(names: readonly string[], runner: CommandRunner = processRunner): Promise<void> {
  const stale = names.filter((n) => {
    if (!n.startsWith(PROBE_NETNS_PREFIX)) return false;
    const pid = Number(n.slice(PROBE_NETNS_PREFIX.length).split(".")[0]);
    return Number.isInteger(pid) && pid !== process.pid && !isAlive(pid);
  });
  if (stale.length === 0) return;
  await runner.run("ip", ["-force", "-batch", "-"], { input: stale.map((n) => `netns del ${n}\n`).join("") });
}

/** Probes the kernel (uncached; see `probeKernelFeatures`). */
export async function detectKernelFeatures(runner: CommandRunner = processRunner): Promise<KernelFeatures> {
  const ns = `${PROBE_NETNS_PREFIX}${process.pid}.${Math.random().toString(36).slice(2, 8)}`;
  const available = new Set<KernelFeature>();
  const reasons = new Map<KernelFeature, string>();
  const add = await run(runner, "ip", ["netns", "add", ns]);
  if (!add.ok) throw translateCommandFailure({ command: ["ip", "netns", "add", ns], stderr: add.stderr, object: `probe netns ${ns}` });
  try {
    const ipArgv = toolArgv(ns, "ip", ["-force", "-batch", "-"]);
    const ipr = await run(runner, ipArgv[0]!, ipArgv.slice(1), IP_PROBES.map(([, l]) => l).join("\n") + "\n");
    const ipFailures = parseBatchFailures(ipr.stderr).byLine;
    IP_PROBES.forEach(([feature], i) => {
      const err = ipFailures.get(i + 1);
      if (err === undefined) available.add(feature);
      else reasons.set(feature, err);
    });
    if (available.has("veth")) {
      const tcArgv = toolArgv(ns, "tc", ["-force", "-batch", "-"]);
      const tcr = await run(runner, tcArgv[0]!, tcArgv.slice(1), TC_PROBES.map(([, l]) => l).join("\n") + "\n");
      const tcFailures = parseBatchFailures(tcr.stderr).byLine;
      TC_PROBES.forEach(([feature], i) => {
        if (!feature) return;
        const err = tcFailures.get(i + 1);
        if (err === undefined) available.add(feature);
        else reasons.set(feature, err);
      });
      const nsenter = toolArgv(ns, "nft", ["-f", "-"]);
      const hook = await run(
        runner,
        nsenter[0]!,
        nsenter.slice(1),
        'add table netdev kne_probe\nadd chain netdev kne_probe eg { type filter hook egress device "p0" priority 0; policy accept; }\n',
      );
      if (hook.ok) available.add("nft_netdev_egress");
      else reasons.set("nft_netdev_egress", hook.stderr.trim());
      if (hook.ok && available.has("ifb")) {
        const fwd = await run(runner, nsenter[0]!, nsenter.slice(1), 'add rule netdev kne_probe eg numgen random mod 10000 < 1 fwd to "pifb"\n');
        if (fwd.ok) available.add("nft_fwd");
        else reasons.set("nft_fwd", fwd.stderr.trim());
      }
    }
  } finally {
    await run(runner, "ip", ["netns", "del", ns]);
  }
  const all: KernelFeature[] = ["veth", "vxlan", "macvlan", "bridge", "ifb", "sch_tbf", "sch_htb", "sch_netem", "nft_netdev_egress", "nft_fwd"];
  const missing = new Set(all.filter((f) => !available.has(f)));
  for (const f of missing) if (!reasons.has(f)) reasons.set(f, "not probed: a prerequisite is missing");
  return { available, missing, reasons };
}

const cache = new WeakMap<CommandRunner, Promise<KernelFeatures>>();

/** Kernel features, probed once per runner (per process for the default runner). */
export function probeKernelFeatures(runner: CommandRunner = processRunner): Promise<KernelFeatures> {
  let p = cache.get(runner);
  if (!p) {
    p = detectKernelFeatures(runner);
    cache.set(runner, p);
    p.catch(() => cache.delete(runner));
  }
  return p;
}
