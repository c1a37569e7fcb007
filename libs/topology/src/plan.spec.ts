import { describe, expect, it } from "vitest";
import { create } from "@bufbuild/protobuf";
import { topo } from "@kne/proto";
import { TopologyValidationError } from "./errors";
import { planTopology } from "./plan";
import { resolveTopology } from "./resolve";

const base = create(topo.TopologySchema, {
  name: "lab",
  nodes: [
    { name: "r1", vendor: topo.Vendor.FRR },
    { name: "r2", vendor: topo.Vendor.FRR },
    { name: "r3", vendor: topo.Vendor.HOST },
  ],
  links: [
    { aNode: "r1", aInt: "eth1", zNode: "r2", zInt: "eth1" },
    { aNode: "r2", aInt: "eth2", zNode: "r3", zInt: "eth1" },
  ],
  segments: [{ name: "lan", endpoints: [{ node: "r1", interface: "eth9" }] }],
});

describe("planTopology", () => {
  it("adds everything when nothing runs", () => {
    const plan = planTopology(undefined, base);
    expect(plan.create).toBe(true);
    expect(plan.nodes.add.map((n) => n.name)).toEqual(["r1", "r2", "r3"]);
    expect(plan.links.add).toHaveLength(2);
    expect(plan.segments.add).toHaveLength(1);
    expect(plan.empty).toBe(false);
  });

  it("finds nothing to do between a running (resolved) topology and its file", () => {
    const plan = planTopology(resolveTopology(base), base);
    expect(plan.empty).toBe(true);
    expect(plan.nodes.unchanged).toHaveLength(3);
    expect(plan.links.unchanged).toHaveLength(2);
  });

  it("adds, removes and modifies nodes and links", () => {
    const desired = create(topo.TopologySchema, {
      name: "lab",
      nodes: [
        { name: "r1", vendor: topo.Vendor.FRR },
        { name: "r2", vendor: topo.Vendor.FRR, labels: { role: "core" } },
        { name: "r4", vendor: topo.Vendor.HOST },
      ],
      links: [
        // Written the other way round: the same wire, now impaired.
        { aNode: "r2", aInt: "eth1", zNode: "r1", zInt: "eth1", impairments: { lossPercent: 5 } },
        { aNode: "r2", aInt: "eth2", zNode: "r4", zInt: "eth1" },
      ],
      segments: [{ name: "lan", endpoints: [{ node: "r1", interface: "eth9" }] }],
    });
    const plan = planTopology(base, desired);
    expect(plan.nodes.add.map((n) => n.name)).toEqual(["r4"]);
    expect(plan.nodes.remove.map((n) => n.name)).toEqual(["r3"]);
    expect(plan.nodes.modify.map((c) => c.desired.name)).toEqual(["r2"]);
    expect(plan.nodes.unchanged.map((n) => n.name)).toEqual(["r1"]);
    expect(plan.links.modify).toHaveLength(1);
    expect(plan.links.modify[0]!.desired.impairments?.lossPercent).toBe(5);
    expect(plan.links.add.map((l) => l.zNode)).toEqual(["r4"]);
    expect(plan.links.remove.map((l) => l.zNode)).toEqual(["r3"]);
    expect(plan.segments.unchanged).toHaveLength(1);
    expect(plan.empty).toBe(false);
  });

  it("refuses to rename a topology", () => {
    expect(() => planTopology(base, create(topo.TopologySchema, { name: "other" }))).toThrow(TopologyValidationError);
  });
});
