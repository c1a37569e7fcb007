/**
 * Test support: fast-check generators of topologies, including the awkward corners of
 * every format (escapes, integer map keys, 64-bit integers, bytes, Any payloads).
 */
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { anyPack } from "@bufbuild/protobuf/wkt";
import { alpine, topo } from "@kne/proto";
import fc from "fast-check";

/** Any text, including quotes, backslashes, control characters and non-BMP code points. */
const anyText = fc.string({ unit: "binary", maxLength: 12 });
const plainName = fc.stringMatching(/^[a-z][a-z0-9-]{0,8}$/);
const text = fc.oneof(plainName, anyText);
const port = fc.integer({ min: 0, max: 65535 });

const impairments: fc.Arbitrary<MessageInitShape<typeof topo.ImpairmentsSchema>> = fc.record(
  {
    // JSON.stringify writes -0 as 0, so the JSON leg of a round trip cannot keep the sign.
    lossPercent: fc.double({ noNaN: true }).map((value) => (Object.is(value, -0) ? 0 : value)),
    rateKbps: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
    delayUs: fc.integer({ min: 0, max: 2 ** 32 - 1 }),
    jitterUs: fc.integer({ min: 0, max: 1000 }),
    corruptionPercent: fc.double({ noNaN: true, min: 0, max: 100 }),
  },
  { requiredKeys: [] },
);

const alpineConfig = fc
  .record({
    containers: fc.array(fc.record({ name: text, image: text, command: fc.array(text, { maxLength: 2 }) }), { maxLength: 2 }),
    files: fc.option(
      fc.record({
        mountDir: text,
        files: fc.dictionary(
          plainName,
          fc.oneof(
            fc.record({ fileData: fc.record({ case: fc.constant("file" as const), value: text }) }),
            fc.record({ fileData: fc.record({ case: fc.constant("data" as const), value: fc.uint8Array({ maxLength: 8 }) }) }),
          ),
          { maxKeys: 2 },
        ),
      }),
      { nil: undefined },
    ),
  })
  .map((init) => anyPack(alpine.AlpineConfigSchema, create(alpine.AlpineConfigSchema, init)));

const config: fc.Arbitrary<MessageInitShape<typeof topo.ConfigSchema>> = fc.record(
  {
    command: fc.array(text, { maxLength: 3 }),
    image: text,
    env: fc.dictionary(text, text, { maxKeys: 2 }),
    configFile: text,
    sleep: fc.integer({ min: 0, max: 2 ** 32 - 1 }),
    configData: fc.oneof(
      fc.record({ case: fc.constant("file" as const), value: text }),
      fc.record({ case: fc.constant("data" as const), value: fc.uint8Array({ maxLength: 16 }) }),
    ),
    vendorData: alpineConfig,
  },
  { requiredKeys: [] },
);

const node: fc.Arbitrary<MessageInitShape<typeof topo.NodeSchema>> = fc.record(
  {
    name: text,
    vendor: fc.constantFrom(...topo.VendorSchema.values.map((v) => v.number as topo.Vendor)),
    model: text,
    labels: fc.dictionary(text, text, { maxKeys: 3 }),
    services: fc.dictionary(port.map(String), fc.record({ name: text, inside: port, names: fc.array(text, { maxLength: 2 }) }), { maxKeys: 3 }),
    interfaces: fc.dictionary(
      text,
      fc.record({ name: text, mtu: fc.integer({ min: 0, max: 9216 }), uid: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }) }, { requiredKeys: [] }),
      { maxKeys: 3 },
    ),
    config,
    hostConstraints: fc.array(
      fc.record({
        constraint: fc.record({
          case: fc.constant("kernelConstraint" as const),
          value: fc.record({
            name: text,
            ConstraintType: fc.record({
              case: fc.constant("boundedInteger" as const),
              value: fc.record({ minValue: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), maxValue: fc.bigInt({ min: 0n, max: 2n ** 63n - 1n }) }),
            }),
          }),
        }),
      }),
      { maxLength: 1 },
    ),
  },
  { requiredKeys: ["name"] },
);

const link: fc.Arbitrary<MessageInitShape<typeof topo.LinkSchema>> = fc.record(
  {
    aNode: text,
    aInt: text,
    zNode: text,
    zInt: text,
    adminState: fc.constantFrom(topo.LinkState.UNSPECIFIED, topo.LinkState.UP, topo.LinkState.DOWN),
    kind: fc.constantFrom(...topo.LinkKindSchema.values.map((v) => v.number as topo.LinkKind)),
    impairments,
    aToZ: impairments,
  },
  { requiredKeys: ["aNode", "zNode"] },
);

/** Any topology the schema can express (not necessarily a valid one). */
export const arbitraryTopology: fc.Arbitrary<topo.Topology> = fc
  .record({
    name: text,
    nodes: fc.array(node, { maxLength: 4 }),
    links: fc.array(link, { maxLength: 4 }),
    segments: fc.array(fc.record({ name: text, endpoints: fc.array(fc.record({ node: text, interface: text }), { maxLength: 2 }) }), { maxLength: 2 }),
  })
  .map((init) => create(topo.TopologySchema, init));
