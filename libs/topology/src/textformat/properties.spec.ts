// Properties over generated inputs: any message survives a round trip through the text
// format, and no input, however broken, makes the parser throw anything but
// TopologyParseError with a position inside the text.
import { readFileSync } from "node:fs";
import path from "node:path";
import { create, equals, type DescMessage, type Message, type Registry } from "@bufbuild/protobuf";
import { fromText } from "@bufbuild/protobuf/txtpb";
import { anyPack } from "@bufbuild/protobuf/wkt";
import { alpine, ceos, topo, vendorDataRegistry } from "@kne/proto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { TopologyParseError } from "../errors";
import { parseTextFormat, toTextFormat } from "./index";
import { ColorEnum, ScalarsSchema, testRegistry, upstreamExamplesRoot } from "./test-fixtures";

const NUM_RUNS = 200;
// A failure on a large input can take minutes to shrink; report the smallest found by then.
const SHRINK_TIME_LIMIT_MS = 30_000;

// ---- generators ----

/** Short text: printable ASCII, or any Unicode code point (which exercises escaping). */
const text = fc.oneof(fc.string({ maxLength: 8 }), fc.string({ unit: "binary", maxLength: 8 }));
const dictionary = <T>(key: fc.Arbitrary<string>, value: fc.Arbitrary<T>) => fc.dictionary(key, value, { maxKeys: 3, noNullPrototype: true });
const list = <T>(item: fc.Arbitrary<T>) => fc.array(item, { maxLength: 3 });
const uint32 = fc.integer({ min: 0, max: 0xffffffff });
const int64 = fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n });
const uint64 = fc.bigInt({ min: 0n, max: 2n ** 64n - 1n });
const bytes = fc.uint8Array({ maxLength: 8 });
// NaN is left out because equals() never finds NaN equal to itself.
const double = fc.double({ noNaN: true });
const float = fc.float({ noNaN: true });
/** Known values, and numbers an open enum keeps as they are. */
const enumValue = (known: number[]) => fc.oneof(fc.constantFrom(...known), fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }));

const alpineConfig = fc.record({
  containers: list(fc.record({ name: text, image: text, command: list(text), args: list(text) })),
  files: fc.option(
    fc.record({
      mountDir: text,
      files: dictionary(
        text,
        fc.record({
          fileData: fc.oneof(
            fc.constant({ case: undefined }),
            fc.record({ case: fc.constant("data" as const), value: bytes }),
            fc.record({ case: fc.constant("file" as const), value: text }),
          ),
        }),
      ),
    }),
    { nil: undefined },
  ),
});

const vendorData = fc.oneof(
  alpineConfig.map((init) => anyPack(alpine.AlpineConfigSchema, create(alpine.AlpineConfigSchema, init))),
  fc
    .record({ toggleOverrides: dictionary(text, fc.boolean()), waitForAgents: list(text) })
    .map((init) => anyPack(ceos.CEosLabConfigSchema, create(ceos.CEosLabConfigSchema, init))),
);

const impairments = fc.record(
  {
    lossPercent: double,
    rateKbps: uint64,
    delayUs: uint32,
    jitterUs: uint32,
    corruptionPercent: double,
    duplicationPercent: double,
    reorderPercent: double,
  },
  { requiredKeys: [] },
);

const config = fc.record(
  {
    command: list(text),
    args: list(text),
    image: text,
    env: dictionary(text, text),
    entryCommand: text,
    configPath: text,
    configFile: text,
    sleep: uint32,
    cert: fc.record({
      config: fc.oneof(
        fc.constant({ case: undefined }),
        fc.record({
          case: fc.constant("selfSigned" as const),
          value: fc.record({ certName: text, keyName: text, keySize: uint32, commonName: text }, { requiredKeys: [] }),
        }),
      ),
    }),
    configData: fc.oneof(
      fc.constant({ case: undefined }),
      fc.record({ case: fc.constant("data" as const), value: bytes }),
      fc.record({ case: fc.constant("file" as const), value: text }),
    ),
    initImage: text,
    vendorData,
  },
  { requiredKeys: [] },
);

const node = fc.record(
  {
    name: text,
    type: enumValue(Object.values(topo.Node_Type).filter((v): v is number => typeof v === "number")),
    labels: dictionary(text, text),
    config,
    services: dictionary(
      uint32.map(String),
      fc.record({ name: text, inside: uint32, outside: uint32, insideIp: text, outsideIp: text, nodePort: uint32, names: list(text) }, { requiredKeys: [] }),
    ),
    constraints: dictionary(text, text),
    vendor: enumValue(Object.values(topo.Vendor).filter((v): v is number => typeof v === "number")),
    model: text,
    version: text,
    os: text,
    interfaces: dictionary(
      text,
      fc.record(
        { name: text, intName: text, mtu: uint32, peerName: text, peerIntName: text, uid: int64, group: text, type: enumValue([0, 1, 2, 3]), ipAddress: text },
        { requiredKeys: [] },
      ),
    ),
    hostConstraints: list(
      fc.record({
        constraint: fc.oneof(
          fc.constant({ case: undefined }),
          fc.record({
            case: fc.constant("kernelConstraint" as const),
            value: fc.record({
              name: text,
              constraintType: fc.oneof(
                fc.constant({ case: undefined }),
                fc.record({ case: fc.constant("boundedInteger" as const), value: fc.record({ maxValue: int64, minValue: int64 }) }),
              ),
            }),
          }),
        ),
      }),
    ),
    podIp: text,
  },
  { requiredKeys: [] },
);

