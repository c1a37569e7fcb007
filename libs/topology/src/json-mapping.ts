/**
 * Reads YAML and JSON topologies: the protobuf JSON mapping, written as YAML or JSON.
 *
 * `fromJson` alone would do the decoding, but its errors name a protobuf field and not a
 * place in the file. So the document is first read into a source tree that keeps offsets
 * (./yaml-source, ./json-source) and walked against the message schema: the walk rejects
 * unknown fields and wrong-typed values at their exact line and column, and produces the
 * plain JSON value that `fromJson` then decodes.
 *
 * What the walk accepts beyond strict JSON, because YAML topologies are written that way
 * (upstream KNE's own examples do): integer map keys (`services: {22: ...}`), and YAML
 * scalars of the right kind (`.inf`, `0x10`). What it does not accept: a number where a
 * string belongs (`model: 5132` must be quoted), as the JSON mapping requires.
 */
import {
  fromJson,
  ScalarType,
  type DescEnum,
  type DescField,
  type DescMessage,
  type JsonObject,
  type JsonValue,
  type MessageShape,
  type Registry,
} from "@bufbuild/protobuf";
import { TopologyParseError } from "./errors";
import { appendField, appendIndex, FieldPositions, lazyLocator, type SourceLocator } from "./field-path";
import { parseJsonSource } from "./json-source";
import { maxSourceDepth, type ScalarValue, type SourceDocument, type SourceEntry, type SourceNode } from "./source-tree";
import { parseYamlSource } from "./yaml-source";

export interface JsonMappedParseOptions {
  /** YAML (the default; JSON documents are YAML too) or strict JSON. */
  syntax?: "yaml" | "json";
  /** The file name errors name. */
  file?: string;
  /** Resolves `@type` of `google.protobuf.Any` values. */
  registry?: Registry;
}

export interface JsonMappedParseResult<Desc extends DescMessage> {
  message: MessageShape<Desc>;
  /** Where a field (by source path, for example `nodes[1].name`) is written. */
  locate: SourceLocator;
}

/**
 * Parses YAML or JSON text into a message of `schema`. Throws TopologyParseError with the
 * file, line, column and field path of the first problem.
 */
export function parseJsonMapped<Desc extends DescMessage>(
  schema: Desc,
  text: string,
  options: JsonMappedParseOptions = {},
): JsonMappedParseResult<Desc> {
  const source = options.syntax === "json" ? parseJsonSource(text, options.file) : parseYamlSource(text, options.file);
  const walkerOptions = { source, file: options.file, registry: options.registry };
  const json = new JsonMappedWalker(walkerOptions).document(schema);
  let message: MessageShape<Desc>;
  try {
    message = fromJson(schema, json, { registry: options.registry });
  } catch (error) {
    // The walk checks what fromJson checks; this is the backstop for anything it missed.
    const reason = error instanceof Error ? error.message : String(error);
    throw new TopologyParseError({ file: options.file, line: 1, col: 1, path: "", message: reason });
  }
  const locate = lazyLocator(() => {
    const positions = new FieldPositions();
    new JsonMappedWalker({ ...walkerOptions, positions }).document(schema);
    return positions;
  });
  return { message, locate };
}

interface WalkerOptions {
  source: SourceDocument;
  file: string | undefined;
  registry: Registry | undefined;
  /** When given, every field's position is recorded (for locating validation problems). */
  positions?: FieldPositions;
}

/** Well-known types whose JSON form is not an object of fields; fromJson checks them. */
const specialJsonTypes = new Set([
  "google.protobuf.Any",
  "google.protobuf.Timestamp",
  "google.protobuf.Duration",
  "google.protobuf.FieldMask",
  "google.protobuf.Struct",
  "google.protobuf.Value",
  "google.protobuf.ListValue",
  "google.protobuf.DoubleValue",
  "google.protobuf.FloatValue",
  "google.protobuf.Int64Value",
  "google.protobuf.UInt64Value",
  "google.protobuf.Int32Value",
  "google.protobuf.UInt32Value",
  "google.protobuf.BoolValue",
  "google.protobuf.StringValue",
  "google.protobuf.BytesValue",
]);

