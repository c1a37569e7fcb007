import { kubeObjectsForNode } from "@kne/vendors";
import { create } from "@bufbuild/protobuf";
import { topo } from "@kne/proto";
import { describe, expect, it } from "vitest";
import { applyImageOverrides, parseImageOverrides } from "./image-overrides.ts";

describe("image overrides", () => {
  it("parses FROM=TO pairs, trimming spaces", () => {
    expect([...parseImageOverrides("alpine:latest=localhost/kne/host:0123, networkop/init-wait:latest=localhost/kne/init-wait:4567")]).toEqual([
      ["alpine:latest", "localhost/kne/host:0123"],
      ["networkop/init-wait:latest", "localhost/kne/init-wait:4567"],
    ]);
  });

  it("names the entry and the problem", () => {
    expect(() => parseImageOverrides("alpine:latest")).toThrow(/entry 1 "alpine:latest": expected FROM=TO/);
    expect(() => parseImageOverrides("a=b,=c")).toThrow(/entry 2 "=c": FROM "" is not an image reference/);
    expect(() => parseImageOverrides("a=b c")).toThrow(/entry 1 "a=b c": TO "b c" is not an image reference/);
    expect(() => parseImageOverrides("a=b,a=c")).toThrow(/entry 2 "a=c": a is already mapped to b/);
    expect([...parseImageOverrides("a=b,a=b")]).toEqual([["a", "b"]]);
  });

  it("replaces a HOST node's default image and the init image in its pod, and nothing else", () => {
    const node = create(topo.NodeSchema, { name: "h1", vendor: topo.Vendor.HOST, interfaces: { eth1: create(topo.InterfaceSchema, {}) } });
    const link = create(topo.LinkSchema, { aNode: "h1", aInt: "eth1", zNode: "h2", zInt: "eth1" });
    const { objects } = kubeObjectsForNode({ topology: "t", namespace: "t", node, links: [link], operatorMode: "pod" });
    const overrides = parseImageOverrides("alpine:latest=localhost/kne/host:1,networkop/init-wait:latest=localhost/kne/init-wait:2,other:1=x:2");
    const out = applyImageOverrides(objects, overrides);
    const pod = out.find((o) => o.kind === "Pod") as unknown as { spec: { containers: Array<{ image: string }>; initContainers: Array<{ image: string }> } };
    expect(pod.spec.containers.map((c) => c.image)).toEqual(["localhost/kne/host:1"]);
    expect(pod.spec.initContainers.map((c) => c.image)).toEqual(["localhost/kne/init-wait:2"]);
    // The input is left as it was; objects other than pods are the same objects.
    const before = objects.find((o) => o.kind === "Pod") as unknown as { spec: { containers: Array<{ image: string }> } };
    expect(before.spec.containers[0]!.image).toBe("alpine:latest");
    expect(out.filter((o) => o.kind !== "Pod")).toEqual(objects.filter((o) => o.kind !== "Pod"));
  });
});