const link = fc.record(
  {
    aNode: text,
    aInt: text,
    zNode: text,
    zInt: text,
    adminState: enumValue([0, 1, 2]),
    impairments,
    kind: enumValue([0, 1, 2, 3, 4]),
    aToZ: impairments,
    zToA: impairments,
  },
  { requiredKeys: [] },
);

const topology = fc
  .record({
    name: text,
    nodes: list(node),
    links: list(link),
    segments: list(fc.record({ name: text, endpoints: list(fc.record({ node: text, interface: text })) })),
  })
  .map((init) => create(topo.TopologySchema, init));

const colors = ColorEnum.values.map((v) => v.number);
/** Every scalar type, list, map key type and oneof of the test schema, nested `depth` deep. */
function scalarsInit(depth: number): fc.Arbitrary<Record<string, unknown>> {
  const child = depth > 0 ? scalarsInit(depth - 1) : fc.constant({});
  return fc.record(
    {
      fDouble: double,
      fFloat: float,
      fInt32: fc.integer(),
      fInt64: int64,
      fUint32: uint32,
      fUint64: uint64,
      fSint32: fc.integer(),
      fSint64: int64,
      fFixed32: uint32,
      fFixed64: uint64,
      fSfixed32: fc.integer(),
      fSfixed64: int64,
      fBool: fc.boolean(),
      fString: text,
      fBytes: bytes,
      fEnum: enumValue(colors),
      fMessage: fc.option(child, { nil: undefined }),
      rInt32: list(fc.integer()),
      rString: list(text),
      rEnum: list(enumValue(colors)),
      rMessage: fc.array(child, { maxLength: 2 }),
      rDouble: list(double),
      rBytes: list(bytes),
      rInt64: list(int64),
      mString: dictionary(text, text),
      mInt32: dictionary(fc.integer().map(String), text),
      mInt64: dictionary(int64.map(String), child),
      mUint64: dictionary(uint64.map(String), fc.integer()),
      mBool: dictionary(fc.constantFrom("true", "false"), enumValue(colors)),
      mUint32: dictionary(uint32.map(String), bytes),
      choice: fc.oneof(
        fc.constant({ case: undefined }),
        fc.record({ case: fc.constant("oString"), value: text }),
        fc.record({ case: fc.constant("oInt32"), value: fc.integer() }),
        fc.record({ case: fc.constant("oMessage"), value: child }),
      ),
      fAny: fc.option(
        child.map((init) => anyPack(ScalarsSchema, create(ScalarsSchema, init))),
        { nil: undefined },
      ),
      fInt64String: int64.map(String),
      fWrapper: fc.option(fc.integer(), { nil: undefined }),
      fOptional: fc.option(fc.integer(), { nil: undefined }),
    },
    { requiredKeys: [] },
  );
}
const scalars = scalarsInit(1).map((init) => create(ScalarsSchema, init));

// ---- properties ----

function expectRoundTrip(schema: DescMessage, message: Message, registry: Registry): void {
  const written = toTextFormat(schema, message, { registry });
  const options = { registry, unpackAny: true };
  expect(equals(schema, parseTextFormat(schema, written, { registry }), message, options)).toBe(true);
  // protobuf-es's own reader agrees on what was written.
  expect(equals(schema, fromText(schema, written, { registry }), message, options)).toBe(true);
}

/** Parses; a failure must be a TopologyParseError that points inside the text. */
function parseOrFailCleanly(schema: DescMessage, input: string, registry: Registry): Message | undefined {
  try {
    return parseTextFormat(schema, input, { file: "fuzz.txtpb", registry });
  } catch (e) {
    if (!(e instanceof TopologyParseError)) throw e;
    const { line, col, file } = e.problem;
    const lines = input.split("\n");
    expect(file).toBe("fuzz.txtpb");
    expect(line).toBeGreaterThanOrEqual(1);
    expect(line).toBeLessThanOrEqual(lines.length);
    expect(col).toBeGreaterThanOrEqual(1);
    expect(col).toBeLessThanOrEqual(lines[line! - 1]!.length + 1);
    return undefined;
  }
}

