/**
 * Observed kernel state: what `ip -json -d -s link`, `ip -json netconf`, `tc -json qdisc` and
 * `nft -json list ruleset netdev` show, parsed into plain objects. The parsers are pure (unit
 * tested on captured output); `observeNamespaces` runs one `ip -batch` per namespace and adds
 * `tc`/`nft` only where impairments are wanted or present.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { toolArgv } from "./batch.ts";
import { type CommandRunner, DEFAULT_CONCURRENCY, mapLimit, processRunner } from "./command-runner.ts";
import { KernelCommandError, translateCommandFailure } from "./errors.ts";
import { DEFAULT_MULTIPLEX_FROM, runMultiplexed } from "./process-multiplexer.ts";
import {
  HOST_NETNS,
  SINK_IFNAME,
  ifnameFromNftChain,
  nftTableName,
  parseOwnerAlias,
  type OwnerMarker,
} from "./names.ts";

export interface InterfaceCounters {
  rxPackets: number;
  txPackets: number;
  rxBytes: number;
  txBytes: number;
  rxDropped: number;
  txDropped: number;
  rxErrors: number;
  txErrors: number;
}

export interface ObservedVxlan {
  vni: number;
  local?: string;
  remote?: string;
  port?: number;
}

export interface ObservedInterface {
  netns: string;
  ifindex: number;
  ifname: string;
  /** `info_kind`: veth, vxlan, macvlan, bridge, ifb...; undefined for lo and physical devices. */
  kind?: string;
  /** Our ownership marker, from the alias. */
  owner?: OwnerMarker;
  alias?: string;
  mtu: number;
  mac: string;
  /** Admin state: the UP flag. */
  adminUp: boolean;
  /** Carrier: the LOWER_UP flag (a veth whose peer is down shows NO-CARRIER instead). */
  carrier: boolean;
  /** RFC 2863 operational state as the kernel reports it: UP, DOWN, LOWERLAYERDOWN, UNKNOWN... */
  operState: string;
  flags: string[];
  /** Bridge this device is a port of. */
  master?: string;
  /**
   * Addresses as `address/prefix`, when the observation read them (`ip addr show`);
   * undefined when it did not (`ip link show`).
   */
  addresses?: string[];
  /** ifindex of the veth peer / macvlan parent / vxlan lower device (in `linkNetnsId`'s namespace). */
  linkIndex?: number;
  linkNetnsId?: number;
  /** Root qdisc kind as `ip link` shows it (noqueue, noop, tbf, netem, htb...). */
  qdisc?: string;
  vxlan?: ObservedVxlan;
  macvlanMode?: string;
  counters: InterfaceCounters;
}

export interface ObservedQdisc {
  dev: string;
  kind: string;
  handle: string;
  root: boolean;
  parent?: string;
  /** tbf: rate in bit/s and burst in bytes. */
  rateBitsPerSecond?: number;
  burstBytes?: number;
  /** netem: best-effort reading of `tc -j` (untested here: this kernel has no sch_netem). */
  netem?: {
    delayMs?: number;
    jitterMs?: number;
    lossPercent?: number;
    duplicatePercent?: number;
    reorderPercent?: number;
    corruptPercent?: number;
  };
}

export interface ObservedNftChain {
  name: string;
  /** Interface from the chain name (`eg_<ifname>`). */
  ifname?: string;
  hook?: string;
  /** Loss in percent from our `numgen random mod 10000 < N ... fwd` rule; undefined if absent. */
  lossPercent?: number;
  /** Any rule that is not our loss rule. */
  foreignRules: number;
}

export interface ObservedNftTable {
  name: string;
  chains: ObservedNftChain[];
}

export interface ObservedForwarding {
  ipv4: boolean;
  ipv6: boolean;
}

export interface ObservedNamespace {
  name: string;
  interfaces: ObservedInterface[];
  forwarding?: ObservedForwarding;
  /** Present when tc was asked (see `observeNamespaces`). */
  qdiscs?: ObservedQdisc[];
  /** Present when nft was asked; `null` when our table does not exist. */
  nftTable?: ObservedNftTable | null;
}

export interface ObservedState {
  /** Named namespaces that exist (`ip netns list`), host namespace excluded. */
  netnsNames: string[];
  /** Namespaces that were looked into, by name (HOST_NETNS for the host). */
  namespaces: Map<string, ObservedNamespace>;
}

type Json = Record<string, unknown>;

function num(v: unknown): number | undefined {
  return typeof v === "number" && Number.isFinite(v) ? v : undefined;
}
function str(v: unknown): string | undefined {
  return typeof v === "string" ? v : undefined;
}
function obj(v: unknown): Json | undefined {
  return v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Json) : undefined;
}

