import { agentv1, topo } from "@kne/proto";
import { describe, expect, it } from "vitest";
import { clusterWires, type LinkObjectLike } from "./cluster-wires.ts";

const link = (name: string, a: string, z: string, extra: Partial<LinkObjectLike["spec"]> = {}): LinkObjectLike => ({
  metadata: { name, namespace: "lab" },
  spec: { topology: "lab", uid: Number(name.replace(/\D/g, "")) || 1, a, z, ...extra },
});
const pods = [
  { node: "r1", namespace: "lab", netnsName: "cni-aaa" },
  { node: "r2", namespace: "lab", netnsName: "cni-bbb" },
];

describe("clusterWires", () => {
  it("wires links between pods on this node, with state and impairments from the Link", () => {
    const { request, skipped } = clusterWires("lab", [link("l1", "r1:eth1", "r2:eth1", { aAdminState: "Down", zToA: { lossPercent: 5, rateKbps: 1000 } })], pods);
    expect(skipped).toEqual([]);
    expect(request.namespaces.map((n) => [n.node, n.netns, n.create])).toEqual([["r1", "cni-aaa", false], ["r2", "cni-bbb", false]]);
    const w = request.wires[0]!;
    expect(w.uid).toBe(1n);
    expect(w.a).toMatchObject({ node: "r1", interface: "eth1" });
    expect(w.peer.case).toBe("z");
    expect((w.peer.value as agentv1.LocalEndpoint).node).toBe("r2");
    expect([w.aState, w.zState]).toEqual([topo.LinkState.DOWN, topo.LinkState.UP]);
    expect(w.aEgress).toBeUndefined();
    expect(w.zEgress).toMatchObject({ lossPercent: 5, rateKbps: 1000n });
  });

  it("leaves out links with an end elsewhere or not handed off, and bad endpoints, saying why", () => {
    const { request, skipped } = clusterWires(
      "lab",
      [link("l1", "r1:eth1", "r3:eth1"), link("l2", "r1:eth/2", "r2:eth2"), link("l3", "r1:eth3", "r2:eth3", { kind: "LAN" }), link("l4", "r1:eth4", "r2:eth4", { adminState: "Down" })],
      pods,
    );
    expect(request.wires.map((w) => w.uid)).toEqual([4n]);
    expect(request.wires[0]!.aState).toBe(topo.LinkState.DOWN);
    expect(skipped.map((s) => s.link)).toEqual(["lab/l1", "lab/l2", "lab/l3"]);
    expect(skipped[0]!.reason).toContain("r3");
    expect(skipped[1]!.reason).toContain("links[lab/l2].spec.a");
  });

  it("no pods: no wires and no namespaces", () => {
    const { request } = clusterWires("lab", [link("l1", "r1:eth1", "r2:eth1")], []);
    expect(request.wires).toEqual([]);
    expect(request.namespaces).toEqual([]);
  });
});
