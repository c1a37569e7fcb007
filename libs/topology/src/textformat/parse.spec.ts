import { create, toBinary, type DescMessage, type Message } from "@bufbuild/protobuf";
import { topo, vendorDataRegistry, alpine } from "@kne/proto";
import { describe, expect, it } from "vitest";
import { TopologyParseError, type Problem } from "../errors";
import { MAX_NESTING_DEPTH, parseTextFormat, toTextFormat, type TextFormatOptions } from "./index";
import { LegacySchema, ScalarsSchema, testRegistry } from "./test-fixtures";

// Test messages are read through property names; the test schema has no generated types.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Loose = Record<string, any>;

function parse(text: string, schema: DescMessage = ScalarsSchema, options: TextFormatOptions = { registry: testRegistry }): Loose {
  return parseTextFormat(schema, text, options) as Loose;
}

function problemOf(text: string, schema: DescMessage = ScalarsSchema, options: TextFormatOptions = { registry: testRegistry }): Problem {
  try {
    parseTextFormat(schema, text, options);
  } catch (e) {
    if (e instanceof TopologyParseError) return e.problem;
    throw e;
  }
  throw new Error(`parsed without error: ${text}`);
}

function topology(text: string): topo.Topology {
  return parseTextFormat(topo.TopologySchema, text, { file: "t.pb.txt", registry: vendorDataRegistry });
}

function topologyProblem(text: string): Problem {
  return problemOf(text, topo.TopologySchema, { file: "t.pb.txt", registry: vendorDataRegistry });
}

describe("parseTextFormat: layout", () => {
  it("reads an empty input as the zero message", () => {
    expect(parse("")).toEqual(parse("  # only a comment\n\n"));
    expect(parse("").fString).toBe("");
  });

  it("skips comments, whitespace of every kind, and optional separators", () => {
    const m = parse('# head\nf_int32: 1, f_string: "a";\t\v\f\r\nf_bool: true # tail');
    expect([m.fInt32, m.fString, m.fBool]).toEqual([1, "a", true]);
  });

  it("accepts CRLF line endings, a byte order mark, and no final newline", () => {
    const m = parse('\uFEFFf_int32: 1\r\nf_string: "x"\r\nf_message {\r\n  f_int32: 2\r\n}');
    expect([m.fInt32, m.fString, m.fMessage.fInt32]).toEqual([1, "x", 2]);
    expect(problemOf("\uFEFFf_int32: x")).toMatchObject({ line: 1, col: 10 });
    expect(problemOf("f_int32: 1\r\nf_int32: 2")).toMatchObject({ line: 2, col: 1 });
  });

  it("counts columns in code points", () => {
    expect(problemOf('f_string: "é😀" f_int32: x')).toMatchObject({ line: 1, col: 25 });
    expect(problemOf('f_string: "😀"\n\n  f_int32: x')).toMatchObject({ line: 3, col: 12 });
  });

  it("takes message values in braces or angle brackets, with or without a colon", () => {
    const m = parse("f_message { f_int32: 1 } r_message: < f_int32: 2 > r_message < f_int32: 3 >");
    expect(m.fMessage.fInt32).toBe(1);
    expect(m.rMessage.map((x: Loose) => x.fInt32)).toEqual([2, 3]);
  });

  it("rejects a close bracket that does not match the open one", () => {
    expect(problemOf("f_message { f_int32: 1 >")).toMatchObject({ line: 1, col: 24, message: expect.stringContaining('unexpected ">"') });
    expect(problemOf("f_message < f_int32: 1 }")).toMatchObject({ col: 24, message: expect.stringContaining('unexpected "}"') });
  });

  it("rejects an unclosed message and a stray close", () => {
    expect(problemOf("f_message {\n  f_int32: 1\n")).toMatchObject({ line: 3, col: 1, message: 'unexpected end of input: missing "}"', path: "f_message" });
    expect(problemOf("f_int32: 1 }")).toMatchObject({ col: 12, message: 'unexpected "}": no message is open' });
  });

  it("requires a colon before scalar values", () => {
    expect(problemOf("f_int32 1")).toMatchObject({ col: 9, path: "f_int32", message: 'expected ":" after field name "f_int32", got 1' });
    expect(problemOf("r_int32 [1]")).toMatchObject({ col: 9, path: "r_int32" });
  });

  it("rejects a doubled separator and unexpected characters", () => {
    expect(problemOf("f_int32: 1,, f_bool: true")).toMatchObject({ col: 12, message: 'expected a field name, got ","' });
    expect(problemOf("f_int32: 1 @")).toMatchObject({ col: 12, message: 'unexpected character "@"' });
    expect(problemOf("f_string: \u00e9")).toMatchObject({ col: 11, message: "unexpected character U+00E9" });
  });
});

