/**
 * The interfaces of a namespace read from an rtnetlink link dump (RTM_GETLINK) on our own
 * socket, instead of spawning `ip -json -details -statistics link show` (~13 ms a call).
 *
 * `parseLinkMessages` gives, field by field, what `parseIpLinkEntry` makes of ip's JSON for
 * the same kernel state; where ip derives a field from more than one attribute, the rules
 * below are iproute2's:
 * - flags: the IFF_* names in the order `ip` prints them; NO-CARRIER first when UP without
 *   RUNNING; RUNNING itself never; bits without a name as one hex string; M-DOWN last when
 *   IFLA_LINK names a device of this namespace (no IFLA_LINK_NETNSID) that is known and down.
 * - master: the name of the IFLA_MASTER device, looked up in the same dump (`if<N>` when it
 *   is not there, `*` for index 0).
 * - linkIndex: only with IFLA_LINK_NETNSID (a peer in another namespace) and a non-zero
 *   IFLA_LINK; for a peer in this namespace ip prints its name instead, which we do not keep.
 * - mac: IFLA_ADDRESS as colon-separated hex, or as an IP address for IP tunnels; "" when
 *   the device has none (tun, for example).
 * - vxlan and macvlanMode are set for every device of that kind, with what IFLA_INFO_DATA
 *   holds (ip prints an empty `info_data` when the kernel sent none).
 * - counters: IFLA_STATS64, else the 32-bit IFLA_STATS, else zeros.
 * - Attributes are parsed as ip parses them: the first of a type wins, and a truncated one
 *   ends the list.
 */
import { type InterfaceCounters, type ObservedInterface, type ObservedVxlan, observedInterface } from "./observe.ts";
import { IFINFOMSG_LEN, NLMSG_HDRLEN, NLM_F_ACK, NLM_F_DUMP, NLM_F_REQUEST, RTM_GETLINK, RTM_NEWLINK, type RouteNetlink, align4, encodeLinkRequest } from "./rtnetlink.ts";

const NLA_TYPE_MASK = 0x3fff; // without NLA_F_NESTED and NLA_F_NET_BYTEORDER

const IFLA_ADDRESS = 1;
const IFLA_IFNAME = 3;
const IFLA_MTU = 4;
const IFLA_LINK = 5;
const IFLA_QDISC = 6;
const IFLA_STATS = 7;
const IFLA_MASTER = 10;
const IFLA_OPERSTATE = 16;
const IFLA_LINKINFO = 18;
const IFLA_IFALIAS = 20;
const IFLA_STATS64 = 23;
const IFLA_LINK_NETNSID = 37;

const IFLA_INFO_KIND = 1;
const IFLA_INFO_DATA = 2;

const IFLA_VXLAN_ID = 1;
const IFLA_VXLAN_GROUP = 2;
const IFLA_VXLAN_LOCAL = 4;
const IFLA_VXLAN_PORT = 15;
const IFLA_VXLAN_GROUP6 = 16;
const IFLA_VXLAN_LOCAL6 = 17;

const IFLA_MACVLAN_MODE = 1;
const MACVLAN_MODES: ReadonlyMap<number, string> = new Map([
  [1, "private"],
  [2, "vepa"],
  [4, "bridge"],
  [8, "passthru"],
  [16, "source"],
]);

const IFF_UP = 0x1;
const IFF_RUNNING = 0x40;
/** Flag names in the order `ip` prints them. */
const IFF_NAMES: ReadonlyArray<readonly [number, string]> = [
  [0x8, "LOOPBACK"],
  [0x2, "BROADCAST"],
  [0x10, "POINTOPOINT"],
  [0x1000, "MULTICAST"],
  [0x80, "NOARP"],
  [0x200, "ALLMULTI"],
  [0x100, "PROMISC"],
  [0x400, "MASTER"],
  [0x800, "SLAVE"],
  [0x4, "DEBUG"],
  [0x8000, "DYNAMIC"],
  [0x4000, "AUTOMEDIA"],
  [0x2000, "PORTSEL"],
  [0x20, "NOTRAILERS"],
  [0x1, "UP"],
  [0x10000, "LOWER_UP"],
  [0x20000, "DORMANT"],
  [0x40000, "ECHO"],
];

