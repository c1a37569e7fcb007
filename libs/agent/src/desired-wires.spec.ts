import { type MessageInitShape, create } from "@bufbuild/protobuf";
import { InvalidArgumentError, nodeNetnsName, vniForUid } from "@kne/dataplane";
import { agentv1, topo } from "@kne/proto";
import { describe, expect, it } from "vitest";
import { type CompileContext, compileTopology, endpointKey, impairmentsFromProto } from "./desired-wires.ts";

const ctx: CompileContext = { hostNetns: "", scope: "topology", underlayAddress: "198.18.0.1" };

function request(init: MessageInitShape<typeof agentv1.ApplyWiresRequestSchema>): agentv1.ApplyWiresRequest {
  return create(agentv1.ApplyWiresRequestSchema, { topology: "t1", generation: 1n, ...init });
}

function fieldOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    if (err instanceof InvalidArgumentError) return err.field;
    throw err;
  }
  return undefined;
}

describe("compileTopology", () => {
  it("turns a namespace's bridge port into a veth from the host bridge to the node, checking its fields", () => {
    const port = { interface: "eth0", addresses: ["198.19.0.2/16"], hostInterface: "kmg0123456789ab", bridge: "kne-mgmt" };
    const compiled = compileTopology(request({ namespaces: [{ node: "r1", create: true, bridgePort: port }] }), ctx);
    expect(compiled.desired.wires).toEqual([
      {
        kind: "veth",
        uid: "port.kmg0123456789ab",
        a: { netns: "", ifname: "kmg0123456789ab", master: "kne-mgmt", adminUp: true },
        b: { netns: nodeNetnsName("t1", "r1"), ifname: "eth0", adminUp: true, addresses: ["198.19.0.2/16"] },
      },
    ]);
    expect(compiled.wireCount).toBe(1);
    const bad = (p: Partial<typeof port>) => fieldOf(() => compileTopology(request({ namespaces: [{ node: "r1", bridgePort: { ...port, ...p } }] }), ctx));
    expect(bad({ addresses: ["198.19.0.2"] })).toBe("namespaces[0].bridge_port.addresses[0]");
    expect(bad({ bridge: "" })).toBe("namespaces[0].bridge_port.bridge");
    expect(bad({ hostInterface: "x".repeat(16) })).toBe("namespaces[0].bridge_port.host_interface");
  });

  it("turns a bridge port with a macvlan parent into a macvlan on that host device", () => {
    const port = { interface: "eth0", addresses: ["198.19.0.2/16"], hostInterface: "kmg0123456789ab", macvlanParent: "kne-mgmt0" };
    const compiled = compileTopology(request({ namespaces: [{ node: "r1", create: true, bridgePort: port }] }), ctx);
    expect(compiled.desired.wires).toEqual([
      {
        kind: "macvlan",
        uid: "port.kmg0123456789ab",
        endpoint: { netns: nodeNetnsName("t1", "r1"), ifname: "eth0", adminUp: true, addresses: ["198.19.0.2/16"] },
        parent: { netns: "", ifname: "kne-mgmt0" },
        mode: "bridge",
      },
    ]);
    const bad = (p: Record<string, string>) => fieldOf(() => compileTopology(request({ namespaces: [{ node: "r1", bridgePort: { ...port, ...p } }] }), ctx));
    expect(bad({ bridge: "kne-mgmt" })).toBe("namespaces[0].bridge_port.bridge");
    expect(bad({ macvlanParent: "a b" })).toBe("namespaces[0].bridge_port.macvlan_parent");
  });

  it("turns each peer kind into its data plane wire, with states, impairments and addresses", () => {
    const compiled = compileTopology(
      request({
        namespaces: [{ node: "r1", create: true }, { node: "pod", netns: "cni-1234" }],
        wires: [
          {
            uid: 1n,
            a: { node: "r1", interface: "eth1", mtu: 9000, addresses: ["203.0.113.1/30"] },
            peer: { case: "z", value: { node: "r2", interface: "eth1" } },
            zState: topo.LinkState.DOWN,
            aEgress: { lossPercent: 5, rateKbps: 10_000n, delayUs: 0 },
          },
          { uid: 2n, a: { node: "r1", interface: "eth2" }, peer: { case: "remote", value: { node: "r9", interface: "eth1", underlayAddress: "198.18.0.9", agentAddress: "198.18.0.9:50052" } } },
          { uid: 3n, a: { node: "r1", interface: "eth3" }, peer: { case: "segment", value: "lan1" } },
          { uid: 4n, a: { node: "pod", interface: "eth3" }, peer: { case: "segment", value: "lan1" } },
          { uid: 5n, a: { node: "r2", interface: "eth0" }, peer: { case: "hostInterface", value: "up0" } },
        ],
      }),
      ctx,
    );
    const r1 = nodeNetnsName("t1", "r1");
    const r2 = nodeNetnsName("t1", "r2");
    expect(compiled.desired.namespaces).toEqual([{ name: r1 }]);
    expect(compiled.desired.wires).toEqual([
      {
        kind: "veth",
        uid: "1",
        a: { netns: r1, ifname: "eth1", mtu: 9000, adminUp: true, impairments: { lossPercent: 5, rateBitsPerSecond: 10_000_000 } },
        b: { netns: r2, ifname: "eth1", adminUp: false },
      },
      { kind: "vxlan", uid: "2", endpoint: { netns: r1, ifname: "eth2", adminUp: true }, vni: vniForUid("t1", "2"), underlay: { netns: "", local: "198.18.0.1", remote: "198.18.0.9" } },
      { kind: "lan", uid: "lan1", members: [{ netns: r1, ifname: "eth3", adminUp: true }, { netns: "cni-1234", ifname: "eth3", adminUp: true }] },
      { kind: "macvlan", uid: "5", endpoint: { netns: r2, ifname: "eth0", adminUp: true }, parent: { netns: "", ifname: "up0" } },
    ]);
    expect(compiled.addresses).toEqual([{ netns: r1, ifname: "eth1", cidr: "203.0.113.1/30" }]);
    expect(compiled.peers).toEqual([
      { uid: "2", vni: vniForUid("t1", "2"), local: { node: "r1", interface: "eth2", mtu: 0 }, remote: { node: "r9", interface: "eth1", agentAddress: "198.18.0.9:50052", underlayAddress: "198.18.0.9" } },
    ]);
    expect(compiled.endpoints.get(endpointKey("pod", "eth3"))).toEqual({ node: "pod", interface: "eth3", netns: "cni-1234", ifname: "eth3", wireUid: "lan1" });
    expect(compiled.wireCount).toBe(5);
    expect([...compiled.namespaces].sort()).toEqual(["cni-1234", r1, r2].sort());
  });

  it("applies overrides over the request, and keeps cross-host wires with an unknown peer underlay pending", () => {
    const req = request({
      wires: [
        { uid: 1n, a: { node: "r1", interface: "eth1", addresses: ["203.0.113.1/30"] }, peer: { case: "remote", value: { node: "r2", interface: "eth1", agentAddress: "198.18.0.2:50052" } } },
        { uid: 2n, a: { node: "r1", interface: "eth2" }, peer: { case: "z", value: { node: "r3", interface: "eth1" } }, aEgress: { lossPercent: 50 } },
      ],
    });
    const overrides = new Map([[endpointKey("r1", "eth2"), { adminUp: false, impairments: {} }]]);
    const pending = compileTopology(req, { ...ctx, overrides });
    expect(pending.pending).toEqual(["wire 1 waits for the underlay address of agent 198.18.0.2:50052"]);
    expect(pending.addresses).toEqual([]);
    expect(pending.desired.wires).toEqual([{ kind: "veth", uid: "2", a: { netns: nodeNetnsName("t1", "r1"), ifname: "eth2", adminUp: false, impairments: {} }, b: expect.anything() }]);
    const learned = compileTopology(req, { ...ctx, learnedUnderlay: { "1": "198.18.0.2" } });
    expect(learned.pending).toEqual([]);
    expect(learned.desired.wires[0]).toMatchObject({ kind: "vxlan", underlay: { remote: "198.18.0.2" } });
  });

  it("adds tunnels prepared for peers unless the request declares the endpoint itself", () => {
    const tunnels = [{ uid: "7", node: "r5", interface: "eth9", remoteUnderlay: "198.18.0.3", vni: 77 }];
    const compiled = compileTopology(request({}), { ...ctx, tunnels });
    expect(compiled.desired.wires).toEqual([
      { kind: "vxlan", uid: "7", endpoint: { netns: nodeNetnsName("t1", "r5"), ifname: "eth9", adminUp: true }, vni: 77, underlay: { netns: "", local: "198.18.0.1", remote: "198.18.0.3" } },
    ]);
    expect(compiled.wireCount).toBe(1);
  });

  it("names the request field of each problem", () => {
    const wire = (w: object) => request({ wires: [{ uid: 1n, a: { node: "r1", interface: "eth1" }, peer: { case: "z", value: { node: "r2", interface: "eth1" } }, ...w }] });
    expect(fieldOf(() => compileTopology(request({ topology: "Bad" }), ctx))).toBe("topology");
    expect(fieldOf(() => compileTopology(wire({ a: { node: "r1", interface: "this-name-is-too-long" } }), ctx))).toBe("wires[0].a.interface");
    expect(fieldOf(() => compileTopology(wire({ a: { node: "r1", interface: "eth1", addresses: ["10.0.0.1"] } }), ctx))).toBe("wires[0].a.addresses[0]");
    expect(fieldOf(() => compileTopology(wire({ a: { node: "r1", interface: "eth1", mac: "01:00:00:00:00:01" } }), ctx))).toBe("wires[0].a.mac");
    expect(fieldOf(() => compileTopology(wire({ aEgress: { lossPercent: 120 } }), ctx))).toBe("wires[0].a_egress.loss_percent");
    expect(fieldOf(() => compileTopology(wire({ peer: { case: undefined } }), ctx))).toBe("wires[0].peer");
    expect(fieldOf(() => compileTopology(wire({ peer: { case: "z", value: { node: "r1", interface: "eth1" } } }), ctx))).toBe("wires[0].z");
    expect(fieldOf(() => compileTopology(wire({ peer: { case: "remote", value: { node: "r2", interface: "eth1", agentAddress: "nope" } } }), ctx))).toBe("wires[0].remote.agent_address");
    expect(fieldOf(() => compileTopology(wire({ peer: { case: "remote", value: { node: "r2", interface: "eth1", underlayAddress: "198.18.0.2" } } }), { ...ctx, underlayAddress: undefined }))).toBe("underlay_address");
    expect(fieldOf(() => compileTopology(request({ namespaces: [{ node: "p", netns: "cni-1", create: true }] }), ctx))).toBe("namespaces[0].create");
  });
});

describe("impairmentsFromProto", () => {
  it("converts units and leaves zero out", () => {
    expect(impairmentsFromProto(create(topo.ImpairmentsSchema, { lossPercent: 1.5, rateKbps: 50_000n, delayUs: 1500, jitterUs: 500, corruptionPercent: 1, duplicationPercent: 2, reorderPercent: 3 }))).toEqual({
      lossPercent: 1.5,
      rateBitsPerSecond: 50_000_000,
      delayMs: 1.5,
      jitterMs: 0.5,
      corruptPercent: 1,
      duplicatePercent: 2,
      reorderPercent: 3,
    });
    expect(impairmentsFromProto(create(topo.ImpairmentsSchema, {}))).toBeUndefined();
    expect(impairmentsFromProto(undefined)).toBeUndefined();
  });
});