describe("parseTextFormat: strings and bytes", () => {
  it("reads single and double quotes and joins adjacent literals", () => {
    expect(parse(`f_string: 'it"s'`).fString).toBe('it"s');
    expect(parse(`f_string: "a" 'b'\n  # between\n  "c"`).fString).toBe("abc");
    expect(parse(`f_string: "first""second"'third'`).fString).toBe("firstsecondthird");
  });

  it("resolves every escape", () => {
    const m = parse(String.raw`f_string: "\a\b\f\n\r\t\v\\\'\"\?"`);
    expect(m.fString).toBe("\x07\b\f\n\r\t\v\\'\"?");
    expect(parse(String.raw`f_string: "\101\1012\x41\x412\u00e9\U0001F600\uD83D\uDE00"`).fString).toBe("AA2AA2é😀😀");
    expect(parse(String.raw`f_string: "\0\12x"`).fString).toBe("\0\nx");
  });

  it("keeps raw bytes in bytes fields", () => {
    expect(parse(String.raw`f_bytes: "\377\x00a\xfF" "é"`).fBytes).toEqual(new Uint8Array([0xff, 0, 0x61, 0xff, 0xc3, 0xa9]));
    expect(parse(`f_bytes: "plain"`).fBytes).toEqual(new TextEncoder().encode("plain"));
    expect(parse(`r_bytes: ["", "\\001"]`).rBytes).toEqual([new Uint8Array(0), new Uint8Array([1])]);
  });

  it("accepts byte escapes in strings only when they form UTF-8", () => {
    expect(parse(String.raw`f_string: "\303\251"`).fString).toBe("é");
    expect(parse(String.raw`f_string: "\xc3" "\xa9"`).fString).toBe("é");
    expect(problemOf(String.raw`f_int32: 1 f_string: "ok" "\xff"`)).toMatchObject({ col: 22, path: "f_string", message: expect.stringContaining("not valid UTF-8") });
  });

  it("rejects malformed strings where they go wrong", () => {
    expect(problemOf(`f_string: "abc`)).toMatchObject({ col: 11, message: "unterminated string: missing closing quote" });
    expect(problemOf(`f_string: "ab\ncd"`)).toMatchObject({ line: 1, col: 11, message: expect.stringContaining("newline") });
    expect(problemOf(String.raw`f_string: "ab\qc"`)).toMatchObject({ col: 14, message: 'invalid escape "\\q" in string' });
    expect(problemOf(String.raw`f_string: "\777"`)).toMatchObject({ col: 12, message: expect.stringContaining("octal") });
    expect(problemOf(String.raw`f_string: "\xg"`)).toMatchObject({ col: 12 });
    expect(problemOf(String.raw`f_string: "\u12"`)).toMatchObject({ col: 12, message: expect.stringContaining("4 hexadecimal digits") });
    expect(problemOf(String.raw`f_string: "\U00110000"`)).toMatchObject({ message: expect.stringContaining("U+10FFFF") });
    expect(problemOf(String.raw`f_string: "\uD800x"`)).toMatchObject({ message: expect.stringContaining("surrogate") });
    expect(problemOf(String.raw`f_string: "\uDC00"`)).toMatchObject({ message: expect.stringContaining("surrogate") });
    expect(problemOf(`f_string: "a\0b"`)).toMatchObject({ col: 13, message: expect.stringContaining("NUL") });
    expect(problemOf(`f_string: "a\\`)).toMatchObject({ message: "unterminated string: missing closing quote" });
  });

  it("replaces lone UTF-16 surrogates in the input, as any UTF-8 encoding would", () => {
    expect(parse('f_string: "a\uD800b"').fString).toBe("a\uFFFDb");
    expect(parse('f_string: "\uDC00" "x"').fString).toBe("\uFFFDx");
    expect(parse('f_string: "\uD83D\uDE00"').fString).toBe("😀");
    expect(parse('f_bytes: "\uD800"').fBytes).toEqual(new Uint8Array([0xef, 0xbf, 0xbd]));
  });

  it("rejects values of the wrong kind", () => {
    expect(problemOf("f_string: 12")).toMatchObject({ path: "f_string", message: "expected a string, got 12" });
    expect(problemOf('f_string: -"a"')).toMatchObject({ message: 'expected a string, got "-"' });
  });
});

