// The loader's contract under hostile input: random and mutated YAML and JSON either load
// or fail with TopologyParseError — never another exception — and whatever loads can be
// validated; whatever validates can be resolved and planned.
import { describe, expect, it } from "vitest";
import type { DescMessage } from "@bufbuild/protobuf";
import { topo } from "@kne/proto";
import fc from "fast-check";
import { TopologyParseError } from "./errors";
import type { TopologyFormat } from "./format";
import { parseTopology } from "./load";
import { planTopology } from "./plan";
import { resolveTopology } from "./resolve";
import { serializeTopology } from "./serialize";
import { arbitraryTopology } from "./testing/arbitraries";
import { validateTopology } from "./validate";

/** Loads, validates, resolves and plans; returns how far it got. Throws only on a broken contract. */
function exercise(text: string, format: TopologyFormat): "rejected" | "invalid" | "valid" {
  let loaded;
  try {
    loaded = parseTopology(text, { format, file: `fuzz.${format}` });
  } catch (error) {
    if (error instanceof TopologyParseError) {
      expect(error.problem.file).toBe(`fuzz.${format}`);
      // The schema walk catches what fromJson would; reaching its backstop means a gap in it.
      expect(error.problem.message).not.toMatch(/^cannot decode/);
      return "rejected";
    }
    throw error;
  }
  const result = validateTopology(loaded.topology, { ...loaded, fileExists: () => true });
  for (const problem of [...result.errors, ...result.warnings]) expect(typeof problem.message).toBe("string");
  if (result.errors.length > 0) return "invalid";
  const resolved = resolveTopology(loaded.topology);
  planTopology(resolved, loaded.topology);
  return "valid";
}

/** Every field name of the topology schema, in both spellings, so random documents hit real fields. */
function fieldNames(desc: DescMessage, seen = new Set<DescMessage>(), out = new Set<string>()): Set<string> {
  if (seen.has(desc)) return out;
  seen.add(desc);
  for (const field of desc.fields) {
    out.add(field.name).add(field.jsonName);
    if (field.message) fieldNames(field.message, seen, out);
  }
  return out;
}
const knownKeys = [...fieldNames(topo.TopologySchema), "@type", "22", "eth1", "type.googleapis.com/alpine.AlpineConfig"];

const schemaShapedValue: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.constantFrom(null, true, false, 0, -1, 22, 65536, 2 ** 53 + 1, 1.5, "", "r1", "eth1", "ARISTA", "LINK_KIND_LAN_SEGMENT", "NaN", "Infinity", "x".repeat(70)),
    fc.jsonValue({ maxDepth: 1 }),
    fc.array(tie("value"), { maxLength: 3 }),
    fc.dictionary(fc.oneof(fc.constantFrom(...knownKeys), fc.string({ maxLength: 4 })), tie("value"), { maxKeys: 4 }),
  ),
})).value;

const validTopology = fc.record({
  name: fc.constantFrom("lab", "a-b"),
  nodes: fc.array(fc.record({ name: fc.constantFrom("r1", "r2", "r3"), vendor: fc.constantFrom("HOST", "FRR") }), { maxLength: 3 }),
  links: fc.array(
    fc.record({ a_node: fc.constantFrom("r1", "r2"), a_int: fc.constantFrom("eth1", "eth2"), z_node: fc.constantFrom("r2", "r3"), z_int: fc.constantFrom("eth1", "eth2") }),
    { maxLength: 3 },
  ),
});

/** A text with a random edit: a deletion, an insertion or a duplicated slice. */
function mutated(text: fc.Arbitrary<string>): fc.Arbitrary<string> {
  // Insertions favour what breaks parsers: structure, anchors, escapes, half a surrogate pair.
  const insertion = fc.oneof(
    fc.string({ maxLength: 6, unit: "binary" }),
    fc.constantFrom('"', "{", "}", "[", ":", ",", "\n", "\n  - ", "&a ", "*a", "!!binary ", "\\ud800", "\ud800", "\\u0000", "? ", "<<: "),
  );
  return fc.tuple(text, fc.nat(), fc.nat({ max: 20 }), insertion, fc.constantFrom("delete", "insert", "duplicate")).map(
    ([source, at, length, insert, edit]) => {
      const start = source.length === 0 ? 0 : at % source.length;
      if (edit === "delete") return source.slice(0, start) + source.slice(start + length);
      if (edit === "insert") return source.slice(0, start) + insert + source.slice(start);
      return source.slice(0, start) + source.slice(start, start + length) + source.slice(start);
    },
  );
}

// Bounded in time too: a failure found late can shrink for long on these nested inputs.
const fuzzRuns = { numRuns: 400, interruptAfterTimeLimit: 30_000 };

describe("loading hostile YAML and JSON", () => {
  it("random text never crashes the YAML or JSON loader", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 200 }), fc.constantFrom<TopologyFormat>("yaml", "json"), (text, format) => {
        exercise(text, format);
      }),
      fuzzRuns,
    );
  });

  it("random schema-shaped documents never crash, in YAML and JSON", () => {
    fc.assert(
      fc.property(fc.dictionary(fc.constantFrom(...knownKeys), schemaShapedValue, { maxKeys: 4 }), (document) => {
        exercise(JSON.stringify(document), "json");
        exercise(JSON.stringify(document, null, 1), "yaml");
      }),
      fuzzRuns,
    );
  });

  it("mutated valid YAML and JSON never crash", () => {
    const documents = fc.oneof(
      validTopology.map((t) => JSON.stringify(t, null, 2)),
      arbitraryTopology.map((t) => serializeTopology(t, "json")),
    );
    fc.assert(fc.property(mutated(documents), (text) => void exercise(text, "json")), fuzzRuns);
    const yamlDocuments = fc.oneof(
      validTopology.map((t) => serializeTopology(parseTopology(JSON.stringify(t), { format: "json" }).topology, "yaml")),
      arbitraryTopology.map((t) => serializeTopology(t, "yaml")),
    );
    fc.assert(fc.property(mutated(yamlDocuments), (text) => void exercise(text, "yaml")), fuzzRuns);
  }, 60_000);

  it("the unmutated generators do produce valid topologies (the fuzzing reaches validation and resolution)", () => {
    const outcomes = fc.sample(validTopology, 200).map((t) => exercise(JSON.stringify(t), "json"));
    expect(outcomes).toContain("valid");
    expect(outcomes).toContain("invalid");
  });
});
