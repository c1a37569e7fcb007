import { describe, expect, it } from "vitest";
import { parseIpLinkEntry } from "./observe.ts";
import { encodeGetLinks, formatIpv6, parseLinkMessages } from "./rtnetlink-links.ts";

// ---- a tiny rtnetlink message builder ------------------------------------------------------------

const NLA_F_NESTED = 0x8000;

/** One attribute, padded to 4 bytes. */
function attr(type: number, payload: Buffer): Buffer {
  const b = Buffer.alloc((4 + payload.length + 3) & ~3);
  b.writeUInt16LE(4 + payload.length, 0);
  b.writeUInt16LE(type, 2);
  payload.copy(b, 4);
  return b;
}
const nest = (type: number, ...children: Buffer[]) => attr(type | NLA_F_NESTED, Buffer.concat(children));
const nestNoFlag = (type: number, ...children: Buffer[]) => attr(type, Buffer.concat(children));
const string = (type: number, s: string) => attr(type, Buffer.from(`${s}\0`));
const u8 = (type: number, v: number) => attr(type, Buffer.from([v]));
const u16be = (type: number, v: number) => {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(v, 0);
  return attr(type, b);
};
const u32 = (type: number, v: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v >>> 0, 0);
  return attr(type, b);
};
const s32 = (type: number, v: number) => {
  const b = Buffer.alloc(4);
  b.writeInt32LE(v, 0);
  return attr(type, b);
};
const bytes = (type: number, ...v: number[]) => attr(type, Buffer.from(v));

/** IFLA_STATS64 with the first eight counters given (the rest of the struct zero). */
function stats64(values: { rxPackets?: bigint; txPackets?: bigint; rxBytes?: bigint; txBytes?: bigint; rxErrors?: bigint; txErrors?: bigint; rxDropped?: bigint; txDropped?: bigint }): Buffer {
  const b = Buffer.alloc(8 * 24); // struct rtnl_link_stats64 has 24 u64 fields
  const order = [values.rxPackets, values.txPackets, values.rxBytes, values.txBytes, values.rxErrors, values.txErrors, values.rxDropped, values.txDropped];
  order.forEach((v, i) => b.writeBigUInt64LE(v ?? 0n, 8 * i));
  return attr(IFLA.STATS64, b);
}

/** An RTM_NEWLINK message (or another `msgType`) with struct ifinfomsg and attributes. */
function linkMessage(ifi: { index: number; flags: number; type?: number }, attrs: Buffer[], msgType = 16): Buffer {
  const body = Buffer.concat(attrs);
  const len = 16 + 16 + body.length;
  const b = Buffer.alloc(len);
  b.writeUInt32LE(len, 0);
  b.writeUInt16LE(msgType, 4);
  b.writeUInt16LE(0x2, 6); // NLM_F_MULTI
  b.writeUInt32LE(1, 8);
  b.writeUInt16LE(ifi.type ?? 1, 18); // ARPHRD_ETHER
  b.writeInt32LE(ifi.index, 20);
  b.writeUInt32LE(ifi.flags >>> 0, 24);
  body.copy(b, 32);
  return b;
}

const IFLA = { ADDRESS: 1, IFNAME: 3, MTU: 4, LINK: 5, QDISC: 6, STATS: 7, MASTER: 10, OPERSTATE: 16, LINKINFO: 18, IFALIAS: 20, STATS64: 23, LINK_NETNSID: 37 };
const INFO = { KIND: 1, DATA: 2 };
const VXLAN = { ID: 1, GROUP: 2, LOCAL: 4, PORT: 15, GROUP6: 16, LOCAL6: 17 };
const IFF = { UP: 0x1, BROADCAST: 0x2, LOOPBACK: 0x8, POINTOPOINT: 0x10, RUNNING: 0x40, NOARP: 0x80, PROMISC: 0x100, MASTER: 0x400, MULTICAST: 0x1000, LOWER_UP: 0x10000, DORMANT: 0x20000 };
const OPER = { UNKNOWN: 0, DOWN: 2, LOWERLAYERDOWN: 3, UP: 6 };
const ETHER_UP = IFF.BROADCAST | IFF.MULTICAST | IFF.UP | IFF.RUNNING | IFF.LOWER_UP;
const mac = (last: number) => bytes(IFLA.ADDRESS, 0x02, 0xaa, 0xbb, 0xcc, 0xdd, last);

const NS = "ktest-x";

// ---- tests -------------------------------------------------------------------------------------