describe("parseTextFormat: integers", () => {
  it("reads decimal, octal and hexadecimal, signed or not", () => {
    const m = parse("f_int32: -0x10 f_uint32: 017 f_sint32: -2147483648 f_fixed32: 0xFFFFFFFF f_sfixed32: 0");
    expect([m.fInt32, m.fUint32, m.fSint32, m.fFixed32, m.fSfixed32]).toEqual([-16, 15, -2147483648, 4294967295, 0]);
    expect(Object.is(parse("f_int32: -0").fInt32, 0)).toBe(true);
  });

  it("reads long literals of small values", () => {
    expect(parse("f_int32: 00000000000000000000000012").fInt32).toBe(10);
    expect(parse("f_bool: 0x00000000000000000000001").fBool).toBe(true);
    expect(parse("f_enum: 0000000000000000000000002").fEnum).toBe(2);
  });

  it("allows whitespace and comments between the sign and the number", () => {
    expect(parse("f_int32: - 5").fInt32).toBe(-5);
    expect(parse("f_int32: -\n  # comment\n  5").fInt32).toBe(-5);
  });

  it("reads 64-bit fields as bigint, or string for jstype = JS_STRING", () => {
    const m = parse(
      "f_int64: -9223372036854775808 f_uint64: 18446744073709551615 f_sint64: 0x7FFFFFFFFFFFFFFF f_fixed64: 01777777777777777777777 f_sfixed64: -1 f_int64_string: -12 r_int64: [1, 2]",
    );
    expect([m.fInt64, m.fUint64, m.fSint64, m.fFixed64, m.fSfixed64]).toEqual([
      -(2n ** 63n),
      2n ** 64n - 1n,
      2n ** 63n - 1n,
      2n ** 64n - 1n,
      -1n,
    ]);
    expect(m.fInt64String).toBe("-12");
    expect(m.rInt64).toEqual([1n, 2n]);
  });

  it.each([
    ["f_int32: 2147483648", "2147483648 is out of range for int32"],
    ["f_int32: -2147483649", "-2147483649 is out of range for int32"],
    ["f_uint32: 4294967296", "4294967296 is out of range for uint32"],
    ["f_uint32: 0x100000000", "0x100000000 is out of range for uint32"],
    ["f_int64: 9223372036854775808", "9223372036854775808 is out of range for int64"],
    ["f_int64: -9223372036854775809", "-9223372036854775809 is out of range for int64"],
    ["f_uint64: 18446744073709551616", "18446744073709551616 is out of range for uint64"],
    ["f_int32: 99999999999999999999999999", "99999999999999999999999999 is out of range for int32"],
  ])("checks the range: %s", (text, message) => {
    expect(problemOf(text)).toMatchObject({ line: 1, path: text.split(":")[0], message });
  });

  it("rejects a sign on unsigned fields, even -0", () => {
    expect(problemOf("f_uint32: -0")).toMatchObject({ col: 11, message: "a uint32 field cannot be negative" });
    expect(problemOf("f_fixed64: -1")).toMatchObject({ col: 12, message: "a uint64 field cannot be negative" });
  });

  it("rejects floats and words in integer fields", () => {
    expect(problemOf("f_int32: 1.5")).toMatchObject({ col: 10, message: "expected an integer for a int32 field, got 1.5" });
    expect(problemOf("f_int32: 1e3")).toMatchObject({ message: expect.stringContaining("got 1e3") });
    expect(problemOf("f_int64: 10f")).toMatchObject({ message: expect.stringContaining("got 10f") });
    expect(problemOf("f_int32: inf")).toMatchObject({ message: expect.stringContaining('got "inf"') });
  });

  it("rejects malformed numbers", () => {
    expect(problemOf("f_int32: 10bar")).toMatchObject({ col: 10, message: 'invalid number "10bar"' });
    expect(problemOf("f_int32: 0x")).toMatchObject({ message: 'invalid number "0x"' });
    expect(problemOf("f_int32: 08")).toMatchObject({ message: 'invalid number "08"' });
    expect(problemOf("f_double: 1.2.3")).toMatchObject({ message: 'invalid number "1.2.3"' });
    expect(problemOf("f_double: 1e")).toMatchObject({ message: 'invalid number "1e"' });
  });

  it("ends a number at a bracket or separator", () => {
    expect(parse("r_int32: [1,2]f_int32: 3,f_bool: true").rInt32).toEqual([1, 2]);
  });
});