const fieldsByJsonKey = new WeakMap<DescMessage, Map<string, DescField>>();

/** A message's fields by both spellings the JSON mapping accepts: `a_node` and `aNode`. */
function fieldByKey(desc: DescMessage, key: string): DescField | undefined {
  let table = fieldsByJsonKey.get(desc);
  if (!table) {
    table = new Map();
    for (const field of desc.fields) {
      table.set(field.name, field);
      table.set(field.jsonName, field);
    }
    fieldsByJsonKey.set(desc, table);
  }
  return table.get(key);
}

const int32Range = [-(2n ** 31n), 2n ** 31n - 1n] as const;
const uint32Range = [0n, 2n ** 32n - 1n] as const;
const int64Range = [-(2n ** 63n), 2n ** 63n - 1n] as const;
const uint64Range = [0n, 2n ** 64n - 1n] as const;
const maxFloat32 = 3.4028234663852886e38;

/**
 * What protobuf-es's base64 decoder accepts: standard or URL alphabet, `=` anywhere (it
 * restarts a group), spaces, tabs and newlines; and no group ending with a single character.
 */
function isDecodableBase64(text: string): boolean {
  if (!/^[A-Za-z0-9+/_\-=\n\r\t ]*$/.test(text)) return false;
  const lastGroup = text.slice(text.lastIndexOf("=") + 1).replace(/[\n\r\t ]/g, "");
  return lastGroup.length % 4 !== 1;
}

const loneSurrogate = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

function isNull(node: SourceNode): boolean {
  return node.kind === "scalar" && node.value === null;
}

class JsonMappedWalker {
  constructor(private readonly options: WalkerOptions) {}

  document(schema: DescMessage): JsonValue {
    const root = this.options.source.root;
    if (root === null || isNull(root)) return {};
    return this.message(schema, root, "", 0);
  }

  private fail(node: SourceNode, path: string, message: string): never {
    const { line, col } = this.options.source.position(node.offset);
    throw new TopologyParseError({ file: this.options.file, line, col, path, message });
  }

  private record(path: string, node: SourceNode): void {
    this.options.positions?.record(path, this.options.source.position(node.offset));
  }

  private message(desc: DescMessage, node: SourceNode, path: string, depth: number): JsonValue {
    if (depth > maxSourceDepth) this.fail(node, path, `nesting deeper than ${maxSourceDepth} levels`);
    if (desc.typeName === "google.protobuf.Any") return this.any(node, path, depth);
    if (specialJsonTypes.has(desc.typeName)) return this.plain(node, path, depth);
    if (node.kind !== "map") this.fail(node, path, `expected a mapping of ${desc.typeName} fields, got ${this.describe(node)}`);
    return this.fields(desc, node.entries, path, depth);
  }

  /** The fields of a message written as a mapping; `skip` is the `@type` entry of an Any. */
  private fields(desc: DescMessage, entries: SourceEntry[], path: string, depth: number, skip?: SourceEntry): JsonObject {
    const out: JsonObject = {};
    const seen = new Map<DescField, string>();
    const oneofSeen = new Map<string, string>();
    for (const entry of entries) {
      if (entry === skip) continue;
      const key = this.fieldKey(entry.key, path);
      const field = fieldByKey(desc, key);
      if (!field) this.fail(entry.key, appendField(path, key), `unknown field "${key}" in ${desc.typeName}`);
      const fieldPath = appendField(path, field.name);
      const earlier = seen.get(field);
      if (earlier !== undefined) {
        this.fail(entry.key, fieldPath, `field "${field.name}" is set twice (as "${earlier}" and "${key}")`);
      }
      seen.set(field, key);
      const value = entry.value;
      if (isNull(value)) {
        // null means "not set" in the JSON mapping.
        this.record(fieldPath, entry.key);
        continue;
      }
      if (field.oneof) {
        const other = oneofSeen.get(field.oneof.name);
        if (other !== undefined) {
          this.fail(entry.key, fieldPath, `only one of the "${field.oneof.name}" fields may be set, got "${other}" and "${field.name}"`);
        }
        oneofSeen.set(field.oneof.name, field.name);
      }
      this.record(fieldPath, value.kind === "scalar" ? value : entry.key);
      out[field.jsonName] = this.field(field, value, fieldPath, depth + 1);
    }
    return out;
  }

