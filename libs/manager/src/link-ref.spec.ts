import { create } from "@bufbuild/protobuf";
import { topo } from "@kne/proto";
import { describe, expect, it } from "vitest";
import { endpointSide, findLink, linkId } from "./link-ref.ts";

const t = create(topo.TopologySchema, {
  name: "lab",
  links: [
    { aNode: "r1", aInt: "eth1", zNode: "r2", zInt: "eth1" },
    { aNode: "r2", aInt: "eth2", zNode: "r3", zInt: "eth1" },
  ],
});

describe("link references", () => {
  it("finds a link by id, reversed id or either endpoint", () => {
    for (const ref of ["r2:eth2--r3:eth1", "r3:eth1--r2:eth2", "r2:eth2", "r3:eth1"]) expect(linkId(findLink(t, ref))).toBe("r2:eth2--r3:eth1");
  });

  it("answers NOT_FOUND listing the links", () => {
    expect(() => findLink(t, "r9:eth1")).toThrow(expect.objectContaining({ code: "NOT_FOUND", message: expect.stringContaining("r1:eth1--r2:eth1, r2:eth2--r3:eth1") }));
  });

  it("tells which side an endpoint is", () => {
    const l = t.links[0]!;
    expect([endpointSide(l, "r1:eth1"), endpointSide(l, "r2:eth1"), endpointSide(l, undefined)]).toEqual(["a", "z", undefined]);
    expect(() => endpointSide(l, "r3:eth1")).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
  });
});