/**
 * Splits the output of an `ip -json -batch` (one JSON document per line of the batch, printed
 * back to back) into the documents.
 */
export function splitJsonDocuments(text: string): unknown[] {
  const docs: unknown[] = [];
  let depth = 0;
  let start = -1;
  let inString = false;
  let escaped = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (inString) {
      if (escaped) escaped = false;
      else if (c === "\\") escaped = true;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    else if (c === "[" || c === "{") {
      if (depth === 0) start = i;
      depth++;
    } else if (c === "]" || c === "}") {
      depth--;
      if (depth === 0 && start >= 0) {
        docs.push(JSON.parse(text.slice(start, i + 1)));
        start = -1;
      }
    }
  }
  return docs;
}

function counters(stats: Json | undefined): InterfaceCounters {
  const rx = obj(stats?.["rx"]);
  const tx = obj(stats?.["tx"]);
  return {
    rxPackets: num(rx?.["packets"]) ?? 0,
    txPackets: num(tx?.["packets"]) ?? 0,
    rxBytes: num(rx?.["bytes"]) ?? 0,
    txBytes: num(tx?.["bytes"]) ?? 0,
    rxDropped: num(rx?.["dropped"]) ?? 0,
    txDropped: num(tx?.["dropped"]) ?? 0,
    rxErrors: num(rx?.["errors"]) ?? 0,
    txErrors: num(tx?.["errors"]) ?? 0,
  };
}

/** One entry of `ip -json -d -s link show`. */
/** What a reader of links knows of one device; `observedInterface` derives the rest. */
export type ObservedLinkFields = Omit<ObservedInterface, "owner" | "adminUp" | "carrier" | "addresses" | "vxlan" | "macvlanMode">;

/**
 * One observed interface, the same object whichever reader (ip -json, a netlink dump) saw
 * it: ownership from the alias, admin state and carrier from the flags (UP, LOWER_UP).
 */
export function observedInterface(f: ObservedLinkFields): ObservedInterface {
  return {
    netns: f.netns,
    ifindex: f.ifindex,
    ifname: f.ifname,
    kind: f.kind,
    alias: f.alias,
    owner: parseOwnerAlias(f.alias),
    mtu: f.mtu,
    mac: f.mac,
    adminUp: f.flags.includes("UP"),
    carrier: f.flags.includes("LOWER_UP"),
    operState: f.operState,
    flags: f.flags,
    master: f.master,
    linkIndex: f.linkIndex,
    linkNetnsId: f.linkNetnsId,
    qdisc: f.qdisc,
    counters: f.counters,
  };
}

export function parseIpLinkEntry(entry: unknown, netns: string): ObservedInterface | undefined {
  const e = obj(entry);
  const ifname = str(e?.["ifname"]);
  const ifindex = num(e?.["ifindex"]);
  if (!e || ifname === undefined || ifindex === undefined) return undefined;
  const flags = Array.isArray(e["flags"]) ? (e["flags"] as unknown[]).filter((f): f is string => typeof f === "string") : [];
  const linkinfo = obj(e["linkinfo"]);
  const kind = str(linkinfo?.["info_kind"]);
  const data = obj(linkinfo?.["info_data"]);
  const alias = str(e["ifalias"]);
  const iface = observedInterface({
    netns,
    ifindex,
    ifname,
    kind,
    alias,
    mtu: num(e["mtu"]) ?? 0,
    mac: (str(e["address"]) ?? "").toLowerCase(),
    operState: str(e["operstate"]) ?? "UNKNOWN",
    flags,
    master: str(e["master"]),
    linkIndex: num(e["link_index"]),
    linkNetnsId: num(e["link_netnsid"]),
    qdisc: str(e["qdisc"]),
    counters: counters(obj(e["stats64"]) ?? obj(e["stats"])),
  });
  if (kind === "vxlan" && data) {
    iface.vxlan = {
      vni: num(data["id"]) ?? 0,
      local: str(data["local"]) ?? str(data["local6"]),
      remote: str(data["remote"]) ?? str(data["group"]) ?? str(data["remote6"]) ?? str(data["group6"]),
      port: num(data["port"]),
    };
  }
  if (kind === "macvlan" && data) iface.macvlanMode = str(data["mode"]);
  if (Array.isArray(e["addr_info"])) {
    iface.addresses = (e["addr_info"] as unknown[]).flatMap((a) => {
      const local = str(obj(a)?.["local"]);
      const prefix = num(obj(a)?.["prefixlen"]);
      return local !== undefined && prefix !== undefined ? [`${local}/${prefix}`] : [];
    });
  }
  return iface;
}

