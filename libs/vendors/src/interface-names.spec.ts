// Every vendor's interface naming, checked with upstream KNE's own example topologies (read
// in place from the shared compatibility folder beside the workspace) and with names the
// vendor refuses: validation, resolution and the pod's interfaces agree on each name.
import { readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { create } from "@bufbuild/protobuf";
import { topo } from "@kne/proto";
import { type LoadedTopology, linuxInterfaceNameProblem, loadTopology, parseTopology, resolveTopology, validateTopology } from "@kne/topology";
import { describe, expect, it } from "vitest";
import { kubeObjectsForNode, mapInterfaceNames, vendorRegistry } from "./index";

const here = dirname(fileURLToPath(import.meta.url));
const upstreamExamples = join(here, "..", "..", "..", "..", "shared", "kne-compat", "upstream-examples", "examples");
const cienaPorts = join(here, "ciena", "testdata", "ciena-ports.pb.txt");

function validate(loaded: LoadedTopology) {
  return validateTopology(loaded.topology, { ...loaded, interfaceNames: mapInterfaceNames });
}

function resolved(loaded: LoadedTopology): topo.Topology {
  return resolveTopology(loaded.topology, { interfaceNames: mapInterfaceNames });
}

function parse(text: string): LoadedTopology {
  return parseTopology(text, { format: "textproto" });
}

function nodeOf(t: topo.Topology, name: string): topo.Node {
  const node = t.nodes.find((n) => n.name === name);
  if (!node) throw new Error(`no node ${name}`);
  return node;
}

/** name written → Linux interface, for one node of a resolved topology. */
function linuxByWritten(node: topo.Node): Record<string, string> {
  return Object.fromEntries(Object.entries(node.interfaces).map(([key, i]) => [i.intName, key]));
}

function mapped(vendor: topo.Vendor, names: string[], extra: { model?: string; interfaces?: Record<string, topo.Interface> } = {}) {
  const result = mapInterfaceNames(create(topo.NodeSchema, { name: "n1", vendor, ...extra }), names)!;
  return { linux: Object.fromEntries(result.linux), problems: Object.fromEntries(result.problems), rule: result.rule };
}

function upstreamFiles(): string[] {
  return readdirSync(upstreamExamples, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && /\.(pb\.txt|pbtxt)$/.test(e.name))
    .map((e) => join(e.parentPath, e.name))
    .sort();
}

describe("upstream's example topologies under every vendor's naming", () => {
  const files = upstreamFiles();
  it("finds them", () => expect(files.length).toBeGreaterThanOrEqual(20));
  for (const file of files) {
    it(`${file.slice(upstreamExamples.length + 1)}: valid, and every interface resolves to a Linux name`, async () => {
      const loaded = await loadTopology(file);
      expect(validate(loaded).errors).toEqual([]);
      const t = resolved(loaded);
      for (const node of t.nodes) {
        for (const key of Object.keys(node.interfaces)) expect(linuxInterfaceNameProblem(key), `${node.name}:${key}`).toBeUndefined();
      }
    });
  }
});

describe("CIENA: <slot>/<x>/<port> and <port> are eth<port>", () => {
  it("upstream's saos example (ports 1 and 2) wires eth1 and eth2", async () => {
    const loaded = await loadTopology(join(upstreamExamples, "ciena", "saos.pbtxt"));
    const t = resolved(loaded);
    expect(linuxByWritten(nodeOf(t, "saos-1"))).toEqual({ "1": "eth1", "2": "eth2" });
    expect(nodeOf(t, "saos-1").interfaces["eth1"]).toMatchObject({ intName: "1", peerName: "saos-2", peerIntName: "1" });
  });

  it("a topology written with 1/5/1 port names validates, resolves and makes pods with eth1..", async () => {
    const loaded = await loadTopology(cienaPorts);
    expect(validate(loaded)).toEqual({ errors: [], warnings: [] });
    const t = resolved(loaded);
    expect(linuxByWritten(nodeOf(t, "saos-1"))).toEqual({ "1/5/1": "eth1", "1/5/2": "eth2", "1/5/3": "eth3" });
    expect(linuxByWritten(nodeOf(t, "saos-2"))).toEqual({ "1/5/1": "eth1", "2": "eth2", "1/5/3": "eth3", "1/5/4": "eth4" });
    // The interface entry written as 1/5/3 keeps its settings under its Linux name.
    expect(nodeOf(t, "saos-1").interfaces["eth3"]).toMatchObject({ intName: "1/5/3", mtu: 9000, peerName: "saos-2", peerIntName: "1/5/3" });
    expect(nodeOf(t, "h1").interfaces["eth1"]).toMatchObject({ peerName: "saos-2", peerIntName: "1/5/4" });
    // Resolving again changes nothing.
    expect(resolveTopology(t, { interfaceNames: mapInterfaceNames })).toEqual(t);
    const links = t.links.filter((l) => l.aNode === "saos-2" || l.zNode === "saos-2");
    const pod = kubeObjectsForNode({ topology: t.name, namespace: t.name, node: nodeOf(t, "saos-2"), links, operatorMode: "pod" });
    // The init container waits for links + 1 interfaces: four data ports here.
    expect(JSON.stringify(pod)).toMatch(/"args":\["5",/);
  });

  it("refuses two ports that are one Linux interface, and names that are no Linux name after mapping, at line:col", () => {
    const loaded = parse(
      [
        'name: "c"',
        'nodes { name: "a" vendor: CIENA }',
        'nodes { name: "b" vendor: CIENA }',
        'links { a_node: "a" a_int: "1/5/1" z_node: "b" z_int: "1/1/1" }',
        'links { a_node: "a" a_int: "2/5/1" z_node: "b" z_int: "1/1/12345678901234" }',
        'links { a_node: "a" a_int: "../x" z_node: "b" z_int: "1/1/2" }',
      ].join("\n"),
    );
    const { errors } = validate(loaded);
    expect(errors.map((e) => `${e.line}:${e.col} ${e.path}: ${e.message}`)).toEqual([
      expect.stringMatching(/^5:\d+ links\[1\]\.a_int: interface name "2\/5\/1" is the Linux interface eth1, as "1\/5\/1" is \(CIENA: ports <slot>\/<x>\/<port>/),
      expect.stringMatching(/^5:\d+ links\[1\]\.z_int: interface name "1\/1\/12345678901234" is the Linux interface "eth12345678901234", which must be at most 15 bytes/),
      expect.stringMatching(/^6:\d+ links\[2\]\.a_int: interface name "\.\.\/x" must not contain '\/' \(CIENA: /),
    ]);
  });

  it("a name written twice in two spellings is one interface, wired once", () => {
    const { errors } = validate(parse('name: "c" nodes { name: "a" vendor: CIENA } nodes { name: "b" vendor: HOST } nodes { name: "d" vendor: HOST } links { a_node: "a" a_int: "1/5/1" z_node: "b" z_int: "eth1" } links { a_node: "a" a_int: "eth1" z_node: "d" z_int: "eth1" }'));
    expect(errors.map((e) => `${e.path}: ${e.message}`)).toEqual([expect.stringContaining('links[1].a_int: interface name "eth1" is the Linux interface eth1, as "1/5/1" is')]);
  });
});

describe("SONIC and ALPINE: Ethernet* are eth1, eth2, ... in port order", () => {
  for (const vendor of [topo.Vendor.SONIC, topo.Vendor.ALPINE]) {
    it(`${topo.Vendor[vendor]}`, () => {
      expect(mapped(vendor, ["Ethernet8", "Ethernet0", "Ethernet1/1/1", "Ethernet4", "eth9"]).linux).toEqual({
        Ethernet0: "eth1",
        "Ethernet1/1/1": "eth2",
        Ethernet4: "eth3",
        Ethernet8: "eth4",
        eth9: "eth9",
      });
      expect(mapped(vendor, ["eth1", "Ethernet0"]).problems).toEqual({ Ethernet0: 'is the Linux interface eth1, as "eth1" is' });
    });
  }

  it("ALPINE: upstream's alpine example validates; the data-plane container maps each port", async () => {
    const loaded = await loadTopology(join(upstreamExamples, "alpine", "alpine.pb.txt"));
    expect(validate(loaded).errors).toEqual([]);
    const t = parse('name: "s" nodes { name: "s1" vendor: SONIC } nodes { name: "s2" vendor: SONIC } links { a_node: "s1" a_int: "Ethernet1/1/1" z_node: "s2" z_int: "Ethernet2/2/2" }');
    const r = resolved(t);
    // Upstream's own unit test: Ethernet1/1/1 becomes eth1 with int_name and peer kept.
    expect(nodeOf(r, "s1").interfaces["eth1"]).toMatchObject({ intName: "Ethernet1/1/1", peerName: "s2", peerIntName: "Ethernet2/2/2" });
  });
});

describe("ARISTA: Linux names; interfaces[ethN].name is an EOS interface", () => {
  it("upstream's cEOS examples map as written", async () => {
    for (const file of ["ceos/ceos.pb.txt", "ceos-ifc/ceos-ifc.pb.txt", "ceos-150/ceos-150.pb.txt"]) {
      const loaded = await loadTopology(join(upstreamExamples, "arista", file));
      expect(validate(loaded).errors).toEqual([]);
    }
    expect(mapped(topo.Vendor.ARISTA, ["eth1", "eth2"]).linux).toEqual({ eth1: "eth1", eth2: "eth2" });
  });

  it("refuses a name that is no EOS interface, as upstream does", () => {
    const node = { interfaces: { eth1: create(topo.InterfaceSchema, { name: "Ethernet1/1" }), eth2: create(topo.InterfaceSchema, { name: "Gi0/1" }) } };
    expect(mapped(topo.Vendor.ARISTA, ["eth1", "eth2"], node).problems).toEqual({
      eth2: 'has name "Gi0/1", which is not an EOS interface (Ethernet<N>[/<M>[/<K>]] or Management<N>[/<M>])',
    });
  });
});

describe("CISCO: eth<N>; the XR name from interfaces[ethN].name or the model", () => {
  it("upstream's xrd and 8000e examples validate", async () => {
    for (const file of ["xrd/xrd.pb.txt", "xrd-traffic/xrd-traffic.pb.txt", "8000e/8000e.pb.txt"]) {
      expect(validate(await loadTopology(join(upstreamExamples, "cisco", file))).errors).toEqual([]);
    }
  });

  it("refuses what upstream cannot map to an XR interface", () => {
    expect(mapped(topo.Vendor.CISCO, ["eth1", "GigabitEthernet0/0/0/0", "eth36", "eth37"], { model: "8201" }).problems).toEqual({
      "GigabitEthernet0/0/0/0": "is not an eth<N> interface (upstream derives the XR interface from N)",
      eth37: "has no XR interface: 8201 has eth1..eth36 (or give interfaces[eth37].name)",
    });
    // A name given for the port takes the model's range out of play, as upstream.
    const named = { model: "8201", interfaces: { eth40: create(topo.InterfaceSchema, { name: "FourHundredGigE0/0/0/0" }) } };
    expect(mapped(topo.Vendor.CISCO, ["eth40"], named).problems).toEqual({});
    const { errors } = validate(parse('name: "x" nodes { name: "r1" vendor: CISCO } nodes { name: "r2" vendor: CISCO } links { a_node: "r1" a_int: "GigabitEthernet0/0/0/0" z_node: "r2" z_int: "eth1" }'));
    expect(errors.map((e) => `${e.line}:${e.col} ${e.path}`)).toEqual([expect.stringMatching(/^1:\d+ links\[0\]\.a_int$/)]);
    expect(errors[0]!.message).toContain("(CISCO: Linux names eth<N>");
  });
});

describe("vendors whose links name Linux interfaces as written", () => {
  const cases: Array<[topo.Vendor, string, string[]]> = [
    [topo.Vendor.JUNIPER, "juniper/ncptx/ncptx_channel-cptx_channel.pb.txt", ["eth4", "eth12"]],
    [topo.Vendor.NOKIA, "nokia/srlinux-services/2node-srl-ixr6-with-oc-services.pbtxt", ["e1-1"]],
    [topo.Vendor.OPENCONFIG, "openconfig/lemming.pb.txt", ["eth1"]],
    [topo.Vendor.KEYSIGHT, "juniper/cptx-ixia/cptx-ixia.pb.txt", ["eth1"]],
    [topo.Vendor.DRIVENETS, "drivenets/cdnos.pb.txt", ["eno0"]],
    [topo.Vendor.GOBGP, "gobgp/gobgp.pb.txt", ["eth1"]],
    [topo.Vendor.HOST, "host/3node-host.pb.txt", ["eth1", "eth2"]],
  ];
  for (const [vendor, file, names] of cases) {
    it(`${topo.Vendor[vendor]}: ${file}`, async () => {
      const loaded = await loadTopology(join(upstreamExamples, file));
      expect(validate(loaded).errors).toEqual([]);
      const t = resolved(loaded);
      const node = t.nodes.find((n) => n.vendor === vendor && n.interfaces[names[0]!] !== undefined)!;
      for (const name of names) expect(node.interfaces[name], `${node.name}:${name}`).toMatchObject({ intName: name });
      expect(mapped(vendor, names).linux).toEqual(Object.fromEntries(names.map((n) => [n, n])));
    });
  }

  for (const vendor of [topo.Vendor.FRR, topo.Vendor.BIRD, topo.Vendor.FORWARD]) {
    it(`${topo.Vendor[vendor]}: eth1 is eth1; 1/5/1 is no Linux name`, () => {
      expect(mapped(vendor, ["eth1", "swp1"]).linux).toEqual({ eth1: "eth1", swp1: "swp1" });
      const { errors } = validate(parse(`name: "x" nodes { name: "a" vendor: ${topo.Vendor[vendor]} } nodes { name: "b" vendor: HOST } links { a_node: "a" a_int: "1/5/1" z_node: "b" z_int: "eth1" }`));
      expect(errors.map((e) => e.message)).toEqual([`interface name "1/5/1" must not contain '/' (${topo.Vendor[vendor]}: ${mapped(vendor, []).rule})`]);
    });
  }
});

describe("IN_CLUSTER_PROXY: exactly eth1", () => {
  it("takes eth1 and refuses any other", () => {
    expect(mapped(topo.Vendor.IN_CLUSTER_PROXY, ["eth1", "eth2"])).toMatchObject({ linux: { eth1: "eth1" }, problems: { eth2: "is not eth1, the proxy's one interface" } });
  });
});

describe("the registry", () => {
  it("gives every vendor a rule, and this file checks each one", () => {
    const tested = new Set(["CIENA", "SONIC", "ALPINE", "ARISTA", "CISCO", "JUNIPER", "NOKIA", "OPENCONFIG", "KEYSIGHT", "DRIVENETS", "GOBGP", "HOST", "FRR", "BIRD", "FORWARD", "IN_CLUSTER_PROXY"]);
    for (const v of vendorRegistry) {
      expect(v.interfaceNaming.rule.length, v.name).toBeGreaterThan(10);
      expect(tested.has(v.name), `${v.name} has a test here`).toBe(true);
    }
  });
});
