/**
 * Egress impairments of one endpoint and the kernel operations that realise them.
 *
 * - rate: a `tbf` root qdisc (or a `tbf` child of `netem`).
 * - loss: an nft netdev egress chain `eg_<ifname>` in table `kne_<topology>` of the endpoint's
 *   namespace with `numgen random mod 10000 < N fwd to "kne-sink"`. The sink is an ifb device
 *   kept down, so the packet disappears silently: a plain `drop` in the egress hook returns
 *   NET_XMIT_DROP, which local senders see as ENOBUFS (ping then retries and reports no loss).
 * - delay, jitter, duplication, corruption, reordering: `netem`, only where the kernel has it;
 *   otherwise a `KernelFeatureMissingError` naming `sch_netem`. Never silently ignored.
 */
import type { KernelOperation } from "./batch.ts";
import { type KernelFeature, InvalidArgumentError, KernelFeatureMissingError } from "./errors.ts";
import { type EndpointRef, SINK_IFNAME, SINK_UID, nftChainName, nftTableName, ownerAlias } from "./names.ts";
import type { ObservedNftChain, ObservedQdisc } from "./observe.ts";

export interface Impairments {
  /** Random loss in percent (0-100, resolution 0.01). */
  lossPercent?: number;
  /** Rate limit in bit/s. */
  rateBitsPerSecond?: number;
  /** Token bucket size in bytes for the rate limit (default: 4 ms at the rate, at least 16 KiB). */
  burstBytes?: number;
  delayMs?: number;
  jitterMs?: number;
  corruptPercent?: number;
  duplicatePercent?: number;
  reorderPercent?: number;
}

export function hasImpairments(i: Impairments | undefined): boolean {
  if (!i) return false;
  return (
    (i.lossPercent ?? 0) > 0 ||
    (i.rateBitsPerSecond ?? 0) > 0 ||
    (i.delayMs ?? 0) > 0 ||
    (i.jitterMs ?? 0) > 0 ||
    (i.corruptPercent ?? 0) > 0 ||
    (i.duplicatePercent ?? 0) > 0 ||
    (i.reorderPercent ?? 0) > 0
  );
}

export function needsNetem(i: Impairments | undefined): boolean {
  return !!i && ((i.delayMs ?? 0) > 0 || (i.jitterMs ?? 0) > 0 || (i.corruptPercent ?? 0) > 0 || (i.duplicatePercent ?? 0) > 0 || (i.reorderPercent ?? 0) > 0);
}

export function needsLoss(i: Impairments | undefined): boolean {
  return (i?.lossPercent ?? 0) > 0;
}

function checkPercent(v: number | undefined, field: string): void {
  if (v === undefined) return;
  if (!Number.isFinite(v) || v < 0 || v > 100) throw new InvalidArgumentError(`${v} must be a percentage in 0..100`, field);
}

function checkNonNegative(v: number | undefined, field: string, max: number): void {
  if (v === undefined) return;
  if (!Number.isFinite(v) || v < 0 || v > max) throw new InvalidArgumentError(`${v} must be in 0..${max}`, field);
}

/** Rejects impossible values; `field` prefixes messages (`wires[2].a.impairments`). */
export function validateImpairments(i: Impairments, field = "impairments"): Impairments {
  checkPercent(i.lossPercent, `${field}.lossPercent`);
  checkPercent(i.corruptPercent, `${field}.corruptPercent`);
  checkPercent(i.duplicatePercent, `${field}.duplicatePercent`);
  checkPercent(i.reorderPercent, `${field}.reorderPercent`);
  checkNonNegative(i.rateBitsPerSecond, `${field}.rateBitsPerSecond`, 1e12);
  if (i.rateBitsPerSecond !== undefined && i.rateBitsPerSecond > 0 && i.rateBitsPerSecond < 8000) {
    throw new InvalidArgumentError(`${i.rateBitsPerSecond} bit/s is below the minimum of 8000`, `${field}.rateBitsPerSecond`);
  }
  checkNonNegative(i.burstBytes, `${field}.burstBytes`, 1 << 30);
  checkNonNegative(i.delayMs, `${field}.delayMs`, 60_000);
  checkNonNegative(i.jitterMs, `${field}.jitterMs`, 60_000);
  if ((i.jitterMs ?? 0) > 0 && !((i.delayMs ?? 0) > 0)) throw new InvalidArgumentError("jitter needs a delay", `${field}.jitterMs`);
  if ((i.reorderPercent ?? 0) > 0 && !((i.delayMs ?? 0) > 0)) {
    throw new InvalidArgumentError("reordering needs a delay (netem reorders by sending some packets without it)", `${field}.reorderPercent`);
  }
  return i;
}

