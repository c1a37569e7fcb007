import { describe, expect, it } from "vitest";
import { encodeSetLinkAdmin, parseAnswer } from "./rtnetlink.ts";

/** An NLMSG_ERROR answer to `seq`, as the kernel writes it with NETLINK_CAP_ACK (request header only). */
function errorAnswer(seq: number, errno: number, extMessage?: string): Buffer {
  const tlv = extMessage === undefined ? Buffer.alloc(0) : (() => {
    const text = Buffer.from(`${extMessage}\0`);
    const b = Buffer.alloc((4 + text.length + 3) & ~3);
    b.writeUInt16LE(4 + text.length, 0);
    b.writeUInt16LE(1, 2); // NLMSGERR_ATTR_MSG
    text.copy(b, 4);
    return b;
  })();
  const len = 16 + 4 + 16 + tlv.length;
  const b = Buffer.alloc(len);
  b.writeUInt32LE(len, 0);
  b.writeUInt16LE(2, 4); // NLMSG_ERROR
  b.writeUInt16LE(extMessage === undefined ? 0x100 : 0x300, 6); // NLM_F_CAPPED [| NLM_F_ACK_TLVS]
  b.writeUInt32LE(seq, 8);
  b.writeInt32LE(-errno, 16);
  b.writeUInt32LE(16, 20); // the request's header: its length...
  b.writeUInt16LE(19, 24); // ...and type
  b.writeUInt32LE(seq, 28);
  tlv.copy(b, 36);
  return b;
}

describe("rtnetlink messages", () => {
  it("encodes RTM_SETLINK for IFF_UP with the device named, not indexed", () => {
    const up = encodeSetLinkAdmin("eth1", true, 7);
    expect(up.length).toBe(16 + 16 + 12); // "eth1\0" in an attribute padded to 4 bytes
    expect(up.readUInt32LE(0)).toBe(up.length);
    expect(up.readUInt16LE(4)).toBe(19); // RTM_SETLINK
    expect(up.readUInt16LE(6)).toBe(0x1 | 0x4); // REQUEST | ACK, never CREATE
    expect(up.readUInt32LE(8)).toBe(7);
    expect(up.readInt32LE(20)).toBe(0); // ifindex
    expect(up.readUInt32LE(24)).toBe(1); // flags: IFF_UP
    expect(up.readUInt32LE(28)).toBe(1); // change mask: IFF_UP only
    expect(up.readUInt16LE(32)).toBe(4 + 5);
    expect(up.readUInt16LE(34)).toBe(3); // IFLA_IFNAME
    expect(up.toString("utf8", 36, 41)).toBe("eth1\0");
    const down = encodeSetLinkAdmin("a-fifteen-chars", false, 0xffffffff);
    expect(down.readUInt32LE(24)).toBe(0);
    expect(down.readUInt32LE(28)).toBe(1);
    expect(down.readUInt32LE(8)).toBe(0xffffffff);
    expect(down.length % 4).toBe(0);
  });

  it("finds the answer to its own sequence number and skips earlier ones", () => {
    const both = Buffer.concat([errorAnswer(4, 19), errorAnswer(5, 0)]);
    expect(parseAnswer(both, both.length, 5)).toEqual({ errno: 0 });
    expect(parseAnswer(both, both.length, 4)).toEqual({ errno: 19 });
    expect(parseAnswer(both, both.length, 6)).toBeUndefined();
  });

  it("reads the kernel's extended error message", () => {
    const b = errorAnswer(9, 22, "Invalid link name");
    expect(parseAnswer(b, b.length, 9)).toEqual({ errno: 22, message: "Invalid link name" });
  });

  it("does not read past what recv returned", () => {
    const b = errorAnswer(3, 0);
    expect(parseAnswer(b, b.length - 1, 3)).toBeUndefined();
    expect(parseAnswer(b, 0, 3)).toBeUndefined();
  });
});
