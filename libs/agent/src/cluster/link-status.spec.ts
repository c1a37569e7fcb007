import type { ObservedInterface } from "@kne/dataplane";
import { describe, expect, it } from "vitest";
import { endpointOperState, linkStatuses } from "./link-status.ts";

const iface = (ifname: string, adminUp: boolean, carrier: boolean) => ({ ifname, adminUp, carrier }) as ObservedInterface;
const link = (a: string, z: string) => ({ metadata: { name: `${a}-${z}` }, spec: { topology: "lab", uid: 1, a, z } });

describe("link status", () => {
  it("endpoint: Up with carrier, LowerLayerDown without, Down when admin down, Absent when missing", () => {
    expect(endpointOperState(iface("eth1", true, true))).toBe("Up");
    expect(endpointOperState(iface("eth1", true, false))).toBe("LowerLayerDown");
    expect(endpointOperState(iface("eth1", false, false))).toBe("Down");
    expect(endpointOperState(undefined)).toBe("Absent");
  });

  it("links whose two ends are wired here, the link Up only when both ends are", () => {
    const netns = new Map([["r1", "ns1"], ["r2", "ns2"]]);
    const interfaces = new Map([
      ["ns1", new Map([["eth1", iface("eth1", false, false)], ["eth2", iface("eth2", true, true)]])],
      ["ns2", new Map([["eth1", iface("eth1", true, false)], ["eth2", iface("eth2", true, true)]])],
    ]);
    const l1 = link("r1:eth1", "r2:eth1");
    const l2 = link("r1:eth2", "r2:eth2");
    const l3 = link("r1:eth3", "r3:eth1");
    const out = linkStatuses([l1, l2, l3], netns, interfaces);
    expect(out.get(l1)).toEqual({ operState: "Down", aOperState: "Down", zOperState: "LowerLayerDown" });
    expect(out.get(l2)).toEqual({ operState: "Up", aOperState: "Up", zOperState: "Up" });
    expect(out.has(l3)).toBe(false);
  });
});
