/**
 * Names that reach the kernel, and the ownership markers we put on what we create.
 *
 * Scheme (see the module doc in index.ts for the why):
 * - topology id: a DNS label (`[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?`), the same rule as the
 *   Kubernetes namespace KNE puts a topology in. It never contains a dot.
 * - node netns: `kne.<topology>.<node>`; the topology's fabric netns (LAN bridges):
 *   `kne.<topology>._fabric`. Node names start with a letter or digit, so `_fabric` cannot
 *   clash, and because topology ids have no dot, the first two dots split a name back.
 * - interfaces we create carry the alias `kne:<topology>:<uid>` (uid = wire/link uid);
 *   helpers that are not wires use reserved uids starting with `_` (`_sink`, `_bridge`).
 * - names we invent inside the fabric netns are short hashes (`kb…` bridge, `kl…` leg).
 */
import { createHash } from "node:crypto";
import { InvalidArgumentError } from "./errors.ts";

/** The host's own network namespace (where the agent runs), as opposed to a named netns. */
export const HOST_NETNS = "";

/** Where an interface is: a namespace (HOST_NETNS for the host) and a name. */
export interface EndpointRef {
  netns: string;
  ifname: string;
}

/** Prefix of every network namespace we create. */
export const NETNS_PREFIX = "kne.";
/** Suffix node of the per-topology namespace that holds LAN bridges. */
export const FABRIC_NODE = "_fabric";
/** Name of the per-namespace ifb device that swallows packets dropped by the loss rule. */
export const SINK_IFNAME = "kne-sink";
/** Reserved uid in the alias of the sink device. */
export const SINK_UID = "_sink";

/** Linux IFNAMSIZ is 16 including the terminating NUL. */
export const MAX_IFNAME_BYTES = 15;

const TOPOLOGY_RE = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const NODE_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;
const UID_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;
// Interface names: the kernel allows more, but these characters are safe in ip batch lines,
// nft identifiers and file names, which is where our names go.
const IFNAME_RE = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;
// netns names become files under /run/netns and tokens in ip batch lines.
const NETNS_RE = /^[A-Za-z0-9_][A-Za-z0-9_.:-]{0,199}$/;

export function validateTopologyId(id: string, field = "topology"): string {
  if (!TOPOLOGY_RE.test(id)) {
    throw new InvalidArgumentError(
      `topology id ${JSON.stringify(id)} must be a DNS label: lower-case letters, digits and '-', 1-63 characters, not starting or ending with '-'`,
      field,
    );
  }
  return id;
}

export function validateNodeName(name: string, field = "node"): string {
  if (!NODE_RE.test(name) || name.includes("..")) {
    throw new InvalidArgumentError(
      `node name ${JSON.stringify(name)} must be 1-63 characters of letters, digits, '_', '.', '-', start with a letter or digit and not contain '..'`,
      field,
    );
  }
  return name;
}

export function validateUid(uid: string, field = "uid"): string {
  if (!UID_RE.test(uid)) {
    throw new InvalidArgumentError(
      `uid ${JSON.stringify(uid)} must be 1-63 characters of letters, digits, '_', '.', '-' and start with a letter or digit`,
      field,
    );
  }
  return uid;
}

export function validateIfname(name: string, field = "ifname"): string {
  const bytes = Buffer.byteLength(name, "utf8");
  if (bytes === 0 || bytes > MAX_IFNAME_BYTES) {
    throw new InvalidArgumentError(
      `interface name ${JSON.stringify(name)} must be 1-${MAX_IFNAME_BYTES} bytes (it is ${bytes})`,
      field,
    );
  }
  if (!IFNAME_RE.test(name) || name === "." || name === "..") {
    throw new InvalidArgumentError(
      `interface name ${JSON.stringify(name)} may only contain letters, digits, '_', '.', '-' and must not start with '.' or '-'`,
      field,
    );
  }
  return name;
}

/** A netns name, or HOST_NETNS when `allowHost`. */
export function validateNetnsName(name: string, field = "netns", allowHost = true): string {
  if (name === HOST_NETNS) {
    if (allowHost) return name;
    throw new InvalidArgumentError("the host namespace is not allowed here", field);
  }
  if (!NETNS_RE.test(name) || name.includes("..")) {
    throw new InvalidArgumentError(
      `network namespace name ${JSON.stringify(name)} must be 1-200 characters of letters, digits, '_', '.', ':', '-' and not start with '.' or '-'`,
      field,
    );
  }
  return name;
}

/** The netns of a node of a topology: `kne.<topology>.<node>`. */
export function nodeNetnsName(topology: string, node: string): string {
  return `${NETNS_PREFIX}${validateTopologyId(topology)}.${validateNodeName(node)}`;
}

/** The netns holding a topology's LAN bridges: `kne.<topology>._fabric`. */
export function fabricNetnsName(topology: string): string {
  return `${NETNS_PREFIX}${validateTopologyId(topology)}.${FABRIC_NODE}`;
}

export interface OwnedNetnsName {
  topology: string;
  /** The node name, or `_fabric` for the fabric namespace. */
  node: string;
}

/** Splits a netns name made by `nodeNetnsName`/`fabricNetnsName`; undefined for any other name. */
export function parseOwnedNetnsName(name: string): OwnedNetnsName | undefined {
  if (!name.startsWith(NETNS_PREFIX)) return undefined;
  const rest = name.slice(NETNS_PREFIX.length);
  const dot = rest.indexOf(".");
  if (dot <= 0) return undefined;
  const topology = rest.slice(0, dot);
  const node = rest.slice(dot + 1);
  if (!TOPOLOGY_RE.test(topology)) return undefined;
  if (node !== FABRIC_NODE && (!NODE_RE.test(node) || node.includes(".."))) return undefined;
  return { topology, node };
}

