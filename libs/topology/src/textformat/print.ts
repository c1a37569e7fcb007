/**
 * Writes messages in canonical text format: fields by number, one per line, two-space
 * indent, map entries sorted by key, Any expanded when the registry knows its type.
 * The output reads back (parseTextFormat) as an equal message.
 */
import { fromBinary, ScalarType, type DescEnum, type DescMessage, type Message, type Registry } from "@bufbuild/protobuf";
import { reflect, type ReflectMessage } from "@bufbuild/protobuf/reflect";
import { fieldTextName, isWritableTypeUrl } from "./names";

export interface TextFormatWriteOptions {
  /** Resolves `google.protobuf.Any` values so that they are written expanded. */
  registry?: Registry;
  /** One level of indentation; two spaces by default. */
  indent?: string;
}

/** Writes `message` (a `schema` message) in the protobuf text format. */
export function toTextFormat(schema: DescMessage, message: Message, options?: TextFormatWriteOptions): string {
  const writer = new TextFormatWriter(options?.registry, options?.indent ?? "  ");
  writer.writeFields(reflect(schema, message, false), "");
  return writer.out.toString();
}

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder();

/**
 * Collects the output as UTF-8 bytes. Appending to one string would keep every piece alive
 * in a rope until the end, and for a large topology the garbage collector would spend more
 * time copying those pieces than the writer spends making them. (A lone UTF-16 surrogate in
 * a string becomes U+FFFD here, as it does in the binary encoding.)
 */
class Utf8Output {
  private bytes = new Uint8Array(1 << 16);
  private length = 0;

  append(text: string): void {
    // At most three bytes per UTF-16 code unit.
    if (this.length + text.length * 3 > this.bytes.length) this.grow(text.length * 3);
    const bytes = this.bytes;
    let length = this.length;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c >= 0x80) {
        length += utf8Encoder.encodeInto(text.slice(i), bytes.subarray(length)).written;
        break;
      }
      bytes[length++] = c;
    }
    this.length = length;
  }

  private grow(needed: number): void {
    const grown = new Uint8Array(Math.max(this.bytes.length * 2, this.length + needed));
    grown.set(this.bytes.subarray(0, this.length));
    this.bytes = grown;
  }

  toString(): string {
    return utf8Decoder.decode(this.bytes.subarray(0, this.length));
  }
}

class TextFormatWriter {
  readonly out = new Utf8Output();

  constructor(
    private readonly registry: Registry | undefined,
    private readonly indentUnit: string,
  ) {}

  writeFields(msg: ReflectMessage, indent: string): void {
    if (msg.desc.typeName === "google.protobuf.Any" && this.writeExpandedAny(msg, indent)) return;
    const inner = indent + this.indentUnit;
    for (const field of msg.sortedFields) {
      if (!msg.isSet(field)) continue;
      const name = fieldTextName(field);
      switch (field.fieldKind) {
        case "scalar":
          this.out.append(`${indent}${name}: ${formatScalar(field.scalar, msg.get(field))}\n`);
          break;
        case "enum":
          this.out.append(`${indent}${name}: ${formatEnum(field.enum, msg.get(field))}\n`);
          break;
        case "message":
          this.out.append(`${indent}${name} {\n`);
          this.writeFields(msg.get(field), inner);
          this.out.append(`${indent}}\n`);
          break;
        case "list":
          for (const item of msg.get(field)) {
            switch (field.listKind) {
              case "scalar":
                this.out.append(`${indent}${name}: ${formatScalar(field.scalar, item)}\n`);
                break;
              case "enum":
                this.out.append(`${indent}${name}: ${formatEnum(field.enum, item as number)}\n`);
                break;
              case "message":
                this.out.append(`${indent}${name} {\n`);
                this.writeFields(item as ReflectMessage, inner);
                this.out.append(`${indent}}\n`);
                break;
            }
          }
          break;
        case "map": {
          const entries = [...msg.get(field).entries()].sort((a, b) => compareMapKeys(a[0], b[0]));
          const entryIndent = inner + this.indentUnit;
          for (const [key, value] of entries) {
            this.out.append(`${indent}${name} {\n${inner}key: ${formatScalar(field.mapKey, key)}\n`);
            switch (field.mapKind) {
              case "scalar":
                this.out.append(`${inner}value: ${formatScalar(field.scalar, value)}\n`);
                break;
              case "enum":
                this.out.append(`${inner}value: ${formatEnum(field.enum, value as number)}\n`);
                break;
              case "message":
                this.out.append(`${inner}value {\n`);
                this.writeFields(value as ReflectMessage, entryIndent);
                this.out.append(`${inner}}\n`);
                break;
            }
            this.out.append(`${indent}}\n`);
          }
          break;
        }
      }
    }
  }