  /** A mapping key that names a field: a plain scalar. */
  private fieldKey(keyNode: SourceNode, path: string): string {
    if (keyNode.kind === "scalar" && keyNode.value !== null) return String(keyNode.value);
    return this.fail(keyNode, path, "a field name must be a plain key");
  }

  private any(node: SourceNode, path: string, depth: number): JsonObject {
    if (node.kind !== "map") this.fail(node, path, `expected a mapping with "@type", got ${this.describe(node)}`);
    const typeEntry = node.entries.find((entry) => entry.key.kind === "scalar" && entry.key.value === "@type");
    if (!typeEntry) this.fail(node, path, `google.protobuf.Any needs "@type" (for example "type.googleapis.com/alpine.AlpineConfig")`);
    const typePath = appendField(path, "@type");
    const typeNode = typeEntry.value;
    const typeUrl = typeNode.kind === "scalar" ? typeNode.value : undefined;
    if (typeof typeUrl !== "string" || typeUrl === "") this.fail(typeNode, typePath, `"@type" must be a type URL string`);
    const typeName = typeUrl.slice(typeUrl.lastIndexOf("/") + 1);
    const payloadDesc = this.options.registry?.getMessage(typeName);
    if (!payloadDesc) {
      this.fail(typeNode, typePath, `unknown type "${typeName}" (not a vendor_data message this system knows)`);
    }
    this.record(typePath, typeNode);
    if (specialJsonTypes.has(payloadDesc.typeName)) {
      // Well-known types keep their own JSON form under "value".
      const valueEntry = node.entries.find((entry) => entry !== typeEntry);
      return { "@type": typeUrl, value: valueEntry ? this.plain(valueEntry.value, appendField(path, "value"), depth + 1) : null };
    }
    return { "@type": typeUrl, ...this.fields(payloadDesc, node.entries, path, depth + 1, typeEntry) };
  }

  private field(field: DescField, node: SourceNode, path: string, depth: number): JsonValue {
    switch (field.fieldKind) {
      case "scalar":
        return this.scalar(field.scalar, node, path);
      case "enum":
        return this.enumValue(field.enum, node, path);
      case "message":
        return this.message(field.message, node, path, depth);
      case "list": {
        if (node.kind !== "list") this.fail(node, path, `expected a list, got ${this.describe(node)}`);
        return node.items.map((item, index) => {
          const itemPath = appendIndex(path, index);
          if (isNull(item)) this.fail(item, itemPath, "list items must not be null");
          this.record(itemPath, item);
          switch (field.listKind) {
            case "scalar":
              return this.scalar(field.scalar, item, itemPath);
            case "enum":
              return this.enumValue(field.enum, item, itemPath);
            case "message":
              return this.message(field.message, item, itemPath, depth + 1);
          }
        });
      }
      case "map": {
        if (node.kind !== "map") this.fail(node, path, `expected a mapping, got ${this.describe(node)}`);
        const out: JsonObject = {};
        for (const entry of node.entries) {
          const key = this.mapKey(field.mapKey, entry.key, path);
          const entryPath = appendIndex(path, key);
          if (Object.prototype.hasOwnProperty.call(out, key)) this.fail(entry.key, entryPath, `duplicate key ${key}`);
          if (isNull(entry.value)) this.fail(entry.key, entryPath, "map values must not be null");
          this.record(entryPath, entry.key);
          switch (field.mapKind) {
            case "scalar":
              out[key] = this.scalar(field.scalar, entry.value, entryPath);
              break;
            case "enum":
              out[key] = this.enumValue(field.enum, entry.value, entryPath);
              break;
            case "message":
              out[key] = this.message(field.message, entry.value, entryPath, depth + 1);
              break;
          }
        }
        return out;
      }
    }
  }