/** IFLA_OPERSTATE values (RFC 2863) as `ip` names them. */
const OPER_STATES = ["UNKNOWN", "NOTPRESENT", "DOWN", "LOWERLAYERDOWN", "TESTING", "DORMANT", "UP"];

// Link types whose hardware address is an IP address (ip prints it as one).
const ARPHRD_TUNNEL = 768;
const ARPHRD_TUNNEL6 = 769;
const ARPHRD_SIT = 776;
const ARPHRD_IPGRE = 778;
const ARPHRD_IP6GRE = 823;


/**
 * An RTM_GETLINK dump request for every device of the namespace. IFLA_EXT_MASK is 0: no VF
 * details, and RTEXT_FILTER_SKIP_STATS stays clear so IFLA_STATS64 comes back.
 */
export function encodeGetLinks(seq: number): Buffer {
  return encodeLinkRequest({ type: RTM_GETLINK, flags: NLM_F_REQUEST | NLM_F_DUMP, extMask: 0 }, seq);
}

/**
 * An RTM_GETLINK for the one device named `ifname`, acknowledged (NLM_F_ACK: the answer is
 * its RTM_NEWLINK, then the ack; ENODEV when there is no such device). Unlike a dump, the
 * kernel first applies the device's pending link-watch events, so its oper state and
 * RUNNING flag are current: a carrier change of a veth whose peer has the same ifindex (in
 * another namespace) is otherwise reported up to a second late.
 */
export function encodeGetLink(ifname: string, seq: number): Buffer {
  return encodeLinkRequest({ type: RTM_GETLINK, flags: NLM_F_REQUEST | NLM_F_ACK, ifname, extMask: 0 }, seq);
}

/** Attribute payloads by type, of the attributes in `buf[start, end)`. */
type Attrs = Map<number, Buffer>;

function parseAttrs(buf: Buffer, start: number, end: number): Attrs {
  const attrs: Attrs = new Map();
  let a = start;
  while (a + 4 <= end) {
    const len = buf.readUInt16LE(a);
    // A truncated attribute ends the list, as in ip's parse_rtattr.
    if (len < 4 || a + len > end) break;
    const type = buf.readUInt16LE(a + 2) & NLA_TYPE_MASK;
    if (!attrs.has(type)) attrs.set(type, buf.subarray(a + 4, a + len));
    a += align4(len);
  }
  return attrs;
}

function nested(attr: Buffer | undefined): Attrs | undefined {
  return attr ? parseAttrs(attr, 0, attr.length) : undefined;
}

/** A NUL-terminated string attribute. */
function str(attr: Buffer | undefined): string | undefined {
  if (!attr) return undefined;
  const nul = attr.indexOf(0);
  return attr.toString("utf8", 0, nul < 0 ? attr.length : nul);
}

function u32(attr: Buffer | undefined): number | undefined {
  return attr && attr.length >= 4 ? attr.readUInt32LE(0) : undefined;
}

function s32(attr: Buffer | undefined): number | undefined {
  return attr && attr.length >= 4 ? attr.readInt32LE(0) : undefined;
}

function formatIpv4(b: Buffer, at = 0): string {
  return `${b[at]}.${b[at + 1]}.${b[at + 2]}.${b[at + 3]}`;
}

/** An IPv6 address the way glibc's inet_ntop writes it (what ip prints). */
export function formatIpv6(b: Buffer): string {
  const words = Array.from({ length: 8 }, (_, i) => b.readUInt16BE(2 * i));
  // The longest run of zero words (the first of equal ones), if at least two long, becomes "::".
  let bestBase = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen) {
      bestBase = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (bestLen < 2) bestBase = -1;
  let out = "";
  for (let i = 0; i < 8; i++) {
    if (bestBase >= 0 && i >= bestBase && i < bestBase + bestLen) {
      if (i === bestBase) out += ":";
      continue;
    }
    if (i !== 0) out += ":";
    // IPv4-compatible (::a.b.c.d) and IPv4-mapped (::ffff:a.b.c.d) addresses end in dotted quad.
    if (i === 6 && bestBase === 0 && (bestLen === 6 || (bestLen === 5 && words[5] === 0xffff))) {
      return out + formatIpv4(b, 12);
    }
    out += words[i]!.toString(16);
  }
  if (bestBase >= 0 && bestBase + bestLen === 8) out += ":";
  return out;
}