describe("parseTextFormat: floating point", () => {
  it("reads every float form", () => {
    const values = ["1.5", ".5", "1.", "1e3", "1E-3", "1.5e+2", "10f", "1.0F", "0", "-2", "- 2.5", "0f", "1.e2"].map(
      (v) => parse(`f_double: ${v}`).fDouble as number,
    );
    expect(values).toEqual([1.5, 0.5, 1, 1000, 0.001, 150, 10, 1, 0, -2, -2.5, 0, 100]);
  });

  it("reads inf, infinity and nan in any case, with a sign", () => {
    const values = ["inf", "-inf", "Infinity", "-INFINITY", "- inf", "nan", "NaN", "-nan"].map((v) => parse(`f_double: ${v}`).fDouble as number);
    expect(values.slice(0, 5)).toEqual([Infinity, -Infinity, Infinity, -Infinity, -Infinity]);
    expect(values.slice(5).every(Number.isNaN)).toBe(true);
  });

  it("rounds float fields to 32 bits, overflowing to infinity", () => {
    expect(parse("f_float: 0.1").fFloat).toBe(Math.fround(0.1));
    expect(parse("f_float: 1e39").fFloat).toBe(Infinity);
    expect(parse("f_float: -1e39").fFloat).toBe(-Infinity);
    expect(parse("f_double: 1e309").fDouble).toBe(Infinity);
    expect(Object.is(parse("f_double: -0").fDouble, -0)).toBe(true);
  });

  it("rejects octal, hexadecimal and words", () => {
    expect(problemOf("f_double: 0x10")).toMatchObject({ col: 11, message: expect.stringContaining("octal and hexadecimal") });
    expect(problemOf("f_float: 010")).toMatchObject({ message: expect.stringContaining("octal and hexadecimal") });
    expect(problemOf("f_double: infinite")).toMatchObject({ message: expect.stringContaining('got "infinite"') });
    expect(problemOf('f_double: "1"')).toMatchObject({ message: "expected a number for a double field, got a string" });
  });
});

describe("parseTextFormat: booleans and enums", () => {
  it.each([
    ["true", true],
    ["True", true],
    ["t", true],
    ["1", true],
    ["0x1", true],
    ["01", true],
    ["false", false],
    ["False", false],
    ["f", false],
    ["0", false],
    ["00", false],
  ])("reads bool %s", (text, value) => {
    expect(parse(`f_bool: ${text}`).fBool).toBe(value);
  });

  it.each(["2", "-1", "TRUE", "yes", '"true"', "1.0"])("rejects bool %s", (text) => {
    expect(problemOf(`f_bool: ${text}`)).toMatchObject({ path: "f_bool", message: expect.stringContaining("expected a bool") });
  });

  it("reads enums by name or number; numbers outside an open enum are kept", () => {
    expect(parse("f_enum: GREEN").fEnum).toBe(2);
    expect(parse("f_enum: 1").fEnum).toBe(1);
    expect(parse("f_enum: -7").fEnum).toBe(-7);
    expect(parse("r_enum: [RED, 2, COLOR_UNSPECIFIED]").rEnum).toEqual([1, 2, 0]);
  });

  it("rejects unknown names, signed names and out-of-range numbers", () => {
    expect(problemOf("f_enum: BLUE")).toMatchObject({
      col: 9,
      path: "f_enum",
      message: 'unknown value "BLUE" for enum tftest.Color (one of COLOR_UNSPECIFIED, RED, GREEN)',
    });
    expect(problemOf("f_enum: -RED")).toMatchObject({ col: 9, message: 'invalid value "-RED" for enum tftest.Color' });
    expect(problemOf("f_enum: 2147483648")).toMatchObject({ message: "2147483648 is out of range for an enum" });
    expect(problemOf('f_enum: "RED"')).toMatchObject({ message: "expected a value of enum tftest.Color, got a string" });
  });

  it("rejects numbers outside a closed (proto2) enum", () => {
    expect(parse('id: "x" shade: 2', LegacySchema).shade).toBe(2);
    expect(problemOf('id: "x" shade: 3', LegacySchema)).toMatchObject({ col: 16, message: "3 is not a value of closed enum tftest.Shade (one of DARK, LIGHT)" });
  });
});

