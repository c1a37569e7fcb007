import { describe, expect, it } from "vitest";
import { validateDesiredState } from "./desired-state.ts";
import { ringState } from "./ring.ts";

describe("ringState", () => {
  it("wires node i's eth1 to node i+1's eth2, closing the ring", () => {
    const s = ringState("bench", 3, { mtu: 9000 });
    expect(validateDesiredState(s)).toBe(s);
    expect(s.namespaces!.map((n) => n.name)).toEqual(["kne.bench.n0", "kne.bench.n1", "kne.bench.n2"]);
    expect(s.wires.map((w) => (w.kind === "veth" ? `${w.a.netns}/${w.a.ifname}-${w.b.netns}/${w.b.ifname}` : ""))).toEqual([
      "kne.bench.n0/eth1-kne.bench.n1/eth2",
      "kne.bench.n1/eth1-kne.bench.n2/eth2",
      "kne.bench.n2/eth1-kne.bench.n0/eth2",
    ]);
  });

  it("has one wire for two nodes and none for one", () => {
    expect(ringState("bench", 2).wires).toHaveLength(1);
    expect(ringState("bench", 1).wires).toHaveLength(0);
  });
});