function isZero(b: Buffer): boolean {
  return b.every((x) => x === 0);
}

/** IFLA_ADDRESS as ip prints it ("address"): hex pairs, or an IP address for IP tunnels. */
function formatHardwareAddress(addr: Buffer | undefined, type: number): string {
  if (!addr || addr.length === 0) return "";
  if (addr.length === 4 && (type === ARPHRD_TUNNEL || type === ARPHRD_SIT || type === ARPHRD_IPGRE)) return formatIpv4(addr);
  if (addr.length === 16 && (type === ARPHRD_TUNNEL6 || type === ARPHRD_IP6GRE)) return formatIpv6(addr);
  return Array.from(addr, (x) => x.toString(16).padStart(2, "0")).join(":");
}

/** The `flags` array of `ip -json link show`. */
function linkFlags(ifiFlags: number, masterDown: boolean): string[] {
  const out: string[] = [];
  if (ifiFlags & IFF_UP && !(ifiFlags & IFF_RUNNING)) out.push("NO-CARRIER");
  let rest = ifiFlags & ~IFF_RUNNING;
  for (const [bit, name] of IFF_NAMES) {
    if (rest & bit) {
      out.push(name);
      rest &= ~bit;
    }
  }
  if (rest !== 0) out.push((rest >>> 0).toString(16));
  if (masterDown) out.push("M-DOWN");
  return out;
}

function readCounters(attrs: Attrs): InterfaceCounters {
  // struct rtnl_link_stats64 (u64) or rtnl_link_stats (u32): rx_packets, tx_packets,
  // rx_bytes, tx_bytes, rx_errors, tx_errors, rx_dropped, tx_dropped come first, in order.
  const s64 = attrs.get(IFLA_STATS64);
  const s32 = s64 ? undefined : attrs.get(IFLA_STATS);
  const field = (i: number): number => {
    if (s64) return s64.length >= 8 * (i + 1) ? Number(s64.readBigUInt64LE(8 * i)) : 0;
    if (s32) return s32.length >= 4 * (i + 1) ? s32.readUInt32LE(4 * i) : 0;
    return 0;
  };
  return {
    rxPackets: field(0),
    txPackets: field(1),
    rxBytes: field(2),
    txBytes: field(3),
    rxDropped: field(6),
    txDropped: field(7),
    rxErrors: field(4),
    txErrors: field(5),
  };
}

/**
 * One vxlan address as ip prints it: the IPv6 attribute counts only when the IPv4 one is
 * absent, and a zero address is left out.
 */
function vxlanAddress(v4: Buffer | undefined, v6: Buffer | undefined): string | undefined {
  if (v4) return v4.length >= 4 && !isZero(v4.subarray(0, 4)) ? formatIpv4(v4) : undefined;
  return v6 && v6.length >= 16 && !isZero(v6.subarray(0, 16)) ? formatIpv6(v6) : undefined;
}

/** IFLA_INFO_DATA of a vxlan device as `parseIpLinkEntry` reads ip's `info_data`. */
function readVxlan(data: Attrs | undefined): ObservedVxlan {
  const id = data?.get(IFLA_VXLAN_ID);
  const remote = vxlanAddress(data?.get(IFLA_VXLAN_GROUP), data?.get(IFLA_VXLAN_GROUP6));
  const local = vxlanAddress(data?.get(IFLA_VXLAN_LOCAL), data?.get(IFLA_VXLAN_LOCAL6));
  const port = data?.get(IFLA_VXLAN_PORT);
  return {
    vni: id && id.length >= 4 ? id.readUInt32LE(0) : 0,
    local,
    remote,
    port: port && port.length >= 2 ? port.readUInt16BE(0) : undefined, // network byte order
  };
}

function readMacvlanMode(data: Attrs | undefined): string | undefined {
  const mode = u32(data?.get(IFLA_MACVLAN_MODE));
  return mode === undefined ? undefined : (MACVLAN_MODES.get(mode) ?? "unknown");
}