describe("parseTextFormat: repeated fields", () => {
  it("combines repetition and list syntax, in order", () => {
    const m = parse("r_int32: 1 r_int32: [2, 3] r_int32: 4 r_int32: [] r_int32: [5]");
    expect(m.rInt32).toEqual([1, 2, 3, 4, 5]);
    expect(parse('r_string: ["a" "b", \'c\']').rString).toEqual(["ab", "c"]);
  });

  it("takes lists of messages, with or without a colon", () => {
    const m = parse("r_message: [{ f_int32: 1 }, < f_int32: 2 >] r_message [] r_message { f_int32: 3 }");
    expect(m.rMessage.map((x: Loose) => x.fInt32)).toEqual([1, 2, 3]);
  });

  it("rejects a malformed list", () => {
    expect(problemOf("r_int32: [1 2]")).toMatchObject({ col: 13, path: "r_int32", message: 'expected "," or "]" in a list, got 2' });
    expect(problemOf("r_int32: [1,]")).toMatchObject({ col: 13, path: "r_int32[1]" });
    expect(problemOf("r_message: [{}, 3]")).toMatchObject({ col: 17, path: "r_message[1]" });
    expect(problemOf("r_int32: [1, 2")).toMatchObject({ message: 'expected "," or "]" in a list, got end of input' });
  });

  it("rejects a list and a second value for a field that is not repeated", () => {
    expect(problemOf("f_int32: [1]")).toMatchObject({ col: 10, path: "f_int32", message: 'field "f_int32" is not repeated, so it cannot take a list' });
    expect(problemOf("f_message: [{}]")).toMatchObject({ col: 12, path: "f_message" });
    expect(problemOf("f_int32: 1\nf_bool: true\nf_int32: 1")).toMatchObject({
      line: 3,
      col: 1,
      path: "f_int32",
      message: 'field "f_int32" is given more than once, but it is not repeated',
    });
    expect(problemOf("f_message {} f_message {}")).toMatchObject({ col: 14, path: "f_message" });
  });
});

describe("parseTextFormat: maps", () => {
  it("reads entries with every key type", () => {
    const m = parse(`
      m_string { key: "a" value: "x" }
      m_int32 { key: -3 value: "y" }
      m_int64 { key: 9223372036854775807 value { f_int32: 1 } }
      m_uint64 { key: 0xFFFFFFFFFFFFFFFF value: 7 }
      m_bool { key: true value: GREEN }
      m_bool { key: f value: RED }
      m_uint32 { key: 4294967295 value: "\\001" }
    `);
    expect(m.mString).toEqual({ a: "x" });
    expect(m.mInt32).toEqual({ "-3": "y" });
    expect(m.mInt64["9223372036854775807"].fInt32).toBe(1);
    expect(m.mUint64).toEqual({ "18446744073709551615": 7 });
    expect(m.mBool).toEqual({ true: 2, false: 1 });
    expect(m.mUint32).toEqual({ "4294967295": new Uint8Array([1]) });
  });

  it("takes list syntax, key after value, separators and angle brackets", () => {
    const m = parse('m_string: [{ key: "a" value: "1" }, < value: "2"; key: "b" >] m_string []');
    expect(m.mString).toEqual({ a: "1", b: "2" });
  });

  it("defaults a missing key or value to zero, and keeps the last of duplicate keys", () => {
    const m = parse('m_string { value: "v" } m_int32 { key: 1 } m_int64 { key: 2 } m_string { key: "k" value: "1" } m_string { key: "k" value: "2" }');
    expect(m.mString).toEqual({ "": "v", k: "2" });
    expect(m.mInt32).toEqual({ 1: "" });
    expect(m.mInt64["2"].$typeName).toBe("tftest.Scalars");
  });

  it("adds a __proto__ key as an entry, not as the map's prototype", () => {
    const m = parse('m_string { key: "__proto__" value: "x" }');
    expect(Object.keys(m.mString)).toEqual(["__proto__"]);
    expect(Object.getPrototypeOf(m.mString)).toBe(Object.prototype);
    expect(toTextFormat(ScalarsSchema, m as Message)).toBe('m_string {\n  key: "__proto__"\n  value: "x"\n}\n');
  });

  it("rejects malformed entries", () => {
    expect(problemOf('m_string { key: "a" key: "b" }')).toMatchObject({ col: 21, path: "m_string.key", message: "map entry key is given more than once" });
    expect(problemOf('m_string { key: "a" value: "b" value: "c" }')).toMatchObject({ col: 32, path: "m_string[a]" });
    expect(problemOf('m_string { key: "a" other: 1 }')).toMatchObject({ path: "m_string.other", message: expect.stringContaining('unknown field "other" in a map entry') });
    expect(problemOf("m_string { key: 1 }")).toMatchObject({ col: 17, path: "m_string.key", message: "expected a string, got 1" });
    expect(problemOf('m_string { key "a" }')).toMatchObject({ col: 16, message: 'expected ":" after "key", got a string' });
    expect(problemOf('m_string { value "a" }')).toMatchObject({ col: 18, path: "m_string.value" });
    expect(problemOf("m_int64 { key: 1 value { f_int32: x } }")).toMatchObject({ col: 35, path: "m_int64[1].f_int32" });
    expect(problemOf("m_int64 { value { f_int32: x } key: 1 }")).toMatchObject({ path: "m_int64.value.f_int32" });
    expect(problemOf("m_int32: 1")).toMatchObject({ path: "m_int32", message: 'expected "{" to start a map entry, got 1' });
    expect(problemOf("m_bool { key: 2 }")).toMatchObject({ path: "m_bool.key", message: expect.stringContaining("expected a bool") });
    expect(problemOf("m_int32 { key: 1")).toMatchObject({ message: 'unexpected end of input: missing "}"' });
    expect(problemOf("m_int32 { 3 }")).toMatchObject({ message: 'expected "key" or "value" in a map entry, got 3' });
  });
});

