import { describe, expect, it } from "vitest";
import { topo, vendorDataRegistry } from "@kne/proto";
import { textFormatPositions } from "./text-positions";

const text = `# a comment
name: "t"
nodes: {
    name: "r1"
    services:{
        value: { name: "ssh" inside: 22 }
        key: 22
    }
    interfaces { key: "eth1" value < mtu: 9000 > }
    config {
        vendor_data {
            [type.googleapis.com/alpine.AlpineConfig] {
                containers: { name: "dp" args: ["-a", "-b"] }
            }
        }
    }
}
nodes { name: 'r2', vendor: HOST, }
links: [{ a_node: "r1" a_int: "eth1" }, { a_node: "r2" }]
links { a_node: "r" "3" z_int: "e\\x31" }`;

describe("textFormatPositions", () => {
  const positions = textFormatPositions(topo.TopologySchema, text, vendorDataRegistry);

  it("records scalar fields at their value and messages at their name", () => {
    expect(positions.locate("name")).toEqual({ line: 2, col: 7 });
    expect(positions.locate("nodes[0]")).toEqual({ line: 3, col: 1 });
    expect(positions.locate("nodes[0].name")).toEqual({ line: 4, col: 11 });
    expect(positions.locate("nodes[1].vendor")).toEqual({ line: 18, col: 29 });
  });

  it("records map entries by key, even when the value comes first", () => {
    expect(positions.locate("nodes[0].services[22]")).toEqual({ line: 5, col: 5 });
    expect(positions.locate("nodes[0].services[22].inside")).toEqual({ line: 6, col: 38 });
    expect(positions.locate("nodes[0].interfaces[eth1].mtu")).toEqual({ line: 9, col: 43 });
  });

  it("follows Any payloads and list syntax", () => {
    expect(positions.locate("nodes[0].config.vendor_data.containers[0].name")).toEqual({ line: 13, col: 37 });
    expect(positions.locate("nodes[0].config.vendor_data.containers[0].args[1]")).toEqual({ line: 13, col: 55 });
    expect(positions.locate("links[1].a_node")).toEqual({ line: 19, col: 51 });
    expect(positions.locate("links[2].z_int")).toEqual({ line: 20, col: 32 });
  });

  it("falls back to the nearest recorded parent", () => {
    expect(positions.locate("nodes[1].interfaces[eth9]")).toEqual({ line: 18, col: 1 });
  });

  it("keeps what it found when the text stops making sense", () => {
    const partial = textFormatPositions(topo.TopologySchema, `name: "x"\nnodes { name: "a" } @@@ nodes { name: "b" }`);
    expect(partial.locate("nodes[0].name")).toEqual({ line: 2, col: 15 });
    // The second node was never reached: its path falls back to the first "nodes".
    expect(partial.locate("nodes[1].name")).toEqual({ line: 2, col: 1 });
  });
});