describe("encodeGetLinks", () => {
  it("asks for a dump of every link of any family, with IFLA_EXT_MASK 0 so stats are not skipped", () => {
    const m = encodeGetLinks(0xdeadbeef);
    expect(m.length).toBe(16 + 16 + 8);
    expect(m.readUInt32LE(0)).toBe(m.length);
    expect(m.readUInt16LE(4)).toBe(18); // RTM_GETLINK
    expect(m.readUInt16LE(6)).toBe(0x301); // REQUEST | DUMP
    expect(m.readUInt32LE(8)).toBe(0xdeadbeef);
    expect(m.subarray(16, 32).every((x) => x === 0)).toBe(true); // ifinfomsg: AF_UNSPEC, index 0
    expect(m.readUInt16LE(32)).toBe(8);
    expect(m.readUInt16LE(34)).toBe(29); // IFLA_EXT_MASK
    expect(m.readUInt32LE(36)).toBe(0);
  });
});

describe("parseLinkMessages", () => {
  it("reads a veth whose peer is in another namespace, equal to what parseIpLinkEntry makes of ip's JSON", () => {
    const msg = linkMessage({ index: 2, flags: ETHER_UP }, [
      string(IFLA.IFNAME, "eth1"),
      u32(IFLA.MTU, 9000),
      u32(IFLA.LINK, 7),
      string(IFLA.QDISC, "tbf"),
      u8(IFLA.OPERSTATE, OPER.UP),
      nestNoFlag(IFLA.LINKINFO, string(INFO.KIND, "veth")),
      string(IFLA.IFALIAS, "kne:topo-1:w7"),
      mac(0x01),
      s32(IFLA.LINK_NETNSID, 3),
      stats64({ rxPackets: 5n, txPackets: 6n, rxBytes: 500n, txBytes: 600n }),
    ]);
    const [got, ...rest] = parseLinkMessages([msg], NS);
    expect(rest).toEqual([]);
    // What `ip -json -d -s link show` prints for this device (trimmed to what is read).
    const ipJson = {
      ifindex: 2,
      link_index: 7,
      ifname: "eth1",
      flags: ["BROADCAST", "MULTICAST", "UP", "LOWER_UP"],
      mtu: 9000,
      qdisc: "tbf",
      operstate: "UP",
      link_type: "ether",
      address: "02:aa:bb:cc:dd:01",
      link_netnsid: 3,
      linkinfo: { info_kind: "veth" },
      ifalias: "kne:topo-1:w7",
      stats64: { rx: { bytes: 500, packets: 5, errors: 0, dropped: 0 }, tx: { bytes: 600, packets: 6, errors: 0, dropped: 0 } },
    };
    expect(got).toStrictEqual(parseIpLinkEntry(ipJson, NS));
    expect(got!.owner).toEqual({ topology: "topo-1", uid: "w7" });
    expect(got!.linkIndex).toBe(7);
    expect(got!.linkNetnsId).toBe(3);
  });

  it("reads lo: LOOPBACK flags, an all-zero address, operstate UNKNOWN, no kind", () => {
    const [lo] = parseLinkMessages(
      [
        linkMessage({ index: 1, flags: IFF.LOOPBACK | IFF.UP | IFF.RUNNING | IFF.LOWER_UP, type: 772 }, [
          string(IFLA.IFNAME, "lo"),
          u32(IFLA.MTU, 65536),
          string(IFLA.QDISC, "noqueue"),
          u8(IFLA.OPERSTATE, OPER.UNKNOWN),
          bytes(IFLA.ADDRESS, 0, 0, 0, 0, 0, 0),
        ]),
      ],
      NS,
    );
    expect(lo).toStrictEqual(
      parseIpLinkEntry({ ifindex: 1, ifname: "lo", flags: ["LOOPBACK", "UP", "LOWER_UP"], mtu: 65536, qdisc: "noqueue", operstate: "UNKNOWN", address: "00:00:00:00:00:00" }, NS),
    );
    expect(lo!.kind).toBeUndefined();
    expect(lo!.counters.rxPackets).toBe(0);
  });

  it("prints flags in ip's order: NO-CARRIER when UP without RUNNING, unnamed bits in hex, M-DOWN last", () => {
    const flagsOf = (flags: number, attrs: Buffer[] = [], others: Buffer[] = []) =>
      parseLinkMessages([linkMessage({ index: 2, flags }, [string(IFLA.IFNAME, "d"), ...attrs]), ...others], NS)[0]!.flags;
    expect(flagsOf(IFF.BROADCAST | IFF.MULTICAST | IFF.UP)).toEqual(["NO-CARRIER", "BROADCAST", "MULTICAST", "UP"]);
    expect(flagsOf(IFF.BROADCAST | IFF.MULTICAST)).toEqual(["BROADCAST", "MULTICAST"]);
    expect(flagsOf(IFF.POINTOPOINT | IFF.MULTICAST | IFF.NOARP)).toEqual(["POINTOPOINT", "MULTICAST", "NOARP"]);
    expect(flagsOf(IFF.PROMISC | IFF.MASTER | IFF.UP | IFF.RUNNING | IFF.LOWER_UP | IFF.DORMANT)).toEqual(["PROMISC", "MASTER", "UP", "LOWER_UP", "DORMANT"]);
    expect(flagsOf(IFF.UP | IFF.RUNNING | 0x80000 | 0x100000)).toEqual(["UP", "180000"]);
    expect(flagsOf(0)).toEqual([]);

    // M-DOWN: IFLA_LINK names a device of this namespace that is down.
    const down = linkMessage({ index: 9, flags: IFF.BROADCAST }, [string(IFLA.IFNAME, "peer")]);
    const up = linkMessage({ index: 9, flags: IFF.BROADCAST | IFF.UP }, [string(IFLA.IFNAME, "peer")]);
    expect(flagsOf(IFF.BROADCAST | IFF.UP, [u32(IFLA.LINK, 9)], [down])).toEqual(["NO-CARRIER", "BROADCAST", "UP", "M-DOWN"]);
    expect(flagsOf(IFF.BROADCAST, [u32(IFLA.LINK, 9)], [down])).toEqual(["BROADCAST", "M-DOWN"]);
    expect(flagsOf(IFF.BROADCAST, [u32(IFLA.LINK, 9)], [up])).toEqual(["BROADCAST"]);
    // ...not when the device is in another namespace, nor when it is not in the dump, nor for index 0.
    expect(flagsOf(IFF.BROADCAST, [u32(IFLA.LINK, 9), s32(IFLA.LINK_NETNSID, 0)], [down])).toEqual(["BROADCAST"]);
    expect(flagsOf(IFF.BROADCAST, [u32(IFLA.LINK, 42)], [down])).toEqual(["BROADCAST"]);
    expect(flagsOf(IFF.BROADCAST, [u32(IFLA.LINK, 0)], [down])).toEqual(["BROADCAST"]);
  });

  it("sets adminUp from UP and carrier from LOWER_UP", () => {
    const [a, b] = parseLinkMessages(
      [
        linkMessage({ index: 2, flags: IFF.BROADCAST | IFF.UP }, [string(IFLA.IFNAME, "a")]),
        linkMessage({ index: 3, flags: IFF.BROADCAST | IFF.RUNNING | IFF.LOWER_UP }, [string(IFLA.IFNAME, "b")]),
      ],
      NS,
    );
    expect([a!.adminUp, a!.carrier]).toEqual([true, false]);
    expect([b!.adminUp, b!.carrier]).toEqual([false, true]);
  });

  it("names operstates as ip does, and UNKNOWN for a value it has no name for or no attribute", () => {
    const names = [0, 1, 2, 3, 4, 5, 6, 7, 200].map(
      (v) => parseLinkMessages([linkMessage({ index: 2, flags: 0 }, [string(IFLA.IFNAME, "d"), u8(IFLA.OPERSTATE, v)])], NS)[0]!.operState,
    );
    expect(names).toEqual(["UNKNOWN", "NOTPRESENT", "DOWN", "LOWERLAYERDOWN", "TESTING", "DORMANT", "UP", "UNKNOWN", "UNKNOWN"]);
    expect(parseLinkMessages([linkMessage({ index: 2, flags: 0 }, [string(IFLA.IFNAME, "d")])], NS)[0]!.operState).toBe("UNKNOWN");
  });

  it("resolves IFLA_MASTER to the name of the device in the same dump, before or after it", () => {
    const port = linkMessage({ index: 3, flags: ETHER_UP }, [string(IFLA.IFNAME, "p1"), u32(IFLA.MASTER, 5), nestNoFlag(IFLA.LINKINFO, string(INFO.KIND, "veth"))]);
    const bridge = linkMessage({ index: 5, flags: ETHER_UP | IFF.MASTER }, [string(IFLA.IFNAME, "br0"), nestNoFlag(IFLA.LINKINFO, string(INFO.KIND, "bridge"))]);
    const orphan = linkMessage({ index: 4, flags: ETHER_UP }, [string(IFLA.IFNAME, "p2"), u32(IFLA.MASTER, 77)]);
    const byName = new Map(parseLinkMessages([port, bridge, orphan], NS).map((i) => [i.ifname, i]));
    expect(byName.get("p1")!.master).toBe("br0");
    expect(byName.get("br0")!.master).toBeUndefined();
    expect(byName.get("br0")!.kind).toBe("bridge");
    expect(byName.get("p2")!.master).toBe("if77"); // what ip prints for an index it cannot name
  });

  it("reads vxlan IFLA_INFO_DATA (NLA_F_NESTED set): vni, local, remote, port in network byte order", () => {
    const [vx] = parseLinkMessages(
      [
        linkMessage({ index: 6, flags: ETHER_UP }, [
          string(IFLA.IFNAME, "vx0"),
          nest(
            IFLA.LINKINFO,
            string(INFO.KIND, "vxlan"),
            nest(INFO.DATA, u32(VXLAN.ID, 4242), bytes(VXLAN.GROUP, 198, 18, 0, 2), bytes(VXLAN.LOCAL, 198, 18, 0, 1), u16be(VXLAN.PORT, 4789)),
          ),
        ]),
      ],
      NS,
    );
    expect(vx!.kind).toBe("vxlan");
    expect(vx!.vxlan).toStrictEqual({ vni: 4242, local: "198.18.0.1", remote: "198.18.0.2", port: 4789 });
    expect(vx).toStrictEqual(
      parseIpLinkEntry(
        {
          ifindex: 6,
          ifname: "vx0",
          flags: ["BROADCAST", "MULTICAST", "UP", "LOWER_UP"],
          linkinfo: { info_kind: "vxlan", info_data: { id: 4242, remote: "198.18.0.2", local: "198.18.0.1", port: 4789, learning: true } },
        },
        NS,
      ),
    );
  });

  it("reads vxlan over IPv6 and a multicast group as the remote; zero addresses are left out as ip leaves them out", () => {
    const v6 = (...words: number[]) => {
      const b = Buffer.alloc(16);
      words.forEach((w, i) => b.writeUInt16BE(w, 2 * i));
      return b;
    };
    const vxlanOf = (...data: Buffer[]) =>
      parseLinkMessages([linkMessage({ index: 6, flags: 0 }, [string(IFLA.IFNAME, "vx"), nest(IFLA.LINKINFO, string(INFO.KIND, "vxlan"), nest(INFO.DATA, ...data))])], NS)[0]!.vxlan;
    expect(vxlanOf(u32(VXLAN.ID, 1), attr(VXLAN.GROUP6, v6(0x2001, 0xdb8, 0, 0, 0, 0, 0, 2)), attr(VXLAN.LOCAL6, v6(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1)))).toStrictEqual({
      vni: 1,
      local: "2001:db8::1",
      remote: "2001:db8::2",
      port: undefined,
    });
    expect(vxlanOf(u32(VXLAN.ID, 2), bytes(VXLAN.GROUP, 239, 1, 1, 1), u16be(VXLAN.PORT, 8472))).toStrictEqual({ vni: 2, local: undefined, remote: "239.1.1.1", port: 8472 });
    expect(vxlanOf(u32(VXLAN.ID, 3), bytes(VXLAN.GROUP, 0, 0, 0, 0), bytes(VXLAN.LOCAL, 0, 0, 0, 0))).toStrictEqual({ vni: 3, local: undefined, remote: undefined, port: undefined });
    // ip reads the IPv6 attribute only when the IPv4 one is absent.
    expect(vxlanOf(bytes(VXLAN.GROUP, 0, 0, 0, 0), attr(VXLAN.GROUP6, v6(0xff05, 0, 0, 0, 0, 0, 0, 1)))!.remote).toBeUndefined();
    // Without IFLA_INFO_DATA: what ip's empty info_data gives.
    const [bare] = parseLinkMessages([linkMessage({ index: 6, flags: 0 }, [string(IFLA.IFNAME, "vx"), nest(IFLA.LINKINFO, string(INFO.KIND, "vxlan"))])], NS);
    expect(bare).toStrictEqual(parseIpLinkEntry({ ifindex: 6, ifname: "vx", flags: [], linkinfo: { info_kind: "vxlan", info_data: {} } }, NS));
  });

  it("reads the macvlan mode, naming each as ip does", () => {
    const modeOf = (mode?: number) =>
      parseLinkMessages(
        [linkMessage({ index: 7, flags: 0 }, [string(IFLA.IFNAME, "mv"), nest(IFLA.LINKINFO, string(INFO.KIND, "macvlan"), nest(INFO.DATA, ...(mode === undefined ? [] : [u32(1, mode)])))])],
        NS,
      )[0]!;
    expect([1, 2, 4, 8, 16, 3].map((m) => modeOf(m).macvlanMode)).toEqual(["private", "vepa", "bridge", "passthru", "source", "unknown"]);
    const none = modeOf();
    expect("macvlanMode" in none).toBe(true);
    expect(none.macvlanMode).toBeUndefined();
    expect(modeOf(4)).toStrictEqual(parseIpLinkEntry({ ifindex: 7, ifname: "mv", flags: [], linkinfo: { info_kind: "macvlan", info_data: { mode: "bridge", bcqueuelen: 1000 } } }, NS));
  });

  it("reads counters from IFLA_STATS64 at their offsets, as numbers, beyond 32 bits", () => {
    const [d] = parseLinkMessages(
      [
        linkMessage({ index: 2, flags: 0 }, [
          string(IFLA.IFNAME, "d"),
          // A different 32-bit IFLA_STATS first: the 64-bit one wins.
          attr(IFLA.STATS, Buffer.alloc(4 * 23, 0xff)),
          stats64({ rxPackets: 1n, txPackets: 2n, rxBytes: 2n ** 40n + 3n, txBytes: 4n, rxErrors: 5n, txErrors: 6n, rxDropped: 7n, txDropped: 8n }),
        ]),
      ],
      NS,
    );
    expect(d!.counters).toStrictEqual({ rxPackets: 1, txPackets: 2, rxBytes: 2 ** 40 + 3, txBytes: 4, rxDropped: 7, txDropped: 8, rxErrors: 5, txErrors: 6 });
  });

  it("falls back to the 32-bit IFLA_STATS, and to zeros without either", () => {
    const s = Buffer.alloc(4 * 23);
    [11, 12, 13, 14, 15, 16, 17, 18].forEach((v, i) => s.writeUInt32LE(v, 4 * i));
    const [a, b] = parseLinkMessages(
      [linkMessage({ index: 2, flags: 0 }, [string(IFLA.IFNAME, "a"), attr(IFLA.STATS, s)]), linkMessage({ index: 3, flags: 0 }, [string(IFLA.IFNAME, "b")])],
      NS,
    );
    expect(a!.counters).toStrictEqual({ rxPackets: 11, txPackets: 12, rxBytes: 13, txBytes: 14, rxDropped: 17, txDropped: 18, rxErrors: 15, txErrors: 16 });
    expect(Object.values(b!.counters)).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
  });

  it("formats the hardware address: lowercase hex, dotted for IPv4 tunnels, empty when there is none", () => {
    const macOf = (type: number, addr?: Buffer) =>
      parseLinkMessages([linkMessage({ index: 2, flags: 0, type }, [string(IFLA.IFNAME, "d"), ...(addr ? [addr] : [])])], NS)[0]!.mac;
    expect(macOf(1, bytes(IFLA.ADDRESS, 0xde, 0xad, 0xbe, 0xef, 0x0a, 0x0b))).toBe("de:ad:be:ef:0a:0b");
    expect(macOf(778, bytes(IFLA.ADDRESS, 10, 0, 0, 1))).toBe("10.0.0.1"); // ARPHRD_IPGRE
    expect(macOf(1, bytes(IFLA.ADDRESS, 10, 0, 0, 1))).toBe("0a:00:00:01");
    expect(macOf(65534)).toBe(""); // tun (ARPHRD_NONE): no IFLA_ADDRESS, ip prints no "address"
  });

  it("ignores messages that are not RTM_NEWLINK, too short, or without a name", () => {
    const done = Buffer.alloc(20);
    done.writeUInt32LE(20, 0);
    done.writeUInt16LE(3, 4); // NLMSG_DONE
    const addr = linkMessage({ index: 2, flags: 0 }, [string(IFLA.IFNAME, "x")], 20); // RTM_NEWADDR
    const short = Buffer.alloc(24);
    short.writeUInt32LE(24, 0);
    short.writeUInt16LE(16, 4);
    const nameless = linkMessage({ index: 4, flags: 0 }, [u32(IFLA.MTU, 1500)]);
    const good = linkMessage({ index: 5, flags: 0 }, [string(IFLA.IFNAME, "ok")]);
    expect(parseLinkMessages([done, addr, short, nameless, good], NS).map((i) => i.ifname)).toEqual(["ok"]);
  });

  it("stops at a truncated attribute, keeping the ones before it, and reads nothing past the message", () => {
    const good = Buffer.concat([string(IFLA.IFNAME, "t0"), u32(IFLA.MTU, 1400)]);
    // An attribute that claims more bytes than are left: ip's parser stops there, so do we.
    const truncated = Buffer.alloc(8);
    truncated.writeUInt16LE(64, 0);
    truncated.writeUInt16LE(IFLA.QDISC, 2);
    const msg = linkMessage({ index: 2, flags: 0 }, [good, truncated, string(IFLA.IFALIAS, "never")]);
    const [t] = parseLinkMessages([msg], NS);
    expect(t!.ifname).toBe("t0");
    expect(t!.mtu).toBe(1400);
    expect(t!.qdisc).toBeUndefined();
    expect(t!.alias).toBeUndefined();

    // nlmsg_len shorter than the buffer: attributes beyond it are not read.
    const cut = linkMessage({ index: 3, flags: 0 }, [string(IFLA.IFNAME, "t1"), u32(IFLA.MTU, 1300)]);
    cut.writeUInt32LE(cut.length - 8, 0);
    expect(parseLinkMessages([cut], NS)[0]!.mtu).toBe(0);

    // A nested attribute cut short inside: the kind before the cut is kept.
    const info = Buffer.concat([string(INFO.KIND, "vxlan"), Buffer.from([200, 0, 2, 0])]);
    const [v] = parseLinkMessages([linkMessage({ index: 4, flags: 0 }, [string(IFLA.IFNAME, "t2"), attr(IFLA.LINKINFO | NLA_F_NESTED, info)])], NS);
    expect(v!.kind).toBe("vxlan");
    expect(v!.vxlan).toStrictEqual({ vni: 0, local: undefined, remote: undefined, port: undefined });

    // Short fixed-size attributes read as absent.
    const [w] = parseLinkMessages([linkMessage({ index: 5, flags: 0 }, [string(IFLA.IFNAME, "t3"), bytes(IFLA.MTU, 1, 2), bytes(IFLA.STATS64, 1, 2, 3)])], NS);
    expect(w!.mtu).toBe(0);
    expect(w!.counters.rxPackets).toBe(0);
  });

  it("keeps the first of two attributes of one type, as ip does", () => {
    const [d] = parseLinkMessages([linkMessage({ index: 2, flags: 0 }, [string(IFLA.IFNAME, "first"), string(IFLA.IFNAME, "second")])], NS);
    expect(d!.ifname).toBe("first");
  });

  it("leaves addresses undefined: a link dump has none", () => {
    const [d] = parseLinkMessages([linkMessage({ index: 2, flags: 0 }, [string(IFLA.IFNAME, "d")])], NS);
    expect("addresses" in d!).toBe(false);
    expect(d!.netns).toBe(NS);
  });
});