export function parseIpLink(doc: unknown, netns: string): ObservedInterface[] {
  if (!Array.isArray(doc)) return [];
  return doc.map((e) => parseIpLinkEntry(e, netns)).filter((i): i is ObservedInterface => i !== undefined);
}

/** `ip -json netconf show`: forwarding of `all` for IPv4 and IPv6. */
export function parseNetconf(doc: unknown): ObservedForwarding | undefined {
  if (!Array.isArray(doc)) return undefined;
  let ipv4: boolean | undefined;
  let ipv6: boolean | undefined;
  for (const entry of doc) {
    const e = obj(entry);
    if (!e || e["interface"] !== "all") continue;
    if (e["family"] === "inet") ipv4 = e["forwarding"] === true;
    if (e["family"] === "inet6") ipv6 = e["forwarding"] === true;
  }
  if (ipv4 === undefined && ipv6 === undefined) return undefined;
  return { ipv4: ipv4 ?? false, ipv6: ipv6 ?? false };
}

/** Output of the observe batch (`addr show` then `netconf show`) of one namespace. */
export function parseObserveBatch(text: string, netns: string): ObservedNamespace {
  const [links, netconf] = splitJsonDocuments(text);
  return { name: netns, interfaces: parseIpLink(links, netns), forwarding: parseNetconf(netconf) };
}

function percentOf(v: unknown, key: string): number | undefined {
  const o = obj(v);
  const n = num(o ? o[key] : v);
  // iproute2 prints percentages as fractions in some versions and as percent in others.
  if (n === undefined) return undefined;
  return n <= 1 ? n * 100 : n;
}

function msOf(v: unknown): number | undefined {
  const n = num(v);
  // tc -j prints times in seconds.
  return n === undefined ? undefined : n * 1000;
}

/** `tc -json qdisc show`. */
export function parseTcQdiscs(doc: unknown): ObservedQdisc[] {
  if (!Array.isArray(doc)) return [];
  const out: ObservedQdisc[] = [];
  for (const entry of doc) {
    const e = obj(entry);
    const dev = str(e?.["dev"]);
    const kind = str(e?.["kind"]);
    if (!e || !dev || !kind) continue;
    const options = obj(e["options"]) ?? {};
    const q: ObservedQdisc = {
      dev,
      kind,
      handle: str(e["handle"]) ?? "",
      root: e["root"] === true,
      parent: str(e["parent"]),
    };
    if (kind === "tbf") {
      const rate = num(options["rate"]);
      if (rate !== undefined) q.rateBitsPerSecond = rate * 8;
      q.burstBytes = num(options["burst"]);
    }
    if (kind === "netem") {
      const delay = obj(options["delay"]);
      q.netem = {
        delayMs: msOf(delay?.["delay"]),
        jitterMs: msOf(delay?.["jitter"]),
        lossPercent: percentOf(options["loss-random"], "loss"),
        duplicatePercent: percentOf(options["duplicate"], "duplicate"),
        reorderPercent: percentOf(options["reorder"], "reorder"),
        corruptPercent: percentOf(options["corrupt"], "corrupt"),
      };
      const rate = obj(options["rate"]);
      if (rate && num(rate["rate"]) !== undefined) q.rateBitsPerSecond = num(rate["rate"])! * 8;
    }
    out.push(q);
  }
  return out;
}

/** Our table in `nft -json list ruleset netdev`; null when it is not there. */
export function parseNftTable(doc: unknown, table: string): ObservedNftTable | null {
  const root = obj(doc);
  const items = Array.isArray(root?.["nftables"]) ? (root!["nftables"] as unknown[]) : [];
  let found = false;
  const chains = new Map<string, ObservedNftChain>();
  for (const item of items) {
    const it = obj(item);
    const t = obj(it?.["table"]);
    if (t && t["family"] === "netdev" && t["name"] === table) found = true;
    const c = obj(it?.["chain"]);
    if (c && c["family"] === "netdev" && c["table"] === table) {
      const name = str(c["name"]) ?? "";
      chains.set(name, { name, ifname: ifnameFromNftChain(name), hook: str(c["hook"]), foreignRules: 0 });
    }
    const r = obj(it?.["rule"]);
    if (r && r["family"] === "netdev" && r["table"] === table) {
      const chain = chains.get(str(r["chain"]) ?? "");
      if (!chain) continue;
      const loss = lossOfRule(r);
      if (loss !== undefined && chain.lossPercent === undefined) chain.lossPercent = loss;
      else chain.foreignRules++;
    }
  }
  return found ? { name: table, chains: [...chains.values()] } : null;
}

