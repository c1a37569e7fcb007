import { create } from "@bufbuild/protobuf";
import { topo } from "@kne/proto";
import { describe, expect, it } from "vitest";
import { renderGraph } from "./graph";
import { cloneRing, hostRing } from "./ring";

const t = create(topo.TopologySchema, {
  name: "lab",
  nodes: [
    { name: "r1", vendor: topo.Vendor.FRR },
    { name: "h-1", vendor: topo.Vendor.HOST },
  ],
  links: [{ aNode: "r1", aInt: "eth1", zNode: "h-1", zInt: "eth1" }],
});

describe("graph", () => {
  it("draws DOT with vendor labels and interface names at each end", () => {
    expect(renderGraph(t, "dot")).toBe(
      [
        'graph "lab" {',
        "  node [shape=box, style=rounded];",
        '  "r1" [label="r1\nFRR"];',
        '  "h-1" [label="h-1\nHOST"];',
        '  "r1" -- "h-1" [taillabel="eth1", headlabel="eth1"];',
        "}",
        "",
      ].join("\n"),
    );
  });

  it("draws Mermaid with ids safe for any node name", () => {
    expect(renderGraph(t, "mermaid")).toBe(['graph LR', '  n_r1["r1 (FRR)"]', '  n_h_2d_1["h-1 (HOST)"]', '  n_r1 ---|"eth1 — eth1"| n_h_2d_1', ""].join("\n"));
  });
});

describe("ring", () => {
  it("makes a ring of hosts, eth1 to the next host's eth2", () => {
    const r = hostRing("ring-3", 3);
    expect(r.nodes.map((n) => n.name)).toEqual(["h1", "h2", "h3"]);
    expect(r.links.map((l) => `${l.aNode}:${l.aInt}-${l.zNode}:${l.zInt}`)).toEqual(["h1:eth1-h2:eth2", "h2:eth1-h3:eth2", "h3:eth1-h1:eth2"]);
    expect(hostRing("two", 2).links).toHaveLength(1);
  });

  it("clones the first node as upstream does", () => {
    const r = cloneRing(t, 3, 2);
    expect(r.nodes.map((n) => n.name)).toEqual(["r1-0", "r1-1", "r1-2"]);
    expect(r.nodes.every((n) => n.vendor === topo.Vendor.FRR)).toBe(true);
    expect(r.links.map((l) => `${l.aNode}:${l.aInt}-${l.zNode}:${l.zInt}`).slice(0, 3)).toEqual(["r1-0:eth1-r1-1:eth3", "r1-0:eth2-r1-1:eth4", "r1-1:eth1-r1-2:eth3"]);
  });
});