describe("formatIpv6", () => {
  const v6 = (...words: number[]) => {
    const b = Buffer.alloc(16);
    words.forEach((w, i) => b.writeUInt16BE(w, 2 * i));
    return b;
  };
  it("writes addresses as glibc's inet_ntop does", () => {
    expect(formatIpv6(v6(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1))).toBe("2001:db8::1");
    expect(formatIpv6(v6())).toBe("::");
    expect(formatIpv6(v6(0, 0, 0, 0, 0, 0, 0, 1))).toBe("::1");
    expect(formatIpv6(v6(0xfe80, 0, 0, 0, 0x1, 0, 0, 0))).toBe("fe80::1:0:0:0"); // the first of equal runs
    expect(formatIpv6(v6(1, 0, 2, 0, 3, 0, 4, 0))).toBe("1:0:2:0:3:0:4:0"); // single zero words stay
    expect(formatIpv6(v6(1, 2, 3, 4, 5, 6, 0, 0))).toBe("1:2:3:4:5:6::");
    expect(formatIpv6(v6(0, 0, 0, 0, 0, 0xffff, 0xc612, 0x0001))).toBe("::ffff:198.18.0.1");
    expect(formatIpv6(v6(0, 0, 0, 0, 0, 0, 0xc612, 0x0001))).toBe("::198.18.0.1");
    expect(formatIpv6(v6(0xff05, 0, 0, 0, 0, 0, 0, 0xabcd))).toBe("ff05::abcd");
  });
});