  /** Writes `[type.googleapis.com/pkg.Msg] { ... }`; false when the Any cannot be expanded. */
  private writeExpandedAny(msg: ReflectMessage, indent: string): boolean {
    if (this.registry === undefined) return false;
    const { typeUrl, value } = msg.message as Message & { typeUrl: string; value: Uint8Array };
    if (!isWritableTypeUrl(typeUrl)) return false;
    const desc = this.registry.getMessage(typeUrl.slice(typeUrl.lastIndexOf("/") + 1));
    if (desc === undefined) return false;
    let unpacked: Message;
    try {
      unpacked = fromBinary(desc, value);
    } catch {
      // Bytes that do not decode as the named type are kept as they are: type_url and value.
      return false;
    }
    this.out.append(`${indent}[${typeUrl}] {\n`);
    this.writeFields(reflect(desc, unpacked, false), indent + this.indentUnit);
    this.out.append(`${indent}}\n`);
    return true;
  }
}

function compareMapKeys(a: unknown, b: unknown): number {
  if (typeof a === "string" && typeof b === "string") return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === "boolean" && typeof b === "boolean") return Number(a) - Number(b);
  const x = a as number | bigint;
  const y = b as number | bigint;
  return x < y ? -1 : x > y ? 1 : 0;
}

function formatEnum(desc: DescEnum, value: number): string {
  return desc.value[value]?.name ?? String(value);
}

function formatScalar(type: ScalarType, value: unknown): string {
  switch (type) {
    case ScalarType.STRING:
      return quoteString(value as string);
    case ScalarType.BYTES:
      return quoteBytes(value as Uint8Array);
    case ScalarType.BOOL:
      return value ? "true" : "false";
    case ScalarType.DOUBLE:
      return formatDouble(value as number);
    case ScalarType.FLOAT:
      return formatFloat(value as number);
    default:
      return String(value);
  }
}

function formatDouble(value: number): string {
  if (Number.isNaN(value)) return "nan";
  if (value === Infinity) return "inf";
  if (value === -Infinity) return "-inf";
  if (Object.is(value, -0)) return "-0";
  return String(value);
}

/** The shortest decimal that reads back as the same 32-bit float ("0.1", not "0.100000001"). */
function formatFloat(value: number): string {
  if (!Number.isFinite(value) || Object.is(value, -0)) return formatDouble(value);
  for (let precision = 1; precision <= 9; precision++) {
    const candidate = Number(value.toPrecision(precision));
    if (Math.fround(candidate) === value) return String(candidate);
  }
  return String(value);
}

const NAMED_ESCAPES: Record<number, string> = { 0x0a: "\\n", 0x0d: "\\r", 0x09: "\\t", 0x22: '\\"', 0x5c: "\\\\" };

function needsEscape(c: number): boolean {
  return c < 0x20 || c === 0x22 || c === 0x5c || c === 0x7f;
}

/** Three octal digits, so that a following digit is never read as part of the escape. */
function octalEscape(byte: number): string {
  return `\\${byte.toString(8).padStart(3, "0")}`;
}

function quoteString(value: string): string {
  let i = 0;
  while (i < value.length && !needsEscape(value.charCodeAt(i))) i++;
  if (i === value.length) return `"${value}"`;
  let out = `"${value.slice(0, i)}`;
  for (; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (needsEscape(c)) out += NAMED_ESCAPES[c] ?? octalEscape(c);
    else out += value[i];
  }
  return `${out}"`;
}

function quoteBytes(value: Uint8Array): string {
  let out = '"';
  for (const byte of value) {
    if (byte >= 0x20 && byte < 0x7f && byte !== 0x22 && byte !== 0x5c) out += String.fromCharCode(byte);
    else out += NAMED_ESCAPES[byte] ?? octalEscape(byte);
  }
  return `${out}"`;
}
