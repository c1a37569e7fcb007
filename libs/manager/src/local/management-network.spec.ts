import { describe, expect, it } from "vitest";
import { ManagementNetwork, allocateAddresses, hostIfnameFor, isManagementPortAlias } from "./management-network.ts";

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
  });

  it("describes a node's port for the agent: eth0 with its address, a macvlan on the segment's parent", () => {
    const mgmt = new ManagementNetwork();
    const port = mgmt.bridgePort("t", "r1", "198.19.0.7");
    expect(port.interface).toBe("eth0");
    expect(port.addresses).toEqual(["198.19.0.7/16"]);
    expect(port.hostInterface).toBe(hostIfnameFor("t", "r1"));
    expect(port.macvlanParent).toBe("kne-mgmt0");
    expect(port.bridge).toBe("");
    expect([mgmt.parent, mgmt.parentPeer]).toEqual(["kne-mgmt0", "kne-mgmt1"]);
  });

  it("recognises management ports by the agent's marker and by the earlier one, per topology", () => {
    expect(isManagementPortAlias("kne:t:port.kmg0123456789ab", "t")).toBe(true);
    expect(isManagementPortAlias("kne-mgmt:t:r1", "t")).toBe(true);
    expect(isManagementPortAlias("kne-mgmt:t2:r1", "t")).toBe(false);
    expect(isManagementPortAlias("kne:t2:port.kmg0123456789ab", "t")).toBe(false);
    expect(isManagementPortAlias("kne:t:7", "t")).toBe(false);
    expect(isManagementPortAlias("kne:t2:port.kmg0123456789ab")).toBe(true);
    expect(isManagementPortAlias("kne-mgmt:t2:r1")).toBe(true);
    expect(isManagementPortAlias(undefined)).toBe(false);
  });
});
