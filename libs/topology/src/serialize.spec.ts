import { describe, expect, it } from "vitest";
import { create, equals } from "@bufbuild/protobuf";
import { topo, vendorDataRegistry } from "@kne/proto";
import fc from "fast-check";
import { parseTopology } from "./load";
import { serializeTopology } from "./serialize";
import { arbitraryTopology } from "./testing/arbitraries";

const sameTopology = (a: topo.Topology, b: topo.Topology) =>
  equals(topo.TopologySchema, a, b, { registry: vendorDataRegistry, unpackAny: true });

describe("serializeTopology", () => {
  it("writes YAML with proto field names and bare integer map keys", () => {
    const topology = create(topo.TopologySchema, {
      name: "lab",
      nodes: [{ name: "r1", vendor: topo.Vendor.FRR, services: { 22: { name: "ssh", inside: 22 } }, interfaces: { "1": { mtu: 1500 } } }],
      links: [{ aNode: "r1", aInt: "eth1", zNode: "r2", zInt: "eth1" }],
    });
    const yaml = serializeTopology(topology, "yaml");
    expect(yaml).toContain("a_node: r1");
    expect(yaml).toMatch(/\n {6}22:\n/);
    expect(yaml).toContain('"1":');
    expect(yaml).toContain("vendor: FRR");
    const json = JSON.parse(serializeTopology(topology, "json")) as { links: Record<string, string>[] };
    expect(json.links[0]).toEqual({ a_node: "r1", a_int: "eth1", z_node: "r2", z_int: "eth1" });
  });

  it("round-trips textproto → YAML → JSON → textproto with equal messages", () => {
    fc.assert(
      fc.property(arbitraryTopology, (original) => {
        const fromText = parseTopology(serializeTopology(original, "textproto"), { format: "textproto" }).topology;
        const fromYaml = parseTopology(serializeTopology(fromText, "yaml"), { format: "yaml" }).topology;
        const fromJson = parseTopology(serializeTopology(fromYaml, "json"), { format: "json" }).topology;
        const back = parseTopology(serializeTopology(fromJson, "textproto"), { format: "textproto" }).topology;
        expect(sameTopology(fromText, original)).toBe(true);
        expect(sameTopology(fromYaml, original)).toBe(true);
        expect(sameTopology(fromJson, original)).toBe(true);
        expect(sameTopology(back, original)).toBe(true);
      }),
      { numRuns: 100 },
    );
  }, 60_000);
});
