import { create } from "@bufbuild/protobuf";
import { topo } from "@kne/proto";
import { linkWireKey, resolveTopology } from "@kne/topology";
import { describe, expect, it } from "vitest";
import { applyLinkUids, assignLinkUids, impairmentsToJson, wiresRequest } from "./wires.ts";

const link = (a: string, ai: string, z: string, zi: string) => create(topo.LinkSchema, { aNode: a, aInt: ai, zNode: z, zInt: zi });

function ring(): topo.Topology {
  return create(topo.TopologySchema, {
    name: "lab",
    nodes: ["r1", "r2", "r3"].map((name) => create(topo.NodeSchema, { name, vendor: topo.Vendor.HOST })),
    links: [link("r1", "eth1", "r2", "eth1"), link("r2", "eth2", "r3", "eth1")],
  });
}

describe("link uids", () => {
  it("numbers a new topology's links in file order from 0", () => {
    const t = ring();
    expect(Object.values(assignLinkUids(t.links))).toEqual([0, 1]);
  });

  it("keeps running links' uids when links are added before them or removed", () => {
    const t = ring();
    const first = assignLinkUids(t.links);
    const grown = [link("r3", "eth2", "r1", "eth2"), ...t.links.slice(1)];
    const second = assignLinkUids(grown, first);
    expect(second[linkWireKey(t.links[1]!)]).toBe(1);
    expect(second[linkWireKey(grown[0]!)]).toBe(2);
    expect(Object.keys(second)).toHaveLength(2);
  });

  it("puts the uids on the resolved interfaces", () => {
    const t = ring();
    const resolved = resolveTopology(t);
    applyLinkUids(resolved, { [linkWireKey(t.links[0]!)]: 7, [linkWireKey(t.links[1]!)]: 9 });
    expect(resolved.nodes[1]!.interfaces["eth1"]!.uid).toBe(7n);
    expect(resolved.nodes[1]!.interfaces["eth2"]!.uid).toBe(9n);
  });
});

describe("wiresRequest", () => {
  it("compiles every node's namespace and every link's wire, with states and impairments set since", () => {
    const t = ring();
    t.nodes[0]!.interfaces["eth1"] = create(topo.InterfaceSchema, { ipAddress: "198.18.0.1/31", mtu: 9000 });
    const uids = assignLinkUids(t.links);
    const resolved = resolveTopology(t);
    applyLinkUids(resolved, uids);
    const state = {
      linkUids: uids,
      linkState: { "r2:eth1": "DOWN" as const },
      impairments: { "r2:eth2": impairmentsToJson(create(topo.ImpairmentsSchema, { lossPercent: 20 })) },
    };
    const req = wiresRequest(resolved, state, 4);
    expect(req.generation).toBe(4n);
    expect(req.namespaces.map((n) => [n.node, n.create])).toEqual([
      ["r1", true],
      ["r2", true],
      ["r3", true],
    ]);
    const [w0, w1] = req.wires;
    expect(w0).toMatchObject({ uid: 0n, a: { node: "r1", interface: "eth1", mtu: 9000, addresses: ["198.18.0.1/31"] }, aState: topo.LinkState.UP, zState: topo.LinkState.DOWN });
    expect(w0!.peer).toMatchObject({ case: "z", value: { node: "r2", interface: "eth1" } });
    expect(w1!.aEgress?.lossPercent).toBe(20);
    // The same input compiles to the same request (apply re-sends it; the agent then changes nothing).
    expect(wiresRequest(resolved, state, 4)).toEqual(req);
  });
});
