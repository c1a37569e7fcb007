// Parity with upstream KNE: every text format topology among upstream's examples parses as
// topo.Topology and survives a round trip; the invalid ones fail on their unknown field.
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { equals } from "@bufbuild/protobuf";
import { fromText } from "@bufbuild/protobuf/txtpb";
import { topo, vendorDataRegistry } from "@kne/proto";
import { describe, expect, it } from "vitest";
import { TopologyParseError } from "../errors";
import { parseTextFormat, toTextFormat } from "./index";
import { upstreamExamplesRoot } from "./test-fixtures";

const examplesRoot = upstreamExamplesRoot;
const TEXT_FORMAT_SUFFIXES = [".pb.txt", ".pbtxt", ".textproto", ".txtpb"];

function textFormatFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && TEXT_FORMAT_SUFFIXES.some((suffix) => entry.name.endsWith(suffix)))
    .map((entry) => path.relative(examplesRoot, path.join(entry.parentPath, entry.name)))
    .sort();
}

const files = textFormatFiles(examplesRoot);
const isInvalid = (file: string) => file.startsWith(`topo${path.sep}testdata${path.sep}`) && path.basename(file).startsWith("invalid_topo");
const valid = files.filter((file) => !isInvalid(file));
const invalid = files.filter(isInvalid);
const options = (file: string) => ({ file, registry: vendorDataRegistry });
const sameTopology = (a: topo.Topology, b: topo.Topology) => equals(topo.TopologySchema, a, b, { registry: vendorDataRegistry, unpackAny: true });

describe("upstream example topologies", () => {
  it("are all found", () => {
    expect(valid.length).toBeGreaterThanOrEqual(20);
    expect(invalid).toEqual([path.join("topo", "testdata", "invalid_topo.pb.txt")]);
  });

  it.each(valid)("%s parses, round-trips, and matches protobuf-es's reader", (file) => {
    const text = readFileSync(path.join(examplesRoot, file), "utf8");
    const parsed = parseTextFormat(topo.TopologySchema, text, options(file));
    expect(parsed.name).not.toBe("");
    expect(parsed.nodes.length).toBeGreaterThan(0);
    expect(sameTopology(parsed, fromText(topo.TopologySchema, text, { registry: vendorDataRegistry }))).toBe(true);

    const written = toTextFormat(topo.TopologySchema, parsed, { registry: vendorDataRegistry });
    const reparsed = parseTextFormat(topo.TopologySchema, written, options(file));
    expect(sameTopology(reparsed, parsed)).toBe(true);
    expect(toTextFormat(topo.TopologySchema, reparsed, { registry: vendorDataRegistry })).toBe(written);
  });

  it.each(invalid)("%s fails on field_dne", (file) => {
    const text = readFileSync(path.join(examplesRoot, file), "utf8");
    let error: unknown;
    try {
      parseTextFormat(topo.TopologySchema, text, options(file));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(TopologyParseError);
    expect((error as TopologyParseError).problem).toEqual({
      file,
      line: 7,
      col: 5,
      path: "links[0].field_dne",
      message: 'unknown field "field_dne" in topo.Link',
    });
  });

  it("keeps the Any payload of the alpine example", () => {
    const file = path.join("examples", "alpine", "alpine.pb.txt");
    const parsed = parseTextFormat(topo.TopologySchema, readFileSync(path.join(examplesRoot, file), "utf8"), options(file));
    const written = toTextFormat(topo.TopologySchema, parsed, { registry: vendorDataRegistry });
    expect(written).toContain("[type.googleapis.com/alpine.AlpineConfig] {");
    expect(written).toContain('args: "-alsologtostderr"');
  });
});