/** Kernel features the impairments need, each with the impairment that asked for it. */
export function requiredFeatures(i: Impairments | undefined): Map<KernelFeature, string> {
  const need = new Map<KernelFeature, string>();
  if (!i) return need;
  for (const key of ["delayMs", "jitterMs", "corruptPercent", "duplicatePercent", "reorderPercent"] as const) {
    if ((i[key] ?? 0) > 0 && !need.has("sch_netem")) need.set("sch_netem", key.replace(/(Ms|Percent)$/, ""));
  }
  if ((i.rateBitsPerSecond ?? 0) > 0) need.set("sch_tbf", "rate");
  if ((i.lossPercent ?? 0) > 0) {
    need.set("nft_netdev_egress", "loss");
    need.set("nft_fwd", "loss");
    need.set("ifb", "loss");
  }
  return need;
}

/** Throws `KernelFeatureMissingError` for the first feature the host lacks. */
export function assertFeatures(i: Impairments | undefined, available: ReadonlySet<KernelFeature>, where: string): void {
  for (const [feature, what] of requiredFeatures(i)) {
    if (!available.has(feature)) throw new KernelFeatureMissingError(feature, `${what} on ${where}`);
  }
}

/** Loss threshold out of 10000 for `numgen random mod 10000 < N`. */
export function lossThreshold(percent: number): number {
  return Math.round(percent * 100);
}

export function effectiveBurst(i: Impairments, mtu = 1500): number {
  if (i.burstBytes && i.burstBytes > 0) return Math.max(i.burstBytes, mtu + 14);
  const rate = i.rateBitsPerSecond ?? 0;
  return Math.max(16 * 1024, Math.ceil((rate / 8) * 0.004), 2 * (mtu + 14));
}

function fmtMs(ms: number): string {
  return `${Math.round(ms * 1000)}us`;
}

function fmtPct(p: number): string {
  return `${Number(p.toFixed(4))}%`;
}

/**
 * `tc` batch lines (tokens) that build the qdisc tree for the impairments on a device whose
 * root qdisc was just deleted. Deleting and adding (rather than `replace`) sidesteps the
 * kernel refusing a `replace` that changes the kind behind an existing handle.
 */
export function qdiscArgs(ifname: string, i: Impairments, mtu?: number): string[][] {
  const tbf = (parent: string[]): string[] => [
    "qdisc",
    "add",
    "dev",
    ifname,
    ...parent,
    "tbf",
    "rate",
    `${Math.round(i.rateBitsPerSecond!)}bit`,
    "burst",
    `${effectiveBurst(i, mtu)}`,
    "latency",
    "50ms",
  ];
  const hasRate = (i.rateBitsPerSecond ?? 0) > 0;
  if (needsNetem(i)) {
    const netem = ["qdisc", "add", "dev", ifname, "root", "handle", "1:", "netem", "limit", "10000"];
    if ((i.delayMs ?? 0) > 0) {
      netem.push("delay", fmtMs(i.delayMs!));
      if ((i.jitterMs ?? 0) > 0) netem.push(fmtMs(i.jitterMs!));
    }
    if ((i.duplicatePercent ?? 0) > 0) netem.push("duplicate", fmtPct(i.duplicatePercent!));
    if ((i.reorderPercent ?? 0) > 0) netem.push("reorder", fmtPct(i.reorderPercent!));
    if ((i.corruptPercent ?? 0) > 0) netem.push("corrupt", fmtPct(i.corruptPercent!));
    const lines = [netem];
    if (hasRate) lines.push(tbf(["parent", "1:1", "handle", "10:"]));
    return lines;
  }
  if (hasRate) return [tbf(["root", "handle", "1:"])];
  return [];
}

/** `tc` line that removes our root qdisc (NOT_FOUND when there is none: ignore it). */
export function qdiscDeleteArgs(ifname: string): string[] {
  return ["qdisc", "del", "dev", ifname, "root"];
}

const RATE_TOLERANCE = 0.02;

/** Does the observed qdisc tree of a device realise the wanted rate/netem part? */
export function qdiscsMatch(wanted: Impairments | undefined, observed: readonly ObservedQdisc[] | undefined, ifname: string): boolean {
  const mine = (observed ?? []).filter((q) => q.dev === ifname);
  const root = mine.find((q) => q.root);
  const rootIsOurs = root !== undefined && (root.kind === "tbf" || root.kind === "netem");
  const rate = wanted?.rateBitsPerSecond ?? 0;
  if (!wanted || (!needsNetem(wanted) && rate <= 0)) return !rootIsOurs;
  const rateOk = (q: ObservedQdisc | undefined): boolean =>
    q?.kind === "tbf" && q.rateBitsPerSecond !== undefined && Math.abs(q.rateBitsPerSecond - rate) <= rate * RATE_TOLERANCE;
  if (!needsNetem(wanted)) return root !== undefined && rateOk(root);
  if (root?.kind !== "netem" || !root.netem) return false;
  const n = root.netem;
  const close = (a: number | undefined, b: number | undefined): boolean => Math.abs((a ?? 0) - (b ?? 0)) <= Math.max(0.01, (b ?? 0) * 0.01);
  const netemOk =
    close(n.delayMs, wanted.delayMs) &&
    close(n.jitterMs, wanted.jitterMs) &&
    close(n.duplicatePercent, wanted.duplicatePercent) &&
    close(n.reorderPercent, wanted.reorderPercent) &&
    close(n.corruptPercent, wanted.corruptPercent);
  if (!netemOk) return false;
  if (rate <= 0) return !mine.some((q) => q.kind === "tbf");
  return rateOk(mine.find((q) => q.kind === "tbf" && q.parent?.startsWith("1:")));
}

