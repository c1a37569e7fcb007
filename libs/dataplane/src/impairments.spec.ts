import { describe, expect, it } from "vitest";
import { InvalidArgumentError, KernelFeatureMissingError, type KernelFeature } from "./errors.ts";
import {
  assertFeatures,
  effectiveBurst,
  impairmentOperations,
  lossMatches,
  nftSetLossScript,
  qdiscArgs,
  qdiscsMatch,
  requiredFeatures,
  validateImpairments,
} from "./impairments.ts";

const HERE: ReadonlySet<KernelFeature> = new Set(["veth", "ifb", "sch_tbf", "sch_htb", "nft_netdev_egress", "nft_fwd"]);

describe("validateImpairments", () => {
  it("accepts sensible values and rejects impossible ones with the field", () => {
    expect(validateImpairments({ lossPercent: 20, rateBitsPerSecond: 50e6 })).toBeTruthy();
    expect(() => validateImpairments({ lossPercent: 101 }, "wires[0].a.impairments")).toThrow(/wires\[0\]\.a\.impairments\.lossPercent/);
    expect(() => validateImpairments({ lossPercent: -1 })).toThrow(InvalidArgumentError);
    expect(() => validateImpairments({ rateBitsPerSecond: 100 })).toThrow(/minimum/);
    expect(() => validateImpairments({ jitterMs: 5 })).toThrow(/jitter needs a delay/);
    expect(() => validateImpairments({ reorderPercent: 5 })).toThrow(/reordering needs a delay/);
  });
});

describe("features", () => {
  it("maps impairments to the kernel features they need", () => {
    expect([...requiredFeatures({ delayMs: 10 }).keys()]).toEqual(["sch_netem"]);
    expect([...requiredFeatures({ lossPercent: 1 }).keys()].sort()).toEqual(["ifb", "nft_fwd", "nft_netdev_egress"]);
    expect([...requiredFeatures({ rateBitsPerSecond: 1e6 }).keys()]).toEqual(["sch_tbf"]);
    expect(requiredFeatures({}).size).toBe(0);
  });

  it("throws KernelFeatureMissingError naming sch_netem for delay on a kernel without it", () => {
    try {
      assertFeatures({ delayMs: 10 }, HERE, "netns kne.t.r1 dev eth1");
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(KernelFeatureMissingError);
      expect((e as KernelFeatureMissingError).feature).toBe("sch_netem");
      expect((e as KernelFeatureMissingError).code).toBe("FAILED_PRECONDITION");
      expect((e as Error).message).toContain("sch_netem");
      expect((e as Error).message).toContain("delay on netns kne.t.r1 dev eth1");
    }
    for (const [key, what] of [["corruptPercent", "corrupt"], ["duplicatePercent", "duplicate"]] as const) {
      expect(() => assertFeatures({ [key]: 1 }, HERE, "x")).toThrow(new RegExp(`sch_netem.*${what}`));
    }
    expect(() => assertFeatures({ lossPercent: 20, rateBitsPerSecond: 1e6 }, HERE, "x")).not.toThrow();
  });
});

describe("qdisc lines", () => {
  it("uses tbf at the root for a rate alone", () => {
    expect(qdiscArgs("eth1", { rateBitsPerSecond: 50e6 })).toEqual([
      ["qdisc", "add", "dev", "eth1", "root", "handle", "1:", "tbf", "rate", "50000000bit", "burst", "25000", "latency", "50ms"],
    ]);
  });

  it("puts tbf under netem when both are wanted", () => {
    const lines = qdiscArgs("eth1", { delayMs: 10, jitterMs: 2, duplicatePercent: 1, rateBitsPerSecond: 1e6 });
    expect(lines[0]).toEqual(["qdisc", "add", "dev", "eth1", "root", "handle", "1:", "netem", "limit", "10000", "delay", "10000us", "2000us", "duplicate", "1%"]);
    expect(lines[1]!.slice(0, 9)).toEqual(["qdisc", "add", "dev", "eth1", "parent", "1:1", "handle", "10:", "tbf"]);
  });

  it("sizes the bucket to 4 ms of traffic, at least 16 KiB and two frames", () => {
    expect(effectiveBurst({ rateBitsPerSecond: 1e6 })).toBe(16 * 1024);
    expect(effectiveBurst({ rateBitsPerSecond: 1e9 })).toBe(500_000);
    expect(effectiveBurst({ rateBitsPerSecond: 1e6 }, 9000)).toBe(18028);
    expect(effectiveBurst({ rateBitsPerSecond: 1e6, burstBytes: 100 })).toBe(1514);
  });

  it("compares observed qdiscs with the wanted rate", () => {
    const tbf = { dev: "eth1", kind: "tbf", handle: "1:", root: true, rateBitsPerSecond: 50e6 };
    expect(qdiscsMatch({ rateBitsPerSecond: 50e6 }, [tbf], "eth1")).toBe(true);
    expect(qdiscsMatch({ rateBitsPerSecond: 10e6 }, [tbf], "eth1")).toBe(false);
    expect(qdiscsMatch(undefined, [tbf], "eth1")).toBe(false);
    expect(qdiscsMatch(undefined, [{ ...tbf, kind: "noqueue" }], "eth1")).toBe(true);
    expect(qdiscsMatch({ lossPercent: 5 }, [], "eth1")).toBe(true);
  });
});

describe("loss", () => {
  it("writes an idempotent, atomic nft script bound to the device and the sink", () => {
    const s = nftSetLossScript("lab-1", "7", "eth1", 20);
    expect(s[0]).toBe('add table netdev kne_lab-1 { comment "kne:lab-1:_table"; }');
    expect(s).toContain("delete chain netdev kne_lab-1 eg_eth1");
    expect(s.at(-1)).toBe('add rule netdev kne_lab-1 eg_eth1 numgen random mod 10000 < 2000 counter fwd to "kne-sink" comment "kne:lab-1:7"');
  });

  it("compares the observed chain with the wanted loss", () => {
    const chain = { name: "eg_eth1", ifname: "eth1", lossPercent: 20, foreignRules: 0 };
    expect(lossMatches({ lossPercent: 20 }, chain)).toBe(true);
    expect(lossMatches({ lossPercent: 20.004 }, chain)).toBe(true);
    expect(lossMatches({ lossPercent: 21 }, chain)).toBe(false);
    expect(lossMatches({ lossPercent: 20 }, { ...chain, foreignRules: 1 })).toBe(false);
    expect(lossMatches({}, undefined)).toBe(true);
    expect(lossMatches({}, chain)).toBe(false);
  });

  it("sets up the sink only when it is missing and clears what is not wanted", () => {
    const ops = impairmentOperations("t", "7", { netns: "kne.t.r1", ifname: "eth1" }, { lossPercent: 5 }, 1500, false);
    expect(ops.map((o) => `${o.phase}/${o.tool}`)).toEqual(["setup/tc", "prepare/ip", "prepare/ip", "setup/nft"]);
    const clear = impairmentOperations("t", "7", { netns: "kne.t.r1", ifname: "eth1" }, {}, 1500, true);
    expect(clear.map((o) => `${o.tool}:${o.args[0]}`)).toEqual(["tc:qdisc", "nft:add table netdev kne_t { comment \"kne:t:_table\"; }"]);
    expect(clear[0]!.ignore).toEqual(["NOT_FOUND"]);
  });
});