  private scalarValue(node: SourceNode, path: string, expected: string): ScalarValue {
    if (node.kind !== "scalar") this.fail(node, path, `expected ${expected}, got ${this.describe(node)}`);
    return node.value;
  }

  private scalar(type: ScalarType, node: SourceNode, path: string): JsonValue {
    switch (type) {
      case ScalarType.STRING: {
        const value = this.scalarValue(node, path, "a string");
        if (typeof value === "string") return this.wellFormed(value, node, path);
        const hint = typeof value === "number" || typeof value === "bigint" || typeof value === "boolean" ? " (quote it)" : "";
        return this.fail(node, path, `expected a string, got ${this.describe(node)}${hint}`);
      }
      case ScalarType.BYTES: {
        const value = this.scalarValue(node, path, "base64 bytes");
        if (typeof value === "string" && isDecodableBase64(value)) return value;
        return this.fail(node, path, `expected base64-encoded bytes, got ${this.describe(node)}`);
      }
      case ScalarType.BOOL: {
        const value = this.scalarValue(node, path, "true or false");
        if (typeof value === "boolean") return value;
        return this.fail(node, path, `expected true or false, got ${this.describe(node)}`);
      }
      case ScalarType.DOUBLE:
      case ScalarType.FLOAT:
        return this.floatingPoint(type, node, path);
      case ScalarType.INT32:
      case ScalarType.SINT32:
      case ScalarType.SFIXED32:
        return Number(this.integer(node, path, int32Range, "a 32-bit integer"));
      case ScalarType.UINT32:
      case ScalarType.FIXED32:
        return Number(this.integer(node, path, uint32Range, "an unsigned 32-bit integer"));
      case ScalarType.INT64:
      case ScalarType.SINT64:
      case ScalarType.SFIXED64:
        return this.integer(node, path, int64Range, "a 64-bit integer").toString();
      case ScalarType.UINT64:
      case ScalarType.FIXED64:
        return this.integer(node, path, uint64Range, "an unsigned 64-bit integer").toString();
    }
  }

  private floatingPoint(type: ScalarType, node: SourceNode, path: string): JsonValue {
    const value = this.scalarValue(node, path, "a number");
    let number: number;
    if (typeof value === "number") number = value;
    else if (typeof value === "bigint") number = Number(value);
    else if (typeof value === "string" && ["NaN", "Infinity", "-Infinity"].includes(value)) return value;
    else if (typeof value === "string" && /^-?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(value)) number = Number(value);
    else return this.fail(node, path, `expected a number, got ${this.describe(node)}`);
    if (Number.isNaN(number)) return "NaN";
    if (!Number.isFinite(number)) return number > 0 ? "Infinity" : "-Infinity";
    if (type === ScalarType.FLOAT && Math.abs(number) > maxFloat32) {
      this.fail(node, path, `${number} is out of range for a 32-bit float`);
    }
    return number;
  }

  private integer(node: SourceNode, path: string, [min, max]: readonly [bigint, bigint], expected: string): bigint {
    const value = this.scalarValue(node, path, expected);
    let integer: bigint | undefined;
    if (typeof value === "bigint") integer = value;
    else if (typeof value === "number" && Number.isInteger(value)) integer = BigInt(value);
    else if (typeof value === "string" && /^-?\d+$/.test(value)) integer = BigInt(value);
    if (integer === undefined) return this.fail(node, path, `expected ${expected}, got ${this.describe(node)}`);
    if (integer < min || integer > max) this.fail(node, path, `${integer} is out of range for ${expected} (${min}..${max})`);
    return integer;
  }