interface LinkMessage {
  ifindex: number;
  type: number;
  flags: number;
  attrs: Attrs;
}

function decode(msg: Buffer): LinkMessage | undefined {
  if (msg.length < NLMSG_HDRLEN + IFINFOMSG_LEN) return undefined;
  const len = Math.min(msg.readUInt32LE(0), msg.length);
  if (len < NLMSG_HDRLEN + IFINFOMSG_LEN || msg.readUInt16LE(4) !== RTM_NEWLINK) return undefined;
  // struct ifinfomsg { u8 family; u8 pad; u16 type; s32 index; u32 flags; u32 change }
  return {
    type: msg.readUInt16LE(18),
    ifindex: msg.readInt32LE(20),
    flags: msg.readUInt32LE(24),
    attrs: parseAttrs(msg, NLMSG_HDRLEN + IFINFOMSG_LEN, len),
  };
}

/**
 * One ObservedInterface per RTM_NEWLINK message of a link dump (other messages, and
 * devices without a name, are skipped), equal to what `parseIpLinkEntry` makes of
 * `ip -json -details -statistics link show` for the same devices.
 */
export function parseLinkMessages(messages: readonly Buffer[], netns: string): ObservedInterface[] {
  const links = messages.map(decode).filter((l): l is LinkMessage => l !== undefined);
  const byIndex = new Map<number, { name?: string; flags: number }>();
  for (const l of links) if (!byIndex.has(l.ifindex)) byIndex.set(l.ifindex, { name: str(l.attrs.get(IFLA_IFNAME)), flags: l.flags });

  const out: ObservedInterface[] = [];
  for (const { ifindex, type, flags, attrs } of links) {
    const ifname = str(attrs.get(IFLA_IFNAME));
    if (ifname === undefined) continue; // ip prints "ifname": null, which parseIpLinkEntry drops
    const netnsId = s32(attrs.get(IFLA_LINK_NETNSID));
    const iflink = u32(attrs.get(IFLA_LINK));
    let linkIndex: number | undefined;
    let masterDown = false;
    if (iflink !== undefined && iflink !== 0) {
      if (netnsId !== undefined) linkIndex = iflink;
      else {
        // A device of this namespace: M-DOWN when it is down (an unknown one counts as up).
        const peer = byIndex.get(iflink);
        masterDown = peer !== undefined && !(peer.flags & IFF_UP);
      }
    }
    const masterIndex = u32(attrs.get(IFLA_MASTER));
    const master = masterIndex === undefined ? undefined : masterIndex === 0 ? "*" : (byIndex.get(masterIndex)?.name ?? `if${masterIndex}`);
    const operIndex = attrs.get(IFLA_OPERSTATE)?.[0];
    const linkinfo = nested(attrs.get(IFLA_LINKINFO));
    const kind = str(linkinfo?.get(IFLA_INFO_KIND));
    const data = nested(linkinfo?.get(IFLA_INFO_DATA));
    const alias = str(attrs.get(IFLA_IFALIAS));
    const ifFlags = linkFlags(flags, masterDown);
    // Built as parseIpLinkEntry builds it, so the two compare strictly equal.
    const iface = observedInterface({
      netns,
      ifindex,
      ifname,
      kind,
      alias,
      mtu: u32(attrs.get(IFLA_MTU)) ?? 0,
      mac: formatHardwareAddress(attrs.get(IFLA_ADDRESS), type),
      operState: (operIndex !== undefined ? OPER_STATES[operIndex] : undefined) ?? "UNKNOWN",
      flags: ifFlags,
      master,
      linkIndex,
      linkNetnsId: netnsId,
      qdisc: str(attrs.get(IFLA_QDISC)),
      counters: readCounters(attrs),
    });
    if (kind === "vxlan") iface.vxlan = readVxlan(data);
    if (kind === "macvlan") iface.macvlanMode = readMacvlanMode(data);
    out.push(iface);
  }
  return out;
}

/** Every interface of `netns` (HOST_NETNS: this host's) from one link dump on `nl`'s socket. */
export async function readLinksNetlink(nl: RouteNetlink, netns: string): Promise<ObservedInterface[]> {
  return parseLinkMessages(await nl.dump(netns, encodeGetLinks, "link show"), netns);
}
