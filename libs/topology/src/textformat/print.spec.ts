import { create, equals, toBinary, type DescMessage, type Message } from "@bufbuild/protobuf";
import { anyPack } from "@bufbuild/protobuf/wkt";
import { alpine, topo, vendorDataRegistry } from "@kne/proto";
import { describe, expect, it } from "vitest";
import { parseTextFormat, toTextFormat } from "./index";
import { LegacySchema, ScalarsSchema, testRegistry } from "./test-fixtures";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Loose = Record<string, any>;

function scalars(init: Loose): Message {
  return create(ScalarsSchema, init);
}

function print(message: Message, schema: DescMessage = ScalarsSchema): string {
  return toTextFormat(schema, message, { registry: testRegistry });
}

/** Writes, reads back, and checks that the message survived. */
function roundTrip(message: Message, schema: DescMessage = ScalarsSchema): string {
  const text = print(message, schema);
  const back = parseTextFormat(schema, text, { registry: testRegistry });
  expect(equals(schema, back, message, { registry: testRegistry, unpackAny: true })).toBe(true);
  return text;
}

describe("toTextFormat", () => {
  it("writes a topology canonically: fields by number, two-space indent, sorted map keys", () => {
    const t = create(topo.TopologySchema, {
      name: "t",
      links: [{ aNode: "r1", aInt: "eth1", zNode: "r2", zInt: "eth1", adminState: topo.LinkState.DOWN }],
      nodes: [
        {
          vendor: topo.Vendor.ARISTA,
          name: "r1",
          interfaces: { eth2: { name: "Ethernet2" }, eth10: { name: "Ethernet10", mtu: 9000 } },
          services: { 830: { name: "netconf", inside: 830 }, 22: { name: "ssh", inside: 22 } },
          config: { configData: { case: "file", value: "r1.cfg" }, image: "ceos:latest" },
        },
      ],
    });
    expect(toTextFormat(topo.TopologySchema, t)).toBe(
      [
        'name: "t"',
        "nodes {",
        '  name: "r1"',
        "  config {",
        '    image: "ceos:latest"',
        '    file: "r1.cfg"',
        "  }",
        "  services {",
        "    key: 22",
        "    value {",
        '      name: "ssh"',
        "      inside: 22",
        "    }",
        "  }",
        "  services {",
        "    key: 830",
        "    value {",
        '      name: "netconf"',
        "      inside: 830",
        "    }",
        "  }",
        "  vendor: ARISTA",
        "  interfaces {",
        '    key: "eth10"',
        "    value {",
        '      name: "Ethernet10"',
        "      mtu: 9000",
        "    }",
        "  }",
        "  interfaces {",
        '    key: "eth2"',
        "    value {",
        '      name: "Ethernet2"',
        "    }",
        "  }",
        "}",
        "links {",
        '  a_node: "r1"',
        '  a_int: "eth1"',
        '  z_node: "r2"',
        '  z_int: "eth1"',
        "  admin_state: LINK_STATE_DOWN",
        "}",
        "",
      ].join("\n"),
    );
  });

  it("writes nothing for a zero message, and takes another indent", () => {
    expect(print(scalars({}))).toBe("");
    expect(toTextFormat(ScalarsSchema, scalars({ fMessage: { fInt32: 1 } }), { indent: "\t" })).toBe("f_message {\n\tf_int32: 1\n}\n");
    expect(print(scalars({ fMessage: {} }))).toBe("f_message {\n}\n");
  });

  it("escapes strings so that they read back, keeping other characters as they are", () => {
    const text = roundTrip(scalars({ fString: 'q"b\\n\n\r\t\x00\x07\x7fé😀 \u2028' }));
    expect(text).toBe('f_string: "q\\"b\\\\n\\n\\r\\t\\000\\007\\177é😀 \u2028"\n');
  });

  it("writes bytes as printable ASCII and octal escapes", () => {
    const text = roundTrip(scalars({ fBytes: new Uint8Array([0x61, 0x22, 0x5c, 0, 0xff, 0x0a, 0x31]) }));
    expect(text).toBe('f_bytes: "a\\"\\\\\\000\\377\\n1"\n');
  });

  it("writes floats with the fewest digits that read back exactly", () => {
    expect(print(scalars({ fDouble: 0.1, fFloat: Math.fround(0.1) }))).toBe("f_double: 0.1\nf_float: 0.1\n");
    expect(print(scalars({ fDouble: 1e21, fFloat: Math.fround(3.4e38) }))).toBe("f_double: 1e+21\nf_float: 3.4e+38\n");
    expect(print(scalars({ fDouble: 5e-324, fFloat: Math.fround(1e-45) }))).toBe("f_double: 5e-324\nf_float: 1e-45\n");
    expect(print(scalars({ rDouble: [Infinity, -Infinity, NaN, -0, 123456789.12345679] }))).toBe(
      "r_double: inf\nr_double: -inf\nr_double: nan\nr_double: -0\nr_double: 123456789.12345679\n",
    );
    roundTrip(scalars({ fDouble: Number.MAX_VALUE, fFloat: Math.fround(16777217), rDouble: [Number.MIN_VALUE, -0, 1 / 3] }));
  });

  it("writes 64-bit integers, enums by name, and unknown enum numbers as numbers", () => {
    const text = roundTrip(scalars({ fInt64: -(2n ** 63n), fUint64: 2n ** 64n - 1n, fInt64String: "-5", fEnum: 2, rEnum: [1, 7, -3] }));
    expect(text).toBe("f_int64: -9223372036854775808\nf_uint64: 18446744073709551615\nf_enum: GREEN\nr_enum: RED\nr_enum: 7\nr_enum: -3\nf_int64_string: -5\n");
  });

  it("sorts map keys by value, whatever their type", () => {
    const text = print(
      scalars({
        mInt32: { 10: "a", "-2": "b", 3: "c" },
        mUint64: { "18446744073709551615": 1, "9": 2 },
        mBool: { true: 1, false: 2 },
      }),
    );
    expect(text.match(/key: \S+/g)).toEqual(["key: -2", "key: 3", "key: 10", "key: 9", "key: 18446744073709551615", "key: false", "key: true"]);
  });

  it("writes oneofs, optional zero values, wrappers, and map values that are zero", () => {
    const text = roundTrip(scalars({ choice: { case: "oInt32", value: 0 }, fOptional: 0, fWrapper: 0, mString: { "": "" } }));
    expect(text).toBe('m_string {\n  key: ""\n  value: ""\n}\no_int32: 0\nf_wrapper {\n}\nf_optional: 0\n');
  });

  it("writes proto2 groups by type name and skips unset defaults", () => {
    const legacy = parseTextFormat(LegacySchema, 'id: "x" MyGroup { value: 1 } shade: DARK');
    expect(roundTrip(legacy, LegacySchema)).toBe('id: "x"\nshade: DARK\nMyGroup {\n  value: 1\n}\n');
  });

  describe("google.protobuf.Any", () => {
    const config = create(alpine.AlpineConfigSchema, { containers: [{ name: "dataplane", args: ["-v"] }] });
    const withAny = (any: Loose) => create(topo.TopologySchema, { nodes: [{ config: { vendorData: any } }] });

    it("expands an Any whose type the registry knows", () => {
      const t = withAny(anyPack(alpine.AlpineConfigSchema, config));
      expect(toTextFormat(topo.TopologySchema, t, { registry: vendorDataRegistry })).toBe(
        [
          "nodes {",
          "  config {",
          "    vendor_data {",
          "      [type.googleapis.com/alpine.AlpineConfig] {",
          "        containers {",
          '          name: "dataplane"',
          '          args: "-v"',
          "        }",
          "      }",
          "    }",
          "  }",
          "}",
          "",
        ].join("\n"),
      );
    });

    it("writes type_url and value when it cannot expand", () => {
      const packed = anyPack(alpine.AlpineConfigSchema, config);
      const raw = `type_url: "type.googleapis.com/alpine.AlpineConfig"\n      value: "\\n\\017\\n\\tdataplane\\"\\002-v"`;
      expect(toTextFormat(topo.TopologySchema, withAny(packed))).toContain(raw);
      const unknown = withAny({ typeUrl: "type.googleapis.com/foo.Bar", value: new Uint8Array([8, 1]) });
      expect(toTextFormat(topo.TopologySchema, unknown, { registry: vendorDataRegistry })).toContain('type_url: "type.googleapis.com/foo.Bar"');
      const corrupt = withAny({ typeUrl: "type.googleapis.com/alpine.AlpineConfig", value: new Uint8Array([0x0a, 0x05]) });
      expect(toTextFormat(topo.TopologySchema, corrupt, { registry: vendorDataRegistry })).toContain('value: "\\n\\005"');
      const oddUrl = withAny({ typeUrl: "no slash", value: new Uint8Array() });
      expect(toTextFormat(topo.TopologySchema, oddUrl, { registry: vendorDataRegistry })).toContain('type_url: "no slash"');
    });

    it("reads back both forms as the same message", () => {
      const t = withAny(anyPack(alpine.AlpineConfigSchema, config));
      for (const registry of [vendorDataRegistry, undefined]) {
        const text = toTextFormat(topo.TopologySchema, t, { registry });
        const back = parseTextFormat(topo.TopologySchema, text, { registry: vendorDataRegistry });
        expect(back.nodes[0]!.config!.vendorData!.value).toEqual(toBinary(alpine.AlpineConfigSchema, config));
      }
    });
  });

  it("round-trips a message that uses every field", () => {
    const text = `
      f_double: -1.25 f_float: 3.5 f_int32: -1 f_int64: 2 f_uint32: 3 f_uint64: 4 f_sint32: -5 f_sint64: -6
      f_fixed32: 7 f_fixed64: 8 f_sfixed32: -9 f_sfixed64: -10 f_bool: true f_string: "s" f_bytes: "\\001"
      f_enum: RED f_message { f_string: "inner" } r_int32: [1, -1] r_string: ["a", ""] r_enum: [GREEN]
      r_message: [{}, { f_int32: 1 }] r_double: [0.5, inf] r_bytes: ["\\377"] r_int64: [-1]
      m_string { key: "k" value: "v" } m_int32 { key: -1 value: "x" } m_int64 { key: 5 value { f_bool: true } }
      m_uint64 { key: 18446744073709551615 value: -2 } m_bool { key: false value: GREEN } m_uint32 { key: 1 value: "b" }
      o_message { r_int32: 3 } f_int64_string: 99 f_wrapper { value: -3 } f_optional: 0
      f_any { [type.googleapis.com/tftest.Scalars] { m_string { key: "b" value: "" } m_string { key: "a" value: "" } } }
    `;
    const first = parseTextFormat(ScalarsSchema, text, { registry: testRegistry });
    const written = roundTrip(first);
    expect(print(parseTextFormat(ScalarsSchema, written, { registry: testRegistry }))).toBe(written);
  });
});
