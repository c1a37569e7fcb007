import { describe, expect, it } from "vitest";
import { anyUnpack } from "@bufbuild/protobuf/wkt";
import { alpine, topo, vendorDataRegistry } from "@kne/proto";
import { TopologyParseError } from "./errors";
import { parseJsonMapped } from "./json-mapping";

function parse(text: string) {
  return parseJsonMapped(topo.TopologySchema, text, { file: "t.yaml", registry: vendorDataRegistry });
}

function parseError(text: string): TopologyParseError {
  try {
    parse(text);
  } catch (error) {
    if (error instanceof TopologyParseError) return error;
    throw error;
  }
  throw new Error("expected a TopologyParseError");
}

describe("parseJsonMapped (YAML)", () => {
  it("reads proto field names, JSON names, enum names and integer map keys", () => {
    const { message } = parse(`
name: t
nodes:
  - name: r1
    vendor: ARISTA
    services:
      22: { name: ssh, inside: 22 }
      "443": { name: ssl, inside: 443 }
    interfaces:
      eth1: { mtu: 9000 }
links:
  - a_node: r1
    aInt: eth1
    z_node: r2
    zInt: eth1
    impairments: { loss_percent: 1.5, delayUs: 100 }
`);
    expect(message.name).toBe("t");
    expect(message.nodes[0]!.vendor).toBe(topo.Vendor.ARISTA);
    expect(Object.keys(message.nodes[0]!.services).sort()).toEqual(["22", "443"]);
    expect(message.nodes[0]!.services[22]!.inside).toBe(22);
    expect(message.nodes[0]!.interfaces["eth1"]!.mtu).toBe(9000);
    expect(message.links[0]).toMatchObject({ aNode: "r1", aInt: "eth1", zNode: "r2", zInt: "eth1" });
    expect(message.links[0]!.impairments).toMatchObject({ lossPercent: 1.5, delayUs: 100 });
  });

  it("expands Any from @type", () => {
    const { message } = parse(`
name: t
nodes:
  - name: a
    vendor: ALPINE
    config:
      vendor_data:
        "@type": type.googleapis.com/alpine.AlpineConfig
        containers: [{ name: dataplane, image: lucius }]
`);
    const payload = anyUnpack(message.nodes[0]!.config!.vendorData!, alpine.AlpineConfigSchema);
    expect(payload?.containers[0]?.image).toBe("lucius");
  });

  it("keeps the sign of -0 and reads YAML's .inf and .nan", () => {
    const impairments = (text: string) => parse(`links: [{ impairments: ${text} }]`).message.links[0]!.impairments!;
    expect(Object.is(impairments("{ loss_percent: -0 }").lossPercent, -0)).toBe(true);
    expect(impairments("{ loss_percent: .inf }").lossPercent).toBe(Infinity);
    expect(impairments("{ loss_percent: -.inf, corruption_percent: .nan }")).toMatchObject({ lossPercent: -Infinity, corruptionPercent: NaN });
  });

  it("treats an empty document as an empty topology", () => {
    expect(parse("").message.nodes).toEqual([]);
    expect(parse("# nothing\n").message.name).toBe("");
  });

  it("reads int64 values beyond 2^53 exactly", () => {
    const { message } = parse(`nodes: [{ name: a, host_constraints: [{ kernel_constraint: { name: x, bounded_integer: { max_value: 9223372036854775807 } } }] }]`);
    const constraint = message.nodes[0]!.hostConstraints[0]!.constraint;
    expect(constraint.case === "kernelConstraint" && constraint.value.ConstraintType.value?.maxValue).toBe(9223372036854775807n);
  });

  it("reports an unknown field at its key with the field path", () => {
    const error = parseError(`name: t
nodes:
  - name: r1
  - name: r2
    services:
      22:
        name: ssh
        insid: 22
`);
    expect(error.problem).toMatchObject({ file: "t.yaml", line: 8, col: 9, path: "nodes[1].services[22].insid" });
    expect(error.problem.message).toContain('unknown field "insid" in topo.Service');
  });

  it("reports a wrong-typed value at the value", () => {
    const error = parseError(`name: t\nnodes:\n  - name: r1\n    services:\n      22: { name: ssh, inside: twenty-two }\n`);
    expect(error.problem).toMatchObject({ line: 5, col: 32, path: "nodes[0].services[22].inside" });
    expect(error.problem.message).toMatch(/expected an unsigned 32-bit integer, got string "twenty-two"/);
  });

  it("asks for quotes when a number is given for a string", () => {
    const error = parseError(`name: t\nnodes: [{ name: r1, model: 5132 }]\n`);
    expect(error.problem.path).toBe("nodes[0].model");
    expect(error.problem.message).toContain("quote it");
  });

  it("rejects out-of-range integers, unknown enum names and bad map keys", () => {
    expect(parseError(`nodes: [{ name: r1, services: { 22: { inside: 70000000000 } } }]`).problem.message).toMatch(/out of range/);
    expect(parseError(`nodes: [{ name: r1, vendor: ARISTOCRAT }]`).problem.message).toMatch(/unknown topo.Vendor value "ARISTOCRAT" \(one of UNKNOWN, HOST/);
    expect(parseError(`nodes: [{ name: r1, services: { ssh: { inside: 22 } } }]`).problem.path).toBe("nodes[0].services");
    expect(parseError(`nodes: [{ name: r1, services: { -1: { inside: 22 } } }]`).problem.message).toMatch(/out of range/);
  });

  it("rejects a field set twice under both spellings, and two members of a oneof", () => {
    expect(parseError(`links: [{ a_node: r1, aNode: r2 }]`).problem.message).toMatch(/set twice/);
    expect(parseError(`nodes: [{ name: r1, config: { file: a, data: YQ== } }]`).problem.message).toMatch(/only one of the "config_data" fields/);
  });

  it("rejects an Any with an unknown type, naming @type", () => {
    const error = parseError(`nodes: [{ name: r1, config: { vendor_data: { "@type": type.googleapis.com/nope.Nope } } }]`);
    expect(error.problem.path).toBe("nodes[0].config.vendor_data.@type");
    expect(error.problem.message).toMatch(/unknown type "nope.Nope"/);
  });

  it("reports YAML syntax errors with their position", () => {
    const error = parseError(`name: t\nnodes:\n  - name: [r1\n`);
    expect(error.problem.line).toBeGreaterThanOrEqual(3);
    expect(error.problem.message).not.toMatch(/at line/);
    expect(parseError(`a: 1\na: 2\n`).problem).toMatchObject({ line: 2, col: 1 });
  });

  it("accepts base64 as protobuf-es decodes it, and nothing else", () => {
    expect(parse(`nodes: [{ name: r1, config: { data: "aGVs bG8=" } }]`).message.nodes[0]!.config!.configData).toEqual({ case: "data", value: new TextEncoder().encode("hello") });
    expect(parse(`nodes: [{ name: r1, config: { data: aGVsbG8_-w } }]`).message.nodes[0]!.config!.configData.case).toBe("data");
    for (const bad of ["a", "aGVsb", "a=b", "é", "aa\\vaa"]) {
      expect(parseError(`nodes: [{ name: r1, config: { data: "${bad}" } }]`).problem).toMatchObject({ path: "nodes[0].config.data", message: expect.stringMatching(/base64/) });
    }
  });

  it("rejects strings that are not valid Unicode (lone surrogates)", () => {
    expect(parseError(`name: "a\\ud800"`).problem).toMatchObject({ path: "name", message: expect.stringMatching(/unpaired UTF-16 surrogate/) });
    expect(parseError(`nodes: [{ name: r1, labels: { "\\udc00": x } }]`).problem.path).toBe("nodes[0].labels");
  });

  it("refuses self-referencing aliases instead of recursing forever", () => {
    expect(() => parse(`nodes: &n [{ name: a, labels: *n }]`)).toThrow(TopologyParseError);
  });

  it("locates fields for validation problems, falling back to the nearest written parent", () => {
    const { locate } = parse(`name: t\nnodes:\n  - name: r1\n    interfaces:\n      eth1: {}\n`);
    expect(locate("name")).toEqual({ line: 1, col: 7 });
    expect(locate("nodes[0].name")).toEqual({ line: 3, col: 11 });
    expect(locate("nodes[0].interfaces[eth1]")).toEqual({ line: 5, col: 7 });
    expect(locate("nodes[0].interfaces[eth1].mtu")).toEqual({ line: 5, col: 7 });
    expect(locate("links[4]")).toBeUndefined();
  });
});

describe("parseJsonMapped (JSON)", () => {
  function jsonError(text: string): TopologyParseError {
    try {
      parseJsonMapped(topo.TopologySchema, text, { syntax: "json", file: "t.json", registry: vendorDataRegistry });
    } catch (error) {
      if (error instanceof TopologyParseError) return error;
      throw error;
    }
    throw new Error("expected a TopologyParseError");
  }

  it("reads JSON with positions", () => {
    const text = `{\n  "name": "t",\n  "nodes": [\n    {"name": "r1", "services": {"22": {"inside": 22}}}\n  ],\n  "links": [{"field_dne": "r1"}]\n}\n`;
    expect(jsonError(text).problem).toMatchObject({ file: "t.json", line: 6, col: 14, path: "links[0].field_dne" });
    const { message, locate } = parseJsonMapped(topo.TopologySchema, text.replace('"field_dne"', '"a_node"'), { syntax: "json", registry: vendorDataRegistry });
    expect(message.nodes[0]!.services[22]!.inside).toBe(22);
    expect(locate("nodes[0].services[22]")).toEqual({ line: 4, col: 33 });
  });

  it("reads escapes, exact big integers and Any", () => {
    const { message } = parseJsonMapped(
      topo.TopologySchema,
      `{"name": "a\\u00e9\\n\\"", "nodes": [{"name": "r", "interfaces": {"e": {"uid": 9223372036854775807}},
        "config": {"vendorData": {"@type": "type.googleapis.com/alpine.AlpineConfig", "containers": [{"name": "x"}]}}}]}`,
      { syntax: "json", registry: vendorDataRegistry },
    );
    expect(message.name).toBe('aé\n"');
    expect(message.nodes[0]!.interfaces["e"]!.uid).toBe(9223372036854775807n);
    expect(message.nodes[0]!.config!.vendorData!.typeUrl).toBe("type.googleapis.com/alpine.AlpineConfig");
  });

  it("is strict JSON, with a position for each syntax error", () => {
    expect(jsonError(`{"name": "t",}`).problem).toMatchObject({ line: 1, col: 14, message: `expected a "quoted" key, got '}'` });
    expect(jsonError(`{"name": 't'}`).problem).toMatchObject({ line: 1, col: 10, message: "expected a JSON value, got '''" });
    expect(jsonError(`{\n  # comment\n}`).problem).toMatchObject({ line: 2, col: 3 });
    expect(jsonError(`{"name": "t"} x`).problem.message).toBe("unexpected 'x' after the JSON value");
    expect(jsonError(`{"name": "t", "name": "u"}`).problem).toMatchObject({ col: 15, message: 'duplicate key "name"' });
    expect(jsonError(`{"name": "t`).problem.message).toBe("unterminated string");
    expect(jsonError(`{"nodes": [01]}`).problem.message).toBe("invalid number");
    expect(jsonError(``).problem.message).toMatch(/empty/);
    expect(jsonError(`[`.repeat(100)).problem.message).toMatch(/nesting deeper/);
    expect(jsonError(`{"name": "\u0001"}`).problem.message).toMatch(/control characters/);
  });
});
