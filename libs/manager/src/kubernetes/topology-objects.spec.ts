import { create } from "@bufbuild/protobuf";
import { topo } from "@kne/proto";
import { describe, expect, it } from "vitest";
import { BOOT_PART_BYTES, bootConfigMaps, linkObjectName, nodeFromSpec, topologyFromObject, topologySpecOf, type TopologyObject } from "./topology-objects.ts";

describe("Topology objects", () => {
  const t = create(topo.TopologySchema, {
    name: "lab",
    nodes: [
      { name: "r1", vendor: topo.Vendor.ARISTA, model: "ceos", config: { configFile: "startup-config", configData: { case: "data", value: new TextEncoder().encode("hostname r1\n") } } },
      { name: "r2", vendor: topo.Vendor.HOST },
    ],
    links: [{ aNode: "r1", aInt: "et-0/0/1", zNode: "r2", zInt: "eth1" }],
  });

  it("keeps boot configs out of the spec, referencing their ConfigMaps, and reads back the same topology", () => {
    const spec = topologySpecOf(t, "lab");
    expect(spec.nodes[0]).toMatchObject({ name: "r1", bootConfigMaps: ["kne-boot-r1"], config: { config_file: "startup-config" } });
    expect(JSON.stringify(spec)).not.toContain("hostname r1");
    expect(spec.nodes[1]!.bootConfigMaps).toBeUndefined();
    const back = topologyFromObject({ apiVersion: "kne.dev/v1alpha1", kind: "Topology", metadata: { name: "lab" }, spec } as TopologyObject);
    expect(back.nodes.map((n) => n.name)).toEqual(["r1", "r2"]);
    expect(back.nodes[0]!.config?.configData.case).toBeUndefined();
    expect(back.links[0]).toMatchObject({ aNode: "r1", aInt: "et-0/0/1", zNode: "r2", zInt: "eth1" });
    const withConfig = nodeFromSpec(spec.nodes[0]!, new TextEncoder().encode("hostname r1\n"));
    expect(new TextDecoder().decode(withConfig.config!.configData.value as Uint8Array)).toBe("hostname r1\n");
  });

  it("splits a large boot config into ConfigMaps that join back byte for byte", () => {
    const big = new Uint8Array(BOOT_PART_BYTES * 2 + 10).map((_, i) => i % 251);
    const maps = bootConfigMaps("lab", "lab", "r1", big);
    expect(maps.map((m) => m.metadata.name)).toEqual(["kne-boot-r1-0", "kne-boot-r1-1", "kne-boot-r1-2"]);
    const joined = Buffer.concat(maps.map((m) => Buffer.from((m["binaryData"] as Record<string, string>)["config"]!, "base64")));
    expect(joined.equals(Buffer.from(big))).toBe(true);
    const bigT = create(topo.TopologySchema, { name: "lab", nodes: [{ name: "r1", vendor: topo.Vendor.HOST, config: { configData: { case: "data", value: big } } }] });
    expect(topologySpecOf(bigT, "lab").nodes[0]!.bootConfigMaps).toEqual(maps.map((m) => m.metadata.name));
  });

  it("names links with DNS-safe names that stay distinct when the safe forms collide", () => {
    const a = linkObjectName({ aNode: "r1", aInt: "et-0/0/1", zNode: "r2", zInt: "eth1" });
    const b = linkObjectName({ aNode: "r1", aInt: "et-0-0/1", zNode: "r2", zInt: "eth1" });
    expect(a).toMatch(/^r1-et-0-0-1--r2-eth1-[0-9a-f]{8}$/);
    expect(b).not.toBe(a);
  });
});