function lossOfRule(rule: Json): number | undefined {
  const expr = Array.isArray(rule["expr"]) ? (rule["expr"] as unknown[]) : [];
  let threshold: number | undefined;
  let mod: number | undefined;
  let fwdToSink = false;
  for (const x of expr) {
    const e = obj(x);
    const match = obj(e?.["match"]);
    const numgen = obj(obj(match?.["left"])?.["numgen"]);
    if (match && numgen && match["op"] === "<" && numgen["mode"] === "random") {
      threshold = num(match["right"]);
      mod = num(numgen["mod"]);
    }
    const fwd = obj(e?.["fwd"]);
    if (fwd && fwd["dev"] === SINK_IFNAME) fwdToSink = true;
  }
  if (threshold === undefined || !mod || !fwdToSink) return undefined;
  return (threshold / mod) * 100;
}

export interface ObserveRequest {
  netns: string;
  /** Also read qdiscs (`tc -json qdisc show`). */
  qdiscs?: boolean | "auto";
  /** Also read our nft table; "auto" reads it when the loss sink device exists. */
  nft?: boolean | "auto";
}

export interface ObserveOptions {
  runner?: CommandRunner;
  concurrency?: number;
  /** Topology whose nft table to read (`kne_<topology>`). */
  topology?: string;
  /** Result of `listNetns`, when the caller already has it. */
  netnsNames?: readonly string[];
  /** Read links through one xargs process from this many namespaces on (default 6). */
  multiplexFrom?: number;
}

const DEFAULT_QDISCS = new Set(["noqueue", "noop"]);

/** `ip -json netns list` → names. */
export async function listNetns(runner: CommandRunner = processRunner): Promise<string[]> {
  return (await listNetnsEntries(runner)).map((e) => e.name);
}

/**
 * `ip -json netns list` → names with the id the host's namespace knows each by (assigned
 * once a device there has a peer in the other namespace; what `link_netnsid` refers to).
 */
export async function listNetnsEntries(runner: CommandRunner = processRunner): Promise<Array<{ name: string; id?: number }>> {
  const argv = ["-json", "netns", "list"];
  const r = await runner.run("ip", argv);
  if (r.exitCode !== 0) throw translateCommandFailure({ command: ["ip", ...argv], stderr: r.stderr, exitCode: r.exitCode, object: "netns list" });
  const text = r.stdout.trim();
  if (text === "") return [];
  const doc = JSON.parse(text) as unknown;
  if (!Array.isArray(doc)) return [];
  return doc.flatMap((e) => {
    const name = str(obj(e)?.["name"]);
    const id = num(obj(e)?.["id"]);
    return name === undefined ? [] : [{ name, ...(id !== undefined ? { id } : {}) }];
  });
}

// `addr show` prints what `link show` does plus each device's addresses.
const OBSERVE_BATCH = "addr show\nnetconf show\n";
const OBSERVE_ARGS = ["-json", "-details", "-statistics", "-batch"];

/** Links and forwarding of one namespace (one process); throws NOT_FOUND when it does not exist. */
async function observeLinks(netns: string, runner: CommandRunner): Promise<ObservedNamespace> {
  const argv = toolArgv(netns, "ip", [...OBSERVE_ARGS, "-"]);
  const r = await runner.run(argv[0]!, argv.slice(1), { input: OBSERVE_BATCH });
  if (r.exitCode !== 0) throw translateCommandFailure({ command: argv, stderr: r.stderr, exitCode: r.exitCode, object: `netns ${netns || "(host)"}` });
  return parseObserveBatch(r.stdout, netns);
}

/**
 * Links of many namespaces through one xargs process; undefined when the combined output
 * cannot be split with certainty (then the caller reads them one by one).
 */