/** Does our nft chain of the device carry the wanted loss (and nothing else)? */
export function lossMatches(wanted: Impairments | undefined, chain: ObservedNftChain | undefined): boolean {
  if (!needsLoss(wanted)) return chain === undefined;
  if (!chain || chain.foreignRules > 0 || chain.lossPercent === undefined) return false;
  return lossThreshold(chain.lossPercent) === lossThreshold(wanted!.lossPercent!);
}

/**
 * nft script (one transaction) that replaces the chain of `ifname` in our table with one
 * carrying the loss rule. The chain is deleted and re-added so its hook binds to the device
 * as it exists now (a chain outlives a deleted device but stays detached from its successor).
 */
export function nftSetLossScript(topology: string, uid: string, ifname: string, lossPercent: number): string[] {
  const table = nftTableName(topology);
  const chain = nftChainName(ifname);
  const alias = ownerAlias(topology, uid);
  const chainDef = `{ type filter hook egress device "${ifname}" priority 0; policy accept; comment "${alias}"; }`;
  return [
    `add table netdev ${table} { comment "${ownerAlias(topology, "_table")}"; }`,
    `add chain netdev ${table} ${chain} ${chainDef}`,
    `flush chain netdev ${table} ${chain}`,
    `delete chain netdev ${table} ${chain}`,
    `add chain netdev ${table} ${chain} ${chainDef}`,
    `add rule netdev ${table} ${chain} numgen random mod 10000 < ${lossThreshold(lossPercent)} counter fwd to "${SINK_IFNAME}" comment "${alias}"`,
  ];
}

/** nft script that removes the chain of `ifname` (idempotent: adds it first if missing). */
export function nftClearLossScript(topology: string, ifname: string): string[] {
  const table = nftTableName(topology);
  const chain = nftChainName(ifname);
  return [
    `add table netdev ${table} { comment "${ownerAlias(topology, "_table")}"; }`,
    `add chain netdev ${table} ${chain}`,
    `flush chain netdev ${table} ${chain}`,
    `delete chain netdev ${table} ${chain}`,
  ];
}

/** nft script that removes our whole table (idempotent). */
export function nftDeleteTableScript(topology: string): string[] {
  const table = nftTableName(topology);
  return [`add table netdev ${table}`, `delete table netdev ${table}`];
}

/** ip lines that create the down ifb device the loss rule forwards to. */
export function sinkCreateArgs(topology: string): string[][] {
  return [
    ["link", "add", "name", SINK_IFNAME, "type", "ifb"],
    ["link", "set", "dev", SINK_IFNAME, "alias", ownerAlias(topology, SINK_UID)],
  ];
}

function where(ep: EndpointRef): string {
  return `netns ${ep.netns || "(host)"} dev ${ep.ifname}`;
}

/**
 * Operations that set the impairments of one endpoint from scratch, whatever was there:
 * replace (or delete) the root qdisc, replace (or remove) the loss chain, and create the
 * sink when loss is wanted. Used by `setImpairments` and by the reconciler.
 */
export function impairmentOperations(topology: string, uid: string, ep: EndpointRef, i: Impairments | undefined, mtu?: number, sinkPresent = false): KernelOperation[] {
  const ops: KernelOperation[] = [];
  const object = where(ep);
  ops.push({ phase: "setup", tool: "tc", netns: ep.netns, args: qdiscDeleteArgs(ep.ifname), object, ignore: ["NOT_FOUND"] });
  for (const args of i ? qdiscArgs(ep.ifname, i, mtu) : []) ops.push({ phase: "setup", tool: "tc", netns: ep.netns, args, object });
  if (needsLoss(i)) {
    if (!sinkPresent) {
      for (const args of sinkCreateArgs(topology)) {
        ops.push({ phase: "prepare", tool: "ip", netns: ep.netns, args, object: `netns ${ep.netns || "(host)"} dev ${SINK_IFNAME}`, ignore: ["ALREADY_EXISTS"] });
      }
    }
    ops.push({ phase: "setup", tool: "nft", netns: ep.netns, args: nftSetLossScript(topology, uid, ep.ifname, i!.lossPercent!), object });
  } else {
    ops.push({ phase: "setup", tool: "nft", netns: ep.netns, args: nftClearLossScript(topology, ep.ifname), object });
  }
  return ops;
}