// Generous per-test timeout: the runs take about a second each, more on a busy machine.
describe("text format properties", { timeout: 60_000 }, () => {
  it("round-trips any topology", () => {
    fc.assert(
      fc.property(topology, (t) => expectRoundTrip(topo.TopologySchema, t, vendorDataRegistry)),
      { numRuns: NUM_RUNS, interruptAfterTimeLimit: SHRINK_TIME_LIMIT_MS },
    );
  });

  it("round-trips any message of every field type", () => {
    fc.assert(
      fc.property(scalars, (m) => expectRoundTrip(ScalarsSchema, m, testRegistry)),
      { numRuns: NUM_RUNS, interruptAfterTimeLimit: SHRINK_TIME_LIMIT_MS },
    );
  });

  it("fails cleanly on arbitrary text", () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 60 }), fc.string({ unit: "binary", maxLength: 60 })), (input) => {
        parseOrFailCleanly(topo.TopologySchema, input, vendorDataRegistry);
        parseOrFailCleanly(ScalarsSchema, input, testRegistry);
      }),
      { numRuns: NUM_RUNS, interruptAfterTimeLimit: SHRINK_TIME_LIMIT_MS },
    );
  });

  const tokens = [
    ..."{}<>[]:,;-#\n\t \\\"'/.",
    "nodes",
    "name",
    "links",
    "a_node",
    "config",
    "file",
    "data",
    "services",
    "interfaces",
    "vendor_data",
    "key",
    "value",
    "vendor",
    "ARISTA",
    '"x"',
    "'y'",
    '"\\xff"',
    '"\\u00e9"',
    "0",
    "1",
    "-1",
    "0x1F",
    "017",
    "1.5e3",
    "2f",
    "inf",
    "nan",
    "true",
    "[type.googleapis.com/alpine.AlpineConfig]",
    "[type.googleapis.com/ceos.CEosLabConfig]",
    "containers",
    "toggle_overrides",
    "f_int64",
    "m_uint64",
    "f_any",
    "f_float",
    "r_message",
    "old_name",
    "o_string",
    "o_int32",
    "[tftest.ext]",
    "[type.googleapis.com/tftest.Scalars]",
  ];

  it("fails cleanly on sequences of text format tokens", () => {
    const soup = fc.array(fc.constantFrom(...tokens), { maxLength: 40 }).map((parts) => parts.join(" "));
    fc.assert(
      fc.property(soup, (input) => {
        parseOrFailCleanly(topo.TopologySchema, input, vendorDataRegistry);
        parseOrFailCleanly(ScalarsSchema, input, testRegistry);
      }),
      { numRuns: NUM_RUNS, interruptAfterTimeLimit: SHRINK_TIME_LIMIT_MS },
    );
  });

  const upstreamAlpine = readFileSync(path.join(upstreamExamplesRoot, "examples", "alpine", "alpine.pb.txt"), "utf8");
  const edit = fc.record({
    at: fc.nat(),
    remove: fc.nat({ max: 3 }),
    insert: fc.oneof(fc.constant(""), fc.constantFrom(...tokens), fc.string({ unit: "binary", maxLength: 2 })),
  });
  const mutated = (base: fc.Arbitrary<string>) =>
    fc.tuple(base, fc.array(edit, { minLength: 1, maxLength: 4 })).map(([input, edits]) =>
      edits.reduce((acc, { at, remove, insert }) => {
        const position = at % (acc.length + 1);
        return acc.slice(0, position) + insert + acc.slice(position + remove);
      }, input),
    );

  it("fails cleanly on edited topologies, and agrees with protobuf-es when both accept", () => {
    const bases = fc.oneof(
      fc.constant(upstreamAlpine),
      topology.map((t) => toTextFormat(topo.TopologySchema, t, { registry: vendorDataRegistry })),
    );
    fc.assert(
      fc.property(mutated(bases), (input) => {
        const ours = parseOrFailCleanly(topo.TopologySchema, input, vendorDataRegistry);
        let theirs: Message | undefined;
        try {
          theirs = fromText(topo.TopologySchema, input, { registry: vendorDataRegistry });
        } catch {
          theirs = undefined;
        }
        if (ours !== undefined && theirs !== undefined) {
          expect(equals(topo.TopologySchema, ours as topo.Topology, theirs as topo.Topology, { registry: vendorDataRegistry, unpackAny: true })).toBe(true);
        }
      }),
      { numRuns: NUM_RUNS, interruptAfterTimeLimit: SHRINK_TIME_LIMIT_MS },
    );
  });

  it("fails cleanly on edited messages of every field type", () => {
    const bases = scalars.map((m) => toTextFormat(ScalarsSchema, m, { registry: testRegistry }));
    fc.assert(
      fc.property(mutated(bases), (input) => {
        parseOrFailCleanly(ScalarsSchema, input, testRegistry);
      }),
      { numRuns: NUM_RUNS, interruptAfterTimeLimit: SHRINK_TIME_LIMIT_MS },
    );
  });
});
