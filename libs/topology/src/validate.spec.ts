import { describe, expect, it } from "vitest";
import { create } from "@bufbuild/protobuf";
import { anyPack, type Any } from "@bufbuild/protobuf/wkt";
import { alpine, ceos, topo, vendorDataRegistry } from "@kne/proto";
import { TopologyValidationError } from "./errors";
import { parseJsonMapped } from "./json-mapping";
import { assertValidTopology, validateTopology, type ValidateOptions } from "./validate";

function validateYaml(text: string, options: Omit<ValidateOptions, "locate"> = {}) {
  const { message, locate } = parseJsonMapped(topo.TopologySchema, text, { file: "t.yaml", registry: vendorDataRegistry });
  return validateTopology(message, { file: "t.yaml", locate, ...options });
}

function messages(problems: { path: string; message: string }[]): string[] {
  return problems.map((p) => `${p.path}: ${p.message}`);
}

const twoNodes = `
name: lab
nodes:
  - name: r1
  - name: r2
`;

describe("validateTopology", () => {
  it("accepts a small valid topology", () => {
    const result = validateYaml(`${twoNodes}links:\n  - { a_node: r1, a_int: eth1, z_node: r2, z_int: eth1 }\n`);
    expect(result).toEqual({ errors: [], warnings: [] });
  });

  it("requires a topology name usable as a Kubernetes namespace", () => {
    expect(messages(validateYaml("nodes: []").errors)).toEqual([expect.stringMatching(/^name: topology name is empty/)]);
    const result = validateYaml("name: My_Lab");
    expect(result.errors[0]).toMatchObject({ path: "name", line: 1, col: 7, file: "t.yaml" });
    expect(result.errors[0]!.message).toMatch(/RFC 1123/);
    expect(validateYaml(`name: ${"a".repeat(64)}`).errors[0]!.message).toMatch(/at most 63/);
  });

  it("reports every problem at once, with positions and name-based paths", () => {
    const result = validateYaml(`name: lab
nodes:
  - name: r1
    interfaces:
      this-name-is-too-long: {}
  - name: r1
  - name: Bad.Name
links:
  - { a_node: r1, a_int: eth1, z_node: r9, z_int: eth1 }
  - { a_node: r1, a_int: "eth 2", z_node: r1, z_int: eth3 }
`);
    expect(messages(result.errors)).toEqual([
      expect.stringMatching(/^nodes\[r1\]\.interfaces\[this-name-is-too-long\]: interface name .* at most 15 bytes/),
      'nodes[1].name: duplicate node name "r1" (first used by nodes[0])',
      expect.stringMatching(/^nodes\[2\]\.name: node name "Bad.Name" must consist of/),
      'links[0].z_node: unknown node "r9"',
      `links[1].a_int: interface name "eth 2" must not contain whitespace`,
    ]);
    expect(result.errors.map((p) => [p.line, p.col])).toEqual([
      [5, 7],
      [6, 11],
      [7, 11],
      [9, 40],
      [10, 26],
    ]);
  });

  it("allows every upstream interface naming style", () => {
    const result = validateYaml(`${twoNodes}links:
  - { a_node: r1, a_int: eth1, z_node: r2, z_int: e1-1 }
  - { a_node: r1, a_int: "1", z_node: r2, z_int: eno0 }
  - { a_node: r1, a_int: Ethernet1, z_node: r2, z_int: et-0_0_0 }
`);
    expect(result.errors).toEqual([]);
  });

  it("refuses interface names the kernel refuses, and eth0 as a data link", () => {
    const result = validateYaml(`${twoNodes}links:
  - { a_node: r1, a_int: "a/b", z_node: r2, z_int: "a:b" }
  - { a_node: r1, a_int: "..", z_node: r2, z_int: eth0 }
`);
    expect(messages(result.errors)).toEqual([
      `links[0].a_int: interface name "a/b" must not contain '/'`,
      `links[0].z_int: interface name "a:b" must not contain ':'`,
      `links[1].a_int: interface name ".." must not be ".."`,
      "links[1].z_int: eth0 is the management interface and cannot be a data link",
    ]);
  });

  it("wires each endpoint once, and warns (only) about an exact duplicate link", () => {
    const result = validateYaml(`${twoNodes}links:
  - { a_node: r1, a_int: eth1, z_node: r2, z_int: eth1 }
  - { a_node: r1, a_int: eth1, z_node: r2, z_int: eth1 }
  - { a_node: r2, a_int: eth1, z_node: r1, z_int: eth2 }
`);
    expect(messages(result.warnings)).toEqual(["links[1]: same link as links[0]; the duplicate is ignored"]);
    expect(messages(result.errors)).toEqual(["links[2].a_int: interface r2:eth1 is already wired by links[0]"]);
  });

  it("allows a node linked to itself on two interfaces, not one", () => {
    const loop = validateYaml(`${twoNodes}links:\n  - { a_node: r1, a_int: eth1, z_node: r1, z_int: eth2 }\n`);
    expect(loop.errors).toEqual([]);
    const same = validateYaml(`${twoNodes}links:\n  - { a_node: r1, a_int: eth1, z_node: r1, z_int: eth1 }\n`);
    expect(messages(same.errors)).toEqual(["links[0]: link r1:eth1 -- r1:eth1 connects an interface to itself"]);
  });

  it("checks config files relative to the topology's directory", () => {
    const seen: string[] = [];
    const result = validateYaml(
      `name: lab
nodes:
  - name: r1
    config: { file: r1.cfg, config_file: startup-config }
  - name: r2
    config: { file: missing.cfg, config_file: "../escape" }
`,
      { baseDir: "/topologies/lab", fileExists: (path) => (seen.push(path), path.endsWith("r1.cfg")) },
    );
    expect(seen).toEqual(["/topologies/lab/r1.cfg", "/topologies/lab/missing.cfg"]);
    expect(messages(result.errors)).toEqual([
      'nodes[r2].config.file: config file "missing.cfg" not found (looked for /topologies/lab/missing.cfg)',
      expect.stringMatching(/^nodes\[r2\]\.config\.config_file: config_file "..\/escape" must consist of/),
    ]);
    expect(result.errors[0]).toMatchObject({ line: 6, col: 21 });
  });

  it("skips file checks without a base directory", () => {
    const result = validateYaml(`name: lab\nnodes: [{ name: r1, config: { file: nowhere.cfg } }]\n`);
    expect(result.errors).toEqual([]);
  });

  it("checks vendor data: the type the vendor reads, and the files it names", () => {
    const node = (vendor: topo.Vendor, vendorData: Any) =>
      create(topo.NodeSchema, { name: "n1", vendor, config: { vendorData } });
    const alpineData = anyPack(
      alpine.AlpineConfigSchema,
      create(alpine.AlpineConfigSchema, { files: { mountDir: "/etc/x", files: { "a.conf": { fileData: { case: "file", value: "a.conf" } } } } }),
    );
    const ceosData = anyPack(ceos.CEosLabConfigSchema, create(ceos.CEosLabConfigSchema, { waitForAgents: ["x"] }));
    const topology = create(topo.TopologySchema, {
      name: "lab",
      nodes: [node(topo.Vendor.ALPINE, alpineData), { ...node(topo.Vendor.ARISTA, alpineData), name: "n2" }, { ...node(topo.Vendor.HOST, ceosData), name: "n3" }],
    });
    const result = validateTopology(topology, { baseDir: "/lab", fileExists: () => false });
    expect(messages(result.errors)).toEqual([
      'nodes[n1].config.vendor_data.files.files[a.conf].file: file "a.conf" not found (looked for /lab/a.conf)',
      "nodes[n2].config.vendor_data: vendor ARISTA reads vendor_data of type ceos.CEosLabConfig, got alpine.AlpineConfig",
    ]);
    expect(messages(result.warnings)).toEqual(["nodes[n3].config.vendor_data: vendor HOST does not read vendor_data; it is ignored"]);
  });

  it("checks service ports, labels, MTUs and kernel parameters", () => {
    const result = validateYaml(`name: lab
nodes:
  - name: r1
    labels: { "ondatra-role": DUT, "bad key!": x }
    services:
      0: { inside: 22 }
      22: { inside: 0 }
      443: { inside: 443, outside: 444 }
    interfaces: { eth1: { mtu: 20 } }
    host_constraints:
      - kernel_constraint: { name: "../../etc/passwd", bounded_integer: { min_value: 5, max_value: 1 } }
`);
    expect(messages(result.errors)).toEqual([
      expect.stringMatching(/^nodes\[r1\]\.labels\[bad key!\]: label key/),
      "nodes[r1].interfaces[eth1].mtu: mtu 20 is outside 68..65535",
      "nodes[r1].services[0]: service port 0 is outside 1..65535",
      "nodes[r1].services[22].inside: inside port 0 is outside 1..65535",
      expect.stringMatching(/^nodes\[r1\]\.host_constraints\[0\]\.kernel_constraint\.name: kernel parameter/),
      "nodes[r1].host_constraints[0].kernel_constraint.bounded_integer: min_value 5 is greater than max_value 1",
    ]);
    expect(messages(result.warnings)).toEqual([
      "nodes[r1].services[443].outside: outside 444 differs from the map key 443; the key is the outside port",
    ]);
  });

  it("checks impairment ranges", () => {
    const result = validateYaml(`${twoNodes}links:
  - a_node: r1
    a_int: eth1
    z_node: r2
    z_int: eth1
    impairments: { loss_percent: 101, jitter_us: 5 }
    a_to_z: { corruption_percent: -1, reorder_percent: 5, delay_us: 10 }
    z_to_a: { duplication_percent: NaN }
`);
    expect(messages(result.errors)).toEqual([
      "links[0].impairments.loss_percent: loss_percent 101 is outside 0..100",
      "links[0].impairments.jitter_us: jitter_us needs a delay_us: jitter varies a delay",
      "links[0].a_to_z.corruption_percent: corruption_percent -1 is outside 0..100",
      "links[0].z_to_a.duplication_percent: duplication_percent NaN is outside 0..100",
    ]);
  });

  it("checks LAN segments and host attachments", () => {
    const result = validateYaml(`name: lab
nodes: [{ name: r1 }, { name: r2 }, { name: r3 }]
segments:
  - name: lan1
    endpoints: [{ node: r1, interface: eth1 }, { node: r9, interface: eth1 }]
  - name: r2
links:
  - { a_node: r2, a_int: eth1, z_node: lan1, kind: LINK_KIND_LAN_SEGMENT }
  - { a_node: r3, a_int: eth1, z_node: lan2, kind: LINK_KIND_LAN_SEGMENT }
  - { a_node: r3, a_int: eth2, z_node: lan1, z_int: eth1 }
  - { a_node: r1, a_int: eth1, z_node: host, z_int: enp0s3, kind: LINK_KIND_HOST_ATTACHMENT }
`);
    expect(messages(result.errors)).toEqual([
      'links[1].z_node: unknown segment "lan2"',
      'links[2].z_node: unknown node "lan1" ("lan1" is a segment: set kind: LINK_KIND_LAN_SEGMENT and name it in z_node)',
      "segments[lan1].endpoints[0].interface: interface r1:eth1 is already wired by links[3]",
      'segments[lan1].endpoints[1].node: unknown node "r9"',
      'segments[r2].name: segment name "r2" is also a node name',
    ]);
    expect(messages(result.warnings)).toEqual(['segments[r2]: segment "r2" joins fewer than two interfaces']);
  });

  it("reports unknown enum numbers that arrive over the API", () => {
    const topology = create(topo.TopologySchema, { name: "lab", nodes: [{ name: "r1", vendor: 99 as topo.Vendor }] });
    expect(messages(validateTopology(topology).errors)).toEqual(["nodes[r1].vendor: unknown vendor number 99"]);
  });

  it("assertValidTopology throws every error at once", () => {
    const result = validateYaml("name: Bad\nnodes: [{ name: A }]");
    expect(() => assertValidTopology(result)).toThrow(TopologyValidationError);
    expect(() => assertValidTopology({ errors: [], warnings: result.errors })).not.toThrow();
  });

  it("rejects an empty baseDir early", () => {
    expect(() => validateTopology(create(topo.TopologySchema), { baseDir: "" })).toThrow(TypeError);
  });
});
