/**
 * Garbage collection by ownership marker: our namespaces (`kne.<topology>.*`), interfaces
 * whose alias is `kne:<topology>:<uid>` in any other namespace (the host's included), our nft
 * table `kne_<topology>` and the loss sink. Nothing without our marker is touched.
 */
import { existsSync } from "node:fs";
import type { KernelOperation } from "./batch.ts";
import { removeStaleProbeNamespaces, PROBE_NETNS_PREFIX } from "./capabilities.ts";
import { processRunner } from "./command-runner.ts";
import { type ApplyReport, type ExecutorOptions, applyOperations } from "./executor.ts";
import { nftClearLossScript, nftDeleteTableScript } from "./impairments.ts";
import { HOST_NETNS, SINK_IFNAME, isOwnedNetns, validateTopologyId } from "./names.ts";
import { listNetnsEntries, observeNamespaces } from "./observe.ts";

export interface KeepSet {
  /** Our namespaces to keep. */
  namespaces?: readonly string[];
  /** Wire uids whose interfaces to keep. */
  uids?: readonly string[];
}

export interface GarbageCollectionOptions extends ExecutorOptions {
  /**
   * Namespaces (besides the host's) to search for our interfaces. Default: every named
   * namespace that is not ours-and-going-away (one `ip` process each).
   */
  scanNamespaces?: readonly string[];
}

export interface GarbageReport extends ApplyReport {
  deletedNamespaces: string[];
  deletedInterfaces: string[];
}

/** Removes everything marked for `topology` that `keep` does not name. */
export async function collectGarbage(topology: string, keep: KeepSet, options: GarbageCollectionOptions = {}): Promise<GarbageReport> {
  validateTopologyId(topology);
  const runner = options.runner ?? processRunner;
  const entries = await listNetnsEntries(runner);
  const names = entries.map((e) => e.name);
  await removeStaleProbeNamespaces(names, runner);
  const keepNs = new Set(keep.namespaces ?? []);
  const keepUids = new Set(keep.uids ?? []);
  const doomed = names.filter((n) => isOwnedNetns(n, topology) && !keepNs.has(n));
  const doomedSet = new Set(doomed);
  // Host veths whose peer is in a namespace about to go (management ports) go with it: the
  // kernel removes them shortly after `netns del`, far faster than one `link del` each.
  const doomedIds = new Set(entries.flatMap((e) => (doomedSet.has(e.name) && e.id !== undefined ? [e.id] : [])));
  const scan = options.scanNamespaces ?? names.filter((n) => !doomedSet.has(n) && !n.startsWith(PROBE_NETNS_PREFIX));
  const observed = await observeNamespaces(
    [HOST_NETNS, ...scan.filter((n) => n !== HOST_NETNS && !doomedSet.has(n))].map((netns) => ({ netns, nft: "auto" as const })),
    { runner, concurrency: options.concurrency, topology, netnsNames: names },
  );
  const ops: KernelOperation[] = [];
  const deletedInterfaces: string[] = [];
  const riding: string[] = [];
  for (const [netns, ns] of observed.namespaces) {
    const ours = ns.interfaces.filter((i) => i.owner?.topology === topology && i.ifname !== SINK_IFNAME);
    const kept = ours.filter((i) => keepUids.has(i.owner!.uid));
    for (const i of ours) {
      if (keepUids.has(i.owner!.uid)) continue;
      if (netns === HOST_NETNS && i.kind === "veth" && i.linkNetnsId !== undefined && doomedIds.has(i.linkNetnsId)) {
        riding.push(i.ifname);
        deletedInterfaces.push(`(host)/${i.ifname}`);
        continue;
      }
      ops.push({ phase: "prepare", tool: "ip", netns, args: ["link", "del", "dev", i.ifname], object: `netns ${netns || "(host)"} dev ${i.ifname}`, ignore: ["NOT_FOUND"] });
      deletedInterfaces.push(`${netns || "(host)"}/${i.ifname}`);
    }
    const sink = ns.interfaces.find((i) => i.ifname === SINK_IFNAME && i.owner?.topology === topology);
    if (kept.length === 0) {
      if (ns.nftTable) ops.push({ phase: "prepare", tool: "nft", netns, args: nftDeleteTableScript(topology), object: `nft table kne_${topology} in netns ${netns || "(host)"}` });
      if (sink) {
        ops.push({ phase: "prepare", tool: "ip", netns, args: ["link", "del", "dev", SINK_IFNAME], object: `netns ${netns || "(host)"} dev ${SINK_IFNAME}`, ignore: ["NOT_FOUND"] });
        deletedInterfaces.push(`${netns || "(host)"}/${SINK_IFNAME}`);
      }
    } else if (ns.nftTable) {
      const keptNames = new Set(kept.map((i) => i.ifname));
      for (const chain of ns.nftTable.chains) {
        if (chain.ifname && !keptNames.has(chain.ifname)) {
          ops.push({ phase: "setup", tool: "nft", netns, args: nftClearLossScript(topology, chain.ifname), object: `nft chain ${chain.name} in netns ${netns || "(host)"}` });
        }
      }
    }
  }
  for (const n of doomed) {
    ops.push({ phase: "netns-delete", tool: "ip", netns: HOST_NETNS, args: ["netns", "del", n], object: `netns ${n}`, ignore: ["NOT_FOUND"] });
  }
  const report = await applyOperations(ops, { ...options, runner });
  // Returning means gone: wait for the kernel to take the host ends along, and delete any
  // still there at the deadline (a namespace kept alive by a process of someone else's).
  const left = await waitUntilGone(riding, RIDING_DEADLINE_MS);
  if (left.length > 0) {
    const late = await applyOperations(
      left.map((ifname) => ({ phase: "prepare", tool: "ip", netns: HOST_NETNS, args: ["link", "del", "dev", ifname], object: `netns (host) dev ${ifname}`, ignore: ["NOT_FOUND"] })),
      { ...options, runner },
    );
    report.failures.push(...late.failures);
    report.processes += late.processes;
    report.operations += late.operations;
  }
  return { ...report, deletedNamespaces: doomed, deletedInterfaces };
}

/** How long host ends may take to follow their namespace (the kernel does it in the background). */
const RIDING_DEADLINE_MS = 5000;

/** Polls sysfs (of this process's namespace, the host's) until none of the devices exists; returns those left. */
async function waitUntilGone(ifnames: readonly string[], deadlineMs: number): Promise<string[]> {
  const deadline = performance.now() + deadlineMs;
  let left = [...ifnames];
  for (;;) {
    left = left.filter((n) => existsSync(`/sys/class/net/${n}`));
    if (left.length === 0 || performance.now() >= deadline) return left;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Removes every kernel object of the topology. */
export function deleteTopology(topology: string, options: GarbageCollectionOptions = {}): Promise<GarbageReport> {
  return collectGarbage(topology, {}, options);
}