describe("parseTextFormat: oneofs, optional, wrappers, reserved names", () => {
  it("sets a oneof member", () => {
    expect(parse('o_string: "x"').choice).toEqual({ case: "oString", value: "x" });
    expect(parse("o_message { f_int32: 1 }").choice.value.fInt32).toBe(1);
  });

  it("rejects two members of one oneof, naming both", () => {
    expect(problemOf('o_string: "x"\no_int32: 1')).toMatchObject({
      line: 2,
      col: 1,
      path: "o_int32",
      message: 'field "o_int32" and field "o_string" are both in oneof "choice": give only one',
    });
    expect(problemOf('o_string: "x" o_string: "y"')).toMatchObject({ message: 'field "o_string" is given more than once, but it is not repeated' });
  });

  it("tracks presence of proto3 optional fields, even at zero", () => {
    expect(parse("f_optional: 0").fOptional).toBe(0);
    expect(parse("").fOptional).toBeUndefined();
  });

  it("unwraps wrapper types as protobuf-es does", () => {
    expect(parse("f_wrapper { value: 5 }").fWrapper).toBe(5);
    expect(parse("f_wrapper {}").fWrapper).toBe(0);
  });

  it("keeps Struct fields as JSON objects and wrappers in lists as messages, as protobuf-es does", () => {
    const m = parse(`f_struct {
      fields { key: "a" value { number_value: 1 } }
      fields { key: "b" value { list_value { values { string_value: "x" } values { bool_value: true } } } }
      fields { key: "c" value { struct_value { fields { key: "d" value { null_value: NULL_VALUE } } } } }
    } r_wrapper { value: "w" }`);
    expect(m.fStruct).toEqual({ a: 1, b: ["x", true], c: { d: null } });
    expect(m.rWrapper).toEqual([expect.objectContaining({ value: "w" })]);
    expect(toTextFormat(ScalarsSchema, m as Message)).toContain('r_wrapper {\n  value: "w"\n}');
    expect(toTextFormat(ScalarsSchema, m as Message)).toContain('fields {\n    key: "a"\n    value {\n      number_value: 1\n    }\n  }');
  });

  it("skips reserved field names with any value", () => {
    const m = parse('old_name: 1 old_name: [1, "a", x] old_name { a: 1 b { c: [] } [x.y/z.W] {} } old_name: -inf old_name < > f_int32: 2');
    expect(m.fInt32).toBe(2);
  });
});