  private enumValue(desc: DescEnum, node: SourceNode, path: string): JsonValue {
    const value = this.scalarValue(node, path, `a ${desc.typeName} name`);
    if (typeof value === "string") {
      if (desc.values.some((v) => v.name === value)) return value;
      const names = desc.values.map((v) => v.name);
      const shown = names.length > 20 ? `${names.slice(0, 20).join(", ")}, ...` : names.join(", ");
      return this.fail(node, path, `unknown ${desc.typeName} value "${value}" (one of ${shown})`);
    }
    if (typeof value === "number" || typeof value === "bigint") {
      return Number(this.integer(node, path, int32Range, `a ${desc.typeName} number`));
    }
    return this.fail(node, path, `expected a ${desc.typeName} name, got ${this.describe(node)}`);
  }

  /** Map keys are strings in the JSON mapping; YAML may write integer and boolean keys bare. */
  private mapKey(type: ScalarType, keyNode: SourceNode, path: string): string {
    if (keyNode.kind !== "scalar" || keyNode.value === null) this.fail(keyNode, path, "map keys must be plain scalars");
    const value = keyNode.value;
    switch (type) {
      case ScalarType.STRING:
        return this.wellFormed(String(value), keyNode, path);
      case ScalarType.BOOL:
        if (value === true || value === "true") return "true";
        if (value === false || value === "false") return "false";
        return this.fail(keyNode, path, `expected a true/false key, got ${this.describe(keyNode)}`);
      case ScalarType.INT32:
      case ScalarType.SINT32:
      case ScalarType.SFIXED32:
        return this.integer(keyNode, path, int32Range, "a 32-bit integer key").toString();
      case ScalarType.UINT32:
      case ScalarType.FIXED32:
        return this.integer(keyNode, path, uint32Range, "an unsigned 32-bit integer key").toString();
      case ScalarType.UINT64:
      case ScalarType.FIXED64:
        return this.integer(keyNode, path, uint64Range, "an unsigned 64-bit integer key").toString();
      default:
        return this.integer(keyNode, path, int64Range, "a 64-bit integer key").toString();
    }
  }

  /** Protobuf strings are UTF-8: a lone UTF-16 surrogate (from a `\ud800` escape) has no encoding. */
  private wellFormed(value: string, node: SourceNode, path: string): string {
    if (loneSurrogate.test(value)) this.fail(node, path, "string contains an unpaired UTF-16 surrogate (not valid Unicode)");
    return value;
  }

  /** A value handed to fromJson unchecked (well-known types with their own JSON form). */
  private plain(node: SourceNode, path: string, depth: number): JsonValue {
    if (depth > maxSourceDepth) this.fail(node, path, `nesting deeper than ${maxSourceDepth} levels`);
    switch (node.kind) {
      case "map": {
        const out: JsonObject = {};
        for (const entry of node.entries) out[this.fieldKey(entry.key, path)] = this.plain(entry.value, path, depth + 1);
        return out;
      }
      case "list":
        return node.items.map((item) => this.plain(item, path, depth + 1));
      case "unsupported":
        return this.fail(node, path, `expected a value, got ${node.description}`);
      case "scalar": {
        const value = node.value;
        if (typeof value === "bigint") return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
        if (typeof value === "number" && !Number.isFinite(value)) return Number.isNaN(value) ? "NaN" : value > 0 ? "Infinity" : "-Infinity";
        return value;
      }
    }
  }

  private describe(node: SourceNode): string {
    switch (node.kind) {
      case "map":
        return "a mapping";
      case "list":
        return "a list";
      case "unsupported":
        return node.description;
      case "scalar": {
        const value = node.value;
        if (value === null) return "null";
        if (typeof value === "string") return `string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value)}`;
        if (typeof value === "boolean") return `boolean ${value}`;
        return `number ${String(value)}`;
      }
    }
  }
}
