import { describe, expect, it } from "vitest";
import { create, equals } from "@bufbuild/protobuf";
import { topo } from "@kne/proto";
import { TopologyValidationError } from "./errors";
import { resolveTopology } from "./resolve";

function topology(init: Parameters<typeof create<typeof topo.TopologySchema>>[1]) {
  return create(topo.TopologySchema, init);
}

describe("resolveTopology", () => {
  const input = topology({
    name: "lab",
    nodes: [{ name: "r1", interfaces: { eth1: { name: "Ethernet1", mtu: 9000 }, lo: {} } }, { name: "r2" }, { name: "r3" }],
    links: [
      { aNode: "r1", aInt: "eth1", zNode: "r2", zInt: "eth1" },
      { aNode: "r2", aInt: "eth2", zNode: "r3", zInt: "eth1" },
      { aNode: "r2", aInt: "eth2", zNode: "r3", zInt: "eth1" },
      { aNode: "r3", aInt: "eth2", zNode: "r3", zInt: "eth3" },
    ],
  });

  it("adds an interface per link endpoint with its peer and the link uid, from 0 in link order", () => {
    const resolved = resolveTopology(input);
    const [r1, r2, r3] = resolved.nodes;
    expect(r1!.interfaces["eth1"]).toMatchObject({ name: "Ethernet1", mtu: 9000, intName: "eth1", peerName: "r2", peerIntName: "eth1", uid: 0n });
    expect(r1!.interfaces["lo"]).toMatchObject({ intName: "lo", peerName: "", uid: 0n });
    expect(r2!.interfaces["eth1"]).toMatchObject({ intName: "eth1", peerName: "r1", peerIntName: "eth1", uid: 0n });
    expect(r2!.interfaces["eth2"]).toMatchObject({ peerName: "r3", peerIntName: "eth1", uid: 1n });
    // The exact duplicate (links[2]) is skipped and takes no uid.
    expect(r3!.interfaces["eth2"]).toMatchObject({ peerName: "r3", peerIntName: "eth3", uid: 2n });
    expect(r3!.interfaces["eth3"]).toMatchObject({ peerName: "r3", peerIntName: "eth2", uid: 2n });
  });

  it("does not change its input, and is idempotent", () => {
    const before = topology(input);
    const once = resolveTopology(input);
    expect(equals(topo.TopologySchema, input, before)).toBe(true);
    expect(equals(topo.TopologySchema, resolveTopology(once), once)).toBe(true);
  });

  it("starts uids where asked", () => {
    expect(resolveTopology(input, { firstLinkUid: 1 }).nodes[0]!.interfaces["eth1"]!.uid).toBe(1n);
    expect(() => resolveTopology(input, { firstLinkUid: -1 })).toThrow(TypeError);
  });

  it("resolves LAN segments and host attachments", () => {
    const resolved = resolveTopology(
      topology({
        name: "lab",
        nodes: [{ name: "r1" }, { name: "r2" }],
        segments: [{ name: "lan", endpoints: [{ node: "r2", interface: "eth1" }] }],
        links: [
          { aNode: "r1", aInt: "eth1", zNode: "lan", kind: topo.LinkKind.LAN_SEGMENT },
          { aNode: "r1", aInt: "eth2", zNode: "host", zInt: "enp0s3", kind: topo.LinkKind.HOST_ATTACHMENT },
        ],
      }),
    );
    expect(resolved.nodes[0]!.interfaces["eth1"]).toMatchObject({ peerName: "lan", peerIntName: "", uid: 0n });
    expect(resolved.nodes[0]!.interfaces["eth2"]).toMatchObject({ peerName: "host", peerIntName: "enp0s3", uid: 1n });
    expect(resolved.nodes[1]!.interfaces["eth1"]).toMatchObject({ peerName: "lan", uid: 2n });
  });

  it("throws for what validation reports as errors", () => {
    const unknownNode = topology({ name: "lab", nodes: [{ name: "r1" }], links: [{ aNode: "r1", aInt: "eth1", zNode: "r9", zInt: "eth1" }] });
    expect(() => resolveTopology(unknownNode)).toThrow(TopologyValidationError);
    const twice = topology({
      name: "lab",
      nodes: [{ name: "r1" }, { name: "r2" }],
      links: [
        { aNode: "r1", aInt: "eth1", zNode: "r2", zInt: "eth1" },
        { aNode: "r1", aInt: "eth1", zNode: "r2", zInt: "eth2" },
      ],
    });
    expect(() => resolveTopology(twice)).toThrow(/r1:eth1 is wired more than once/);
  });
});