/** True when the netns was made for `topology` (node or fabric namespace). */
export function isOwnedNetns(name: string, topology: string): boolean {
  return parseOwnedNetnsName(name)?.topology === topology;
}

/** The alias we set on every interface we create: `kne:<topology>:<uid>`. */
export function ownerAlias(topology: string, uid: string): string {
  return `kne:${topology}:${uid}`;
}

export interface OwnerMarker {
  topology: string;
  uid: string;
}

/** Reads an interface alias back; undefined for aliases we did not write. */
export function parseOwnerAlias(alias: string | undefined): OwnerMarker | undefined {
  if (!alias) return undefined;
  const m = /^kne:([a-z0-9-]{1,63}):([A-Za-z0-9_.-]{1,63})$/.exec(alias);
  if (!m || !TOPOLOGY_RE.test(m[1]!)) return undefined;
  return { topology: m[1]!, uid: m[2]! };
}

/** Hex digest of the parts, joined unambiguously; `length` hex characters. */
export function shortHash(parts: readonly string[], length: number): string {
  return createHash("sha256").update(parts.join("\u0000")).digest("hex").slice(0, length);
}

/** Name of the bridge of a LAN segment inside the fabric netns (13 characters). */
export function bridgeIfname(topology: string, segmentUid: string): string {
  return `kb${shortHash([topology, segmentUid], 11)}`;
}

/** Name of the fabric-side leg of a LAN member inside the fabric netns (14 characters). */
export function legIfname(topology: string, segmentUid: string, netns: string, ifname: string): string {
  return `kl${shortHash([topology, segmentUid, netns, ifname], 12)}`;
}

/** nft table owning our chains in a namespace: `kne_<topology>`. */
export function nftTableName(topology: string): string {
  return `kne_${topology}`;
}

/** nft chain of one interface's egress hook: `eg_<ifname>`. */
export function nftChainName(ifname: string): string {
  return `eg_${ifname}`;
}

/** Interface name back from `nftChainName`; undefined for chains we did not name. */
export function ifnameFromNftChain(chain: string): string | undefined {
  if (!chain.startsWith("eg_")) return undefined;
  const ifname = chain.slice(3);
  return IFNAME_RE.test(ifname) && Buffer.byteLength(ifname) <= MAX_IFNAME_BYTES ? ifname : undefined;
}

const VNI_SPACE = 0xffffff - 1; // 1 .. 16777214; 0 is reserved and 0xffffff avoided

/**
 * VNI of a VXLAN wire, derived from topology and link uid so that both agents compute the
 * same number without talking. A 24-bit hash can collide (about 3% for 1,000 links on one
 * host); callers that know the whole set (the manager) should pass explicit VNIs, and the
 * planner rejects duplicates on one underlay.
 */
export function vniForUid(topology: string, uid: string): number {
  const h = createHash("sha256").update(`${topology}\u0000${uid}`).digest();
  return (h.readUInt32BE(0) % VNI_SPACE) + 1;
}

const MAC_RE = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;

/** Lower-cased `aa:bb:cc:dd:ee:ff`; rejects multicast addresses (bit 0 of the first octet). */
export function normalizeMac(mac: string, field = "mac"): string {
  const m = mac.toLowerCase();
  if (!MAC_RE.test(m)) throw new InvalidArgumentError(`MAC address ${JSON.stringify(mac)} must look like 02:00:00:00:00:01`, field);
  if ((parseInt(m.slice(0, 2), 16) & 1) === 1) {
    throw new InvalidArgumentError(`MAC address ${mac} is a multicast address`, field);
  }
  return m;
}

export function validateMtu(mtu: number, field = "mtu"): number {
  if (!Number.isInteger(mtu) || mtu < 68 || mtu > 65535) {
    throw new InvalidArgumentError(`MTU ${mtu} must be an integer in 68..65535`, field);
  }
  return mtu;
}

const IPV4_RE = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const IPV6_RE = /^[0-9a-fA-F:]+(%[A-Za-z0-9_.-]+)?$/;

/** An IPv4 or IPv6 literal (no prefix length), as the VXLAN `local`/`remote` take. */
export function validateIpAddress(address: string, field = "address"): string {
  if (IPV4_RE.test(address)) return address;
  if (address.includes(":") && IPV6_RE.test(address) && address.length <= 45) return address;
  throw new InvalidArgumentError(`${JSON.stringify(address)} is not an IPv4 or IPv6 address`, field);
}

/** `address/prefix`, e.g. 198.51.100.1/24 or 2001:db8::1/64. */
export function validateCidr(cidr: string, field = "address"): string {
  const [address, prefix, ...rest] = cidr.split("/");
  const max = address?.includes(":") ? 128 : 32;
  if (rest.length > 0 || address === undefined || prefix === undefined || !/^\d{1,3}$/.test(prefix) || Number(prefix) > max) {
    throw new InvalidArgumentError(`${JSON.stringify(cidr)} must be an address with a prefix length (198.51.100.1/24)`, field);
  }
  validateIpAddress(address, field);
  return cidr;
}

/** A token that is safe to place in an `ip -batch` / `tc -batch` line without quoting. */
export function isSafeBatchToken(token: string): boolean {
  return token.length > 0 && !/[\s"'\\#]/.test(token);
}
