import { describe, expect, it } from "vitest";
import { allocateAddresses, hostIfnameFor, mgmtAlias } from "./management-network.ts";

describe("management network", () => {
  it("allocates free addresses after the gateway, skipping taken ones", () => {
    expect(allocateAddresses("198.19.0.1/16", new Set(), 3)).toEqual(["198.19.0.2", "198.19.0.3", "198.19.0.4"]);
    expect(allocateAddresses("198.19.0.1/16", new Set(["198.19.0.2", "198.19.0.4"]), 2)).toEqual(["198.19.0.3", "198.19.0.5"]);
    expect(allocateAddresses("198.19.0.1/16", new Set(), 300).at(-1)).toBe("198.19.1.45");
  });

  it("fails when the subnet is full", () => {
    expect(() => allocateAddresses("198.19.0.1/30", new Set(), 2)).toThrow(/no 2 free addresses/);
    expect(allocateAddresses("198.19.0.1/30", new Set(), 1)).toEqual(["198.19.0.2"]);
  });

  it("names host ends within the kernel's 15 bytes, stable per node", () => {
    const a = hostIfnameFor("a-very-long-topology-name-indeed", "node-with-a-long-name");
    expect(a).toMatch(/^kmg[0-9a-f]{12}$/);
    expect(hostIfnameFor("a-very-long-topology-name-indeed", "node-with-a-long-name")).toBe(a);
    expect(hostIfnameFor("t", "r1")).not.toBe(hostIfnameFor("t", "r2"));
    expect(mgmtAlias("t", "r1")).toBe("kne-mgmt:t:r1");
  });
});