async function observeLinksMultiplexed(netnsList: readonly string[], runner: CommandRunner): Promise<ObservedNamespace[] | undefined> {
  const dir = await mkdtemp(join(tmpdir(), "kne-dataplane-"));
  try {
    const file = join(dir, "observe");
    await writeFile(file, OBSERVE_BATCH, { mode: 0o600 });
    const run = await runMultiplexed(
      netnsList.map((netns) => toolArgv(netns, "ip", [...OBSERVE_ARGS, file])),
      dir,
      runner,
    );
    if (run.outcomes.some((o) => !o.ran || o.stderr.trim() !== "")) return undefined;
    const docs = splitJsonDocuments(run.stdout);
    if (docs.length !== netnsList.length * 2) return undefined;
    return netnsList.map((netns, i) => ({ name: netns, interfaces: parseIpLink(docs[2 * i], netns), forwarding: parseNetconf(docs[2 * i + 1]) }));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Adds qdiscs and our nft table to a namespace's links when the request asks for them. */
async function completeObservation(request: ObserveRequest, observed: ObservedNamespace, options: ObserveOptions, runner: CommandRunner): Promise<ObservedNamespace> {
  const { netns } = request;
  const ours = observed.interfaces.filter((i) => i.owner !== undefined);
  const wantQdiscs =
    request.qdiscs === true || (request.qdiscs === "auto" && ours.some((i) => i.qdisc !== undefined && !DEFAULT_QDISCS.has(i.qdisc)));
  const wantNft =
    options.topology !== undefined &&
    (request.nft === true || (request.nft === "auto" && observed.interfaces.some((i) => i.ifname === SINK_IFNAME && i.owner?.topology === options.topology)));
  const [qdiscs, nftTable] = await Promise.all([
    wantQdiscs ? readQdiscs(netns, runner) : Promise.resolve(undefined),
    wantNft ? readNftTable(netns, nftTableName(options.topology!), runner) : Promise.resolve(undefined),
  ]);
  if (qdiscs) observed.qdiscs = qdiscs;
  if (nftTable !== undefined) observed.nftTable = nftTable;
  return observed;
}

/** Reads one namespace; throws NOT_FOUND when it does not exist. */
export async function observeNamespace(request: ObserveRequest, options: ObserveOptions = {}): Promise<ObservedNamespace> {
  const runner = options.runner ?? processRunner;
  return completeObservation(request, await observeLinks(request.netns, runner), options, runner);
}

export async function readQdiscs(netns: string, runner: CommandRunner = processRunner): Promise<ObservedQdisc[]> {
  const argv = toolArgv(netns, "tc", ["-json", "qdisc", "show"]);
  const r = await runner.run(argv[0]!, argv.slice(1));
  if (r.exitCode !== 0) throw translateCommandFailure({ command: argv, stderr: r.stderr, exitCode: r.exitCode, object: `qdiscs of netns ${netns || "(host)"}` });
  return parseTcQdiscs(JSON.parse(r.stdout.trim() || "[]"));
}

export async function readNftTable(netns: string, table: string, runner: CommandRunner = processRunner): Promise<ObservedNftTable | null> {
  const argv = toolArgv(netns, "nft", ["-j", "list", "ruleset", "netdev"]);
  const r = await runner.run(argv[0]!, argv.slice(1));
  if (r.exitCode !== 0) throw translateCommandFailure({ command: argv, stderr: r.stderr, exitCode: r.exitCode, object: `nft ruleset of netns ${netns || "(host)"}` });
  const text = r.stdout.trim();
  if (text === "") return null;
  try {
    return parseNftTable(JSON.parse(text), table);
  } catch (e) {
    throw new KernelCommandError("INTERNAL", `could not parse nft JSON output: ${(e as Error).message}`, { command: argv }, { cause: e });
  }
}

function absentIfNotFound<T>(p: Promise<T>): Promise<T | undefined> {
  // Deleted between the listing and the look: treat as absent.
  return p.catch((e: unknown) => {
    if ((e as { code?: string }).code === "NOT_FOUND") return undefined;
    throw e;
  });
}

/**
 * Reads the namespaces plus the list of existing namespaces: `ip` links and forwarding of
 * each (through one xargs process when there are many), then qdiscs and nft where asked.
 * Requests for namespaces that do not exist are skipped: absence is a fact the planner uses.
 */
export async function observeNamespaces(requests: readonly ObserveRequest[], options: ObserveOptions = {}): Promise<ObservedState> {
  const runner = options.runner ?? processRunner;
  const concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;
  const netnsNames = options.netnsNames ? [...options.netnsNames] : await listNetns(runner);
  const existing = new Set(netnsNames);
  const wanted = requests.filter((r) => r.netns === HOST_NETNS || existing.has(r.netns));
  const multiplexed =
    wanted.length >= (options.multiplexFrom ?? DEFAULT_MULTIPLEX_FROM) ? await observeLinksMultiplexed(wanted.map((r) => r.netns), runner) : undefined;
  const links = multiplexed ?? (await mapLimit(wanted, concurrency, (r) => absentIfNotFound(observeLinks(r.netns, runner))));
  const results = await mapLimit(wanted, concurrency, (r, i) => {
    const l = links[i];
    return l ? absentIfNotFound(completeObservation(r, l, options, runner)) : Promise.resolve(undefined);
  });
  const namespaces = new Map<string, ObservedNamespace>();
  for (const ns of results) if (ns) namespaces.set(ns.name, ns);
  return { netnsNames, namespaces };
}
