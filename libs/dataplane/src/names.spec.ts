import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { InvalidArgumentError } from "./errors.ts";
import {
  bridgeIfname,
  fabricNetnsName,
  ifnameFromNftChain,
  isOwnedNetns,
  isSafeBatchToken,
  legIfname,
  nftChainName,
  nodeNetnsName,
  normalizeMac,
  ownerAlias,
  parseOwnedNetnsName,
  parseOwnerAlias,
  validateIfname,
  validateIpAddress,
  validateMtu,
  validateNetnsName,
  validateNodeName,
  validateTopologyId,
  vniForUid,
} from "./names.ts";

describe("interface names", () => {
  it("accepts names up to 15 bytes", () => {
    expect(validateIfname("eth1")).toBe("eth1");
    expect(validateIfname("a23456789012345")).toBe("a23456789012345");
    expect(validateIfname("Ethernet1_1.100")).toBe("Ethernet1_1.100");
  });

  it("rejects names longer than 15 bytes, counting bytes not characters", () => {
    expect(() => validateIfname("a234567890123456")).toThrow(/1-15 bytes/);
    expect(() => validateIfname("äääääääää")).toThrow(InvalidArgumentError);
  });

  it("rejects characters that are unsafe in batch lines, nft or paths", () => {
    for (const bad of ["", "eth 1", "eth/1", "eth:1", 'a"b', "a#b", "-eth", ".eth", "..", "eth\n"]) {
      expect(() => validateIfname(bad), JSON.stringify(bad)).toThrow(InvalidArgumentError);
    }
  });

  it("names the field in the message", () => {
    expect(() => validateIfname("x".repeat(16), "wires[2].a.ifname")).toThrow(/^wires\[2\]\.a\.ifname: /);
  });

  it("every valid name is a safe batch token and round-trips through the nft chain name", () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,14}$/), (name) => {
        validateIfname(name);
        expect(isSafeBatchToken(name)).toBe(true);
        expect(ifnameFromNftChain(nftChainName(name))).toBe(name);
      }),
    );
  });
});

describe("topology ids and namespaces", () => {
  it("takes DNS labels as topology ids", () => {
    expect(validateTopologyId("lab-1")).toBe("lab-1");
    for (const bad of ["", "Lab", "lab.1", "-lab", "lab-", "a".repeat(64), "lab_1"]) {
      expect(() => validateTopologyId(bad), bad).toThrow(InvalidArgumentError);
    }
  });

  it("builds and splits node and fabric namespace names", () => {
    expect(nodeNetnsName("lab-1", "r1")).toBe("kne.lab-1.r1");
    expect(nodeNetnsName("lab-1", "r1.core")).toBe("kne.lab-1.r1.core");
    expect(fabricNetnsName("lab-1")).toBe("kne.lab-1._fabric");
    expect(parseOwnedNetnsName("kne.lab-1.r1.core")).toEqual({ topology: "lab-1", node: "r1.core" });
    expect(parseOwnedNetnsName("kne.lab-1._fabric")).toEqual({ topology: "lab-1", node: "_fabric" });
    expect(parseOwnedNetnsName("kne._probe.123")).toBeUndefined();
    expect(parseOwnedNetnsName("cni-1234")).toBeUndefined();
    expect(isOwnedNetns("kne.lab-1.r1", "lab-1")).toBe(true);
    expect(isOwnedNetns("kne.lab-10.r1", "lab-1")).toBe(false);
  });

  it("rejects node names that could pose as the fabric or escape", () => {
    for (const bad of ["_fabric", "", "a/b", "a b", ".x", "a..b"]) expect(() => validateNodeName(bad), bad).toThrow(InvalidArgumentError);
  });

  it("round-trips every valid topology and node", () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?$/),
        fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,20}$/).filter((n) => !n.includes("..")),
        (topology, node) => {
          const name = nodeNetnsName(topology, node);
          expect(parseOwnedNetnsName(name)).toEqual({ topology, node });
          expect(isSafeBatchToken(name)).toBe(true);
          validateNetnsName(name);
        },
      ),
    );
  });

  it("validates foreign namespace names", () => {
    expect(validateNetnsName("cni-0d6c0bb4-9b1e-4d4a")).toBe("cni-0d6c0bb4-9b1e-4d4a");
    expect(validateNetnsName("")).toBe("");
    expect(() => validateNetnsName("", "netns", false)).toThrow(/host namespace/);
    for (const bad of ["../etc", "a/b", "a b", ".hidden", "x..y"]) expect(() => validateNetnsName(bad), bad).toThrow(InvalidArgumentError);
  });
});

describe("ownership markers", () => {
  it("writes and reads the alias", () => {
    expect(ownerAlias("lab-1", "42")).toBe("kne:lab-1:42");
    expect(parseOwnerAlias("kne:lab-1:42")).toEqual({ topology: "lab-1", uid: "42" });
    expect(parseOwnerAlias("kne:lab-1:_sink")).toEqual({ topology: "lab-1", uid: "_sink" });
    expect(parseOwnerAlias("something else")).toBeUndefined();
    expect(parseOwnerAlias("kne:Lab:1")).toBeUndefined();
    expect(parseOwnerAlias(undefined)).toBeUndefined();
  });

  it("derives short, stable names inside the fabric namespace", () => {
    const br = bridgeIfname("lab-1", "lan1");
    expect(br).toMatch(/^kb[0-9a-f]{11}$/);
    expect(bridgeIfname("lab-1", "lan1")).toBe(br);
    expect(bridgeIfname("lab-2", "lan1")).not.toBe(br);
    const leg = legIfname("lab-1", "lan1", "kne.lab-1.r1", "eth1");
    expect(leg).toMatch(/^kl[0-9a-f]{12}$/);
    expect(Buffer.byteLength(leg)).toBeLessThanOrEqual(15);
    expect(legIfname("lab-1", "lan1", "kne.lab-1.r1", "eth2")).not.toBe(leg);
  });

  it("derives a VNI in 1..2^24-2 that both hosts compute alike", () => {
    const v = vniForUid("lab-1", "7");
    expect(v).toBe(vniForUid("lab-1", "7"));
    fc.assert(
      fc.property(fc.string(), fc.string(), (t, u) => {
        const vni = vniForUid(t, u);
        expect(vni).toBeGreaterThanOrEqual(1);
        expect(vni).toBeLessThanOrEqual(0xfffffe);
      }),
    );
  });
});

describe("values", () => {
  it("normalizes MAC addresses and rejects multicast ones", () => {
    expect(normalizeMac("02:AA:bb:00:00:01")).toBe("02:aa:bb:00:00:01");
    expect(() => normalizeMac("01:00:5e:00:00:01")).toThrow(/multicast/);
    expect(() => normalizeMac("02:00:00:00:00")).toThrow(InvalidArgumentError);
  });

  it("checks MTU and addresses", () => {
    expect(validateMtu(9000)).toBe(9000);
    expect(() => validateMtu(67)).toThrow(InvalidArgumentError);
    expect(() => validateMtu(1500.5)).toThrow(InvalidArgumentError);
    expect(validateIpAddress("198.18.0.1")).toBe("198.18.0.1");
    expect(validateIpAddress("fd00::1")).toBe("fd00::1");
    expect(() => validateIpAddress("198.18.0.256")).toThrow(InvalidArgumentError);
    expect(() => validateIpAddress("host; rm -rf /")).toThrow(InvalidArgumentError);
  });
});