describe("parseTextFormat: proto2", () => {
  it("requires required fields", () => {
    expect(problemOf("shade: DARK", LegacySchema)).toMatchObject({ line: 1, col: 12, path: "id", message: 'missing required field "id" in tftest.Legacy' });
  });

  it("names groups by their type name", () => {
    const m = parse('id: "x" MyGroup { value: 3 }', LegacySchema);
    expect(m.mygroup.value).toBe(3);
    expect(problemOf('id: "x" mygroup { value: 3 }', LegacySchema)).toMatchObject({ message: expect.stringContaining('unknown field "mygroup"') });
  });

  it("keeps defaults of unset fields and presence of set ones", () => {
    const m = parse('id: "x"', LegacySchema);
    expect(m.withDefault).toBe(7);
    expect(Object.hasOwn(m, "withDefault")).toBe(false);
    expect(Object.hasOwn(parse('id: "x" with_default: 7', LegacySchema), "withDefault")).toBe(true);
  });

  it("decodes strings leniently where proto2 does not validate UTF-8", () => {
    expect(parse(String.raw`id: "\xff"`, LegacySchema).id).toBe("\uFFFD");
  });
});

describe("parseTextFormat: google.protobuf.Any", () => {
  const packed = toBinary(alpine.AlpineConfigSchema, create(alpine.AlpineConfigSchema, { containers: [{ name: "dataplane" }] }));

  it("expands [type URL] { ... } through the registry, keeping the URL", () => {
    const t = topology(`nodes { config { vendor_data { [type.googleapis.com/alpine.AlpineConfig] { containers { name: "dataplane" } } } } }`);
    expect(t.nodes[0]!.config!.vendorData).toMatchObject({ typeUrl: "type.googleapis.com/alpine.AlpineConfig", value: packed });
    const custom = topology(`nodes { config { vendor_data { [example.com/x/alpine.AlpineConfig]: < > } } }`);
    expect(custom.nodes[0]!.config!.vendorData!.typeUrl).toBe("example.com/x/alpine.AlpineConfig");
  });

  it("allows whitespace and comments inside the brackets", () => {
    const t = topology(`nodes { config { vendor_data { [ type.googleapis.com / # c\n alpine . AlpineConfig ] { } } } }`);
    expect(t.nodes[0]!.config!.vendorData!.typeUrl).toBe("type.googleapis.com/alpine.AlpineConfig");
  });

  it("reads the plain type_url and value fields", () => {
    const t = topology(`nodes { config { vendor_data { type_url: "type.googleapis.com/alpine.AlpineConfig" value: "\\n\\x0b\\n\\tdataplane" } } }`);
    expect(t.nodes[0]!.config!.vendorData!.value).toEqual(packed);
  });

  it("continues the field path inside the Any", () => {
    expect(topologyProblem(`nodes {}\nnodes { config { vendor_data { [type.googleapis.com/alpine.AlpineConfig] {\n  containers {}\n  containers { nme: "x" } } } } }`)).toEqual({
      file: "t.pb.txt",
      line: 4,
      col: 16,
      path: "nodes[1].config.vendor_data.containers[1].nme",
      message: 'unknown field "nme" in alpine.Container (did you mean "name"?)',
    });
  });

  it("rejects an unknown type URL, naming it", () => {
    expect(topologyProblem(`nodes { config { vendor_data { [type.googleapis.com/foo.Bar] {} } } }`)).toMatchObject({
      line: 1,
      col: 33,
      path: "nodes[0].config.vendor_data",
      message: 'unknown Any type "type.googleapis.com/foo.Bar": foo.Bar is not in the registry',
    });
    expect(problemOf("f_any { [type.googleapis.com/tftest.Scalars] {} }", ScalarsSchema, {})).toMatchObject({
      message: 'cannot expand Any type "type.googleapis.com/tftest.Scalars": no type registry was given',
    });
  });

  it("rejects mixing, repeating and malformed expansions", () => {
    const url = "[type.googleapis.com/tftest.Scalars]";
    expect(problemOf(`f_any { type_url: "x" ${url} {} }`)).toMatchObject({ col: 23, message: expect.stringContaining("both expanded and as type_url/value") });
    expect(problemOf(`f_any { ${url} {} value: "" }`)).toMatchObject({ col: 49, message: expect.stringContaining("both expanded and as type_url/value") });
    expect(problemOf(`f_any { ${url} {} ${url} {} }`)).toMatchObject({ col: 49, message: "google.protobuf.Any is expanded more than once" });
    expect(problemOf(`f_any { [tftest.Scalars] {} }`)).toMatchObject({ col: 10, message: expect.stringContaining("expected a type URL") });
    expect(problemOf(`f_any { [type.googleapis.com/] {} }`)).toMatchObject({ message: expect.stringContaining("expected a type URL") });
    expect(problemOf(`f_any { [type.googleapis.com/tftest.Scalars {} }`)).toMatchObject({ col: 45, message: expect.stringContaining('expected "]"') });
    expect(problemOf(`f_any { ${url} }`)).toMatchObject({ message: expect.stringContaining('expected "{" to start a tftest.Scalars message') });
  });

  it("rejects extension syntax clearly", () => {
    expect(problemOf("[tftest.ext]: 1")).toMatchObject({ col: 2, message: "extension fields are not supported: [tftest.ext] in tftest.Scalars" });
    expect(problemOf("[type.googleapis.com/tftest.Scalars] {}")).toMatchObject({ message: expect.stringContaining("tftest.Scalars is not one") });
  });
});

describe("parseTextFormat: unknown fields and nesting", () => {
  it("names the unknown field, its message type and the path", () => {
    expect(topologyProblem(`name: "t"\nlinks {\n    field_dne: "r1"\n}`)).toEqual({
      file: "t.pb.txt",
      line: 3,
      col: 5,
      path: "links[0].field_dne",
      message: 'unknown field "field_dne" in topo.Link',
    });
  });

  it("suggests a close name, another case, or the proto name of a JSON name", () => {
    expect(topologyProblem("links { a_nod: 'x' }").message).toContain('(did you mean "a_node"?)');
    expect(topologyProblem("links { A_NODE: 'x' }").message).toContain('(did you mean "a_node"?)');
    expect(topologyProblem("links { aNode: 'x' }").message).toContain('(did you mean "a_node"?)');
    expect(topologyProblem("links { zzzzzzzz: 'x' }").message).toBe('unknown field "zzzzzzzz" in topo.Link');
  });

  it("rejects field numbers as names", () => {
    expect(problemOf("3: 1")).toMatchObject({ col: 1, message: "expected a field name, got 3" });
  });

  it(`accepts ${MAX_NESTING_DEPTH} levels of nesting and rejects more without exhausting the stack`, () => {
    const nested = (depth: number) => "f_message { ".repeat(depth) + "}".repeat(depth);
    expect(() => parse(nested(MAX_NESTING_DEPTH))).not.toThrow();
    expect(problemOf(nested(MAX_NESTING_DEPTH + 1))).toMatchObject({ col: 11 + 12 * MAX_NESTING_DEPTH, message: "messages are nested more than 100 levels deep" });
    expect(problemOf("f_message {".repeat(100_000))).toMatchObject({ message: "messages are nested more than 100 levels deep" });
    expect(problemOf("m_int64 { value { ".repeat(60))).toMatchObject({ message: "messages are nested more than 100 levels deep" });
    expect(problemOf("old_name {".repeat(100_000))).toMatchObject({ message: "messages are nested more than 100 levels deep" });
  });
});

describe("parseTextFormat: topology paths", () => {
  it("names repeated fields by index and map entries by key", () => {
    expect(topologyProblem(`nodes { name: "a" }\nnodes { config { file: 3 } }`)).toMatchObject({ line: 2, col: 24, path: "nodes[1].config.file" });
    expect(topologyProblem(`nodes { interfaces { key: "eth1" value { mtu: -1 } } }`)).toMatchObject({
      col: 47,
      path: "nodes[0].interfaces[eth1].mtu",
      message: "a uint32 field cannot be negative",
    });
    expect(topologyProblem(`nodes { services { key: 22 value { inside: "x" } } }`)).toMatchObject({ path: "nodes[0].services[22].inside" });
  });

  it("rejects both members of the config oneof", () => {
    expect(topologyProblem(`nodes { config { file: "a" data: "b" } }`)).toMatchObject({
      col: 28,
      path: "nodes[0].config.data",
      message: 'field "data" and field "file" are both in oneof "config_data": give only one',
    });
  });

  it("leaves the file out of the problem when none is given", () => {
    expect(problemOf("x: 1", topo.TopologySchema, {})).toEqual({ line: 1, col: 1, path: "x", message: 'unknown field "x" in topo.Topology' });
  });

  it("returns a generated message type", () => {
    const t = topology(`name: "t" nodes { name: "r1" vendor: ARISTA services { key: 22 value { inside: 22 } } } links { a_node: "r1" }`);
    expect(t.$typeName).toBe("topo.Topology");
    expect(t.nodes[0]!.vendor).toBe(topo.Vendor.ARISTA);
    expect(t.nodes[0]!.services[22]!.inside).toBe(22);
    expect(t.links[0]!.aNode).toBe("r1");
  });
});
