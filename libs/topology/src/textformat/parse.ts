/**
 * The syntactic half of the text format: reads fields into a message, driven only by the
 * message descriptors. Every problem becomes a TopologyParseError naming the line and
 * column of the offending token and the field path.
 *
 * Messages are protobuf-es's plain objects, written by property name as `create` and
 * reflection would write them (oneofs as `{ case, value }`, map keys as strings, 64-bit
 * integers as bigints or strings); values that protobuf-es converts (wrapper types,
 * Struct) go through reflection. Writing directly keeps a large topology fast: a
 * reflection object per message costs more than the message.
 */
import { ScalarType, toBinary, type DescEnum, type DescField, type DescMessage, type MessageShape, type Registry } from "@bufbuild/protobuf";
import { reflect, scalarZeroValue } from "@bufbuild/protobuf/reflect";
import { TopologyParseError } from "../errors";
import { enumInfo, findEnumValue, findField, messageInfo, type FieldSlot, type MessageInfo, type MessageObject } from "./message-info";
import { isValidTypeName, scalarTypeName } from "./names";
import {
  ByteBuffer,
  CHAR_COLON,
  CHAR_COMMA,
  CHAR_GT,
  CHAR_LBRACE,
  CHAR_LBRACKET,
  CHAR_LT,
  CHAR_MINUS,
  CHAR_RBRACE,
  CHAR_RBRACKET,
  CHAR_SEMICOLON,
  Scanner,
  TOKEN_DEC_INT,
  TOKEN_EOF,
  TOKEN_FLOAT,
  TOKEN_HEX_INT,
  TOKEN_IDENT,
  TOKEN_OCT_INT,
  TOKEN_STRING,
  locate,
} from "./scanner";

export interface TextFormatOptions {
  /** Named in errors. */
  file?: string;
  /** Resolves the message types of expanded `google.protobuf.Any` values. */
  registry?: Registry;
}

/** Deeper nesting is rejected rather than risking the call stack. */
export const MAX_NESTING_DEPTH = 100;

/**
 * Parses `text` as a `schema` message in the protobuf text format.
 * @throws TopologyParseError for any input that is not a valid `schema` message.
 */
export function parseTextFormat<D extends DescMessage>(schema: D, text: string, options?: TextFormatOptions): MessageShape<D> {
  return new TextFormatParser(text, options).parse(schema) as MessageShape<D>;
}

// Path segments are kept as parallel arrays and rendered only when an error is thrown.
const SEGMENT_FIELD = 0;
const SEGMENT_INDEX = 1;
const SEGMENT_MAP_KEY = 2;

const utf8 = new TextEncoder();
const strictUtf8 = new TextDecoder("utf-8", { fatal: true });
const lenientUtf8 = new TextDecoder("utf-8");

const INT32_MIN = -0x80000000;
const INT32_MAX = 0x7fffffff;
const UINT32_MAX = 0xffffffff;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;

type IntegerKind = "int32" | "uint32" | "int64" | "uint64";

function integerKind(type: ScalarType): IntegerKind | undefined {
  switch (type) {
    case ScalarType.INT32:
    case ScalarType.SINT32:
    case ScalarType.SFIXED32:
      return "int32";
    case ScalarType.UINT32:
    case ScalarType.FIXED32:
      return "uint32";
    case ScalarType.INT64:
    case ScalarType.SINT64:
    case ScalarType.SFIXED64:
      return "int64";
    case ScalarType.UINT64:
    case ScalarType.FIXED64:
      return "uint64";
    default:
      return undefined;
  }
}

type ScalarValue = string | number | bigint | boolean | Uint8Array;
type MapField = Extract<DescField, { fieldKind: "map" }>;

/** 64-bit integers of `jstype = JS_STRING` fields are strings. */
function toLocal(value: ScalarValue, longAsString: boolean): ScalarValue {
  return longAsString && typeof value === "bigint" ? String(value) : value;
}

/** Map keys are object keys: strings. */
function mapKeyToLocal(key: ScalarValue): string {
  return typeof key === "string" ? key : String(key);
}

function setMapEntry(map: Record<string, unknown>, key: string, value: unknown): void {
  // Assigning "__proto__" would replace the map's prototype instead of adding an entry.
  if (key === "__proto__") Object.defineProperty(map, key, { value, enumerable: true, writable: true, configurable: true });
  else map[key] = value;
}

class TextFormatParser {
  private readonly scanner: Scanner;
  private readonly file: string | undefined;
  private readonly registry: Registry | undefined;
  private readonly bytes = new ByteBuffer();
  private depth = 0;
  private readonly segmentKinds: number[] = [];
  private readonly segmentValues: unknown[] = [];
  private segmentCount = 0;

  constructor(text: string, options: TextFormatOptions | undefined) {
    this.file = options?.file;
    this.registry = options?.registry;
    this.scanner = new Scanner(text, (message, offset) => this.failAt(message, offset));
  }

  parse(schema: DescMessage): MessageObject {
    const info = messageInfo(schema);
    const root = info.newMessage();
    this.scanner.next();
    this.parseFields(info, root, TOKEN_EOF);
    return root;
  }

  // ---- errors and paths ----

  private failAt(message: string, offset: number): never {
    const problem = { path: this.renderPath(), message, ...locate(this.scanner.text, offset) };
    throw new TopologyParseError(this.file === undefined ? problem : { file: this.file, ...problem });
  }

  /** Fails at the current token. */
  private fail(message: string): never {
    return this.failAt(message, this.scanner.start);
  }

  private renderPath(): string {
    let path = "";
    for (let i = 0; i < this.segmentCount; i++) {
      const value = String(this.segmentValues[i]);
      if (this.segmentKinds[i] === SEGMENT_FIELD) path += path === "" ? value : `.${value}`;
      else path += `[${value}]`;
    }
    return path;
  }

  private push(kind: number, value: unknown): void {
    this.segmentKinds[this.segmentCount] = kind;
    this.segmentValues[this.segmentCount] = value;
    this.segmentCount++;
  }

  private pop(): void {
    this.segmentCount--;
  }

  private describeToken(): string {
    const s = this.scanner;
    switch (s.kind) {
      case TOKEN_EOF:
        return "end of input";
      case TOKEN_STRING:
        return "a string";
      case TOKEN_IDENT:
        return `"${s.tokenText()}"`;
      case TOKEN_DEC_INT:
      case TOKEN_OCT_INT:
      case TOKEN_HEX_INT:
      case TOKEN_FLOAT:
        return s.tokenText();
      default:
        return `"${String.fromCharCode(s.kind)}"`;
    }
  }

  // ---- messages ----

  /** Reads fields until `close` (a closing bracket, or the end of input) and consumes it. */
  private parseFields(info: MessageInfo, msg: MessageObject, close: number): void {
    const s = this.scanner;
    // Which singular fields were given, by index: bits for the first 31, a set beyond.
    let seen = 0;
    let seenBeyond: Set<number> | undefined;
    let anyExpanded = false;
    for (;;) {
      const kind = s.kind;
      if (kind === close) break;
      if (kind === TOKEN_IDENT) {
        const slot = findField(info, s.text, s.start, s.end);
        if (slot === undefined) {
          const name = s.tokenText();
          if (info.reservedNames.has(name)) {
            s.next();
            this.skipFieldValue();
          } else {
            this.push(SEGMENT_FIELD, name);
            this.fail(`unknown field "${name}" in ${info.desc.typeName}${suggestField(info, name)}`);
          }
        } else {
          const field = slot.field;
          this.push(SEGMENT_FIELD, slot.textName);
          if (field.fieldKind !== "list" && field.fieldKind !== "map") {
            if (anyExpanded) this.fail("google.protobuf.Any is given both expanded and as type_url/value");
            let given: boolean;
            if (slot.index < 31) {
              given = (seen & (1 << slot.index)) !== 0;
              seen |= 1 << slot.index;
            } else {
              seenBeyond ??= new Set();
              given = seenBeyond.has(slot.index);
              seenBeyond.add(slot.index);
            }
            if (given) this.fail(`field "${slot.textName}" is given more than once, but it is not repeated`);
            if (slot.oneofLocalName !== undefined) this.checkOneof(msg, slot);
          }
          s.next();
          this.parseFieldValue(msg, slot);
          this.pop();
        }
      } else if (kind === CHAR_LBRACKET) {
        if (anyExpanded) this.fail("google.protobuf.Any is expanded more than once");
        if (info.isAny && (seen & 0b11) !== 0) this.fail("google.protobuf.Any is given both expanded and as type_url/value");
        this.parseBracketField(info, msg);
        anyExpanded = true;
      } else if (kind === TOKEN_EOF) {
        this.fail(`unexpected end of input: missing "${String.fromCharCode(close)}"`);
      } else if (kind === CHAR_RBRACE || kind === CHAR_GT) {
        this.fail(`unexpected "${String.fromCharCode(kind)}"${close === TOKEN_EOF ? ": no message is open" : ""}`);
      } else {
        this.fail(`expected a field name, got ${this.describeToken()}`);
      }
      if (s.kind === CHAR_COMMA || s.kind === CHAR_SEMICOLON) s.next();
    }
    for (const slot of info.required) {
      const given = slot.index < 31 ? (seen & (1 << slot.index)) !== 0 : (seenBeyond?.has(slot.index) ?? false);
      if (!given) {
        this.push(SEGMENT_FIELD, slot.textName);
        this.fail(`missing required field "${slot.textName}" in ${info.desc.typeName}`);
      }
    }
    if (close !== TOKEN_EOF) s.next();
  }

  private checkOneof(msg: MessageObject, slot: FieldSlot): void {
    const oneof = slot.field.oneof;
    const current = (msg[slot.oneofLocalName!] as { case: string | undefined }).case;
    if (oneof !== undefined && current !== undefined && current !== slot.localName) {
      const other = oneof.fields.find((f) => f.localName === current);
      this.fail(`field "${slot.textName}" and field "${other?.name ?? current}" are both in oneof "${oneof.name}": give only one`);
    }
  }

  /** Reads `{ ... }` or `< ... >` as a new message of the given type. */
  private parseMessageValue(info: MessageInfo): MessageObject {
    const s = this.scanner;
    let close: number;
    if (s.kind === CHAR_LBRACE) close = CHAR_RBRACE;
    else if (s.kind === CHAR_LT) close = CHAR_GT;
    else this.fail(`expected "{" to start a ${info.desc.typeName} message, got ${this.describeToken()}`);
    if (++this.depth > MAX_NESTING_DEPTH) this.fail(`messages are nested more than ${MAX_NESTING_DEPTH} levels deep`);
    s.next();
    const msg = info.newMessage();
    this.parseFields(info, msg, close);
    this.depth--;
    return msg;
  }

  /** Reads `[name] ...`: the expanded form of google.protobuf.Any, or an extension. */
  private parseBracketField(info: MessageInfo, msg: MessageObject): void {
    const s = this.scanner;
    const { name, offset } = s.scanBracketName();
    s.next();
    if (s.kind !== CHAR_RBRACKET) this.fail(`expected "]" after "[${name}", got ${this.describeToken()}`);
    const slash = name.lastIndexOf("/");
    if (!info.isAny) {
      if (slash >= 0) this.failAt(`[${name}] expands a google.protobuf.Any, but ${info.desc.typeName} is not one`, offset);
      this.failAt(`extension fields are not supported: [${name}] in ${info.desc.typeName}`, offset);
    }
    const typeName = name.slice(slash + 1);
    if (slash <= 0 || !isValidTypeName(typeName)) {
      this.failAt(`expected a type URL such as [type.googleapis.com/pkg.Message], got [${name}]`, offset);
    }
    const desc = this.registry?.getMessage(typeName);
    if (desc === undefined) {
      this.failAt(
        this.registry === undefined
          ? `cannot expand Any type "${name}": no type registry was given`
          : `unknown Any type "${name}": ${typeName} is not in the registry`,
        offset,
      );
    }
    s.next();
    if (s.kind === CHAR_COLON) s.next();
    const inner = this.parseMessageValue(messageInfo(desc));
    const [typeUrlSlot, valueSlot] = info.slots;
    msg[typeUrlSlot!.localName] = name;
    msg[valueSlot!.localName] = toBinary(desc, inner);
  }

  // ---- fields ----

  private parseFieldValue(msg: MessageObject, slot: FieldSlot): void {
    const s = this.scanner;
    const field = slot.field;
    const hasColon = s.kind === CHAR_COLON;
    if (hasColon) s.next();
    switch (field.fieldKind) {
      case "scalar":
        this.requireColon(hasColon, field);
        this.rejectList(field);
        this.setSingular(msg, slot, toLocal(this.readScalar(field.scalar, field), slot.longAsString));
        return;
      case "enum":
        this.requireColon(hasColon, field);
        this.rejectList(field);
        this.setSingular(msg, slot, this.readEnum(field.enum));
        return;
      case "message": {
        this.rejectList(field);
        const sub = this.parseMessageValue(messageInfo(field.message));
        if (slot.convertedMessage) reflect(field.parent, msg, false).set(field, reflect(field.message, sub, false));
        else this.setSingular(msg, slot, sub);
        return;
      }
      case "list": {
        const list = msg[slot.localName] as unknown[];
        if (field.listKind !== "message") this.requireColon(hasColon, field);
        const bracketed = s.kind === CHAR_LBRACKET;
        if (bracketed) {
          s.next();
          if (s.kind === CHAR_RBRACKET) {
            s.next();
            return;
          }
        }
        for (;;) {
          this.push(SEGMENT_INDEX, list.length);
          switch (field.listKind) {
            case "scalar":
              list.push(toLocal(this.readScalar(field.scalar, field), slot.longAsString));
              break;
            case "enum":
              list.push(this.readEnum(field.enum));
              break;
            case "message": {
              const sub = this.parseMessageValue(messageInfo(field.message));
              if (slot.convertedMessage) reflect(field.parent, msg, false).get(field).add(reflect(field.message, sub, false));
              else list.push(sub);
              break;
            }
          }
          this.pop();
          if (!bracketed || this.endOfListItem()) return;
        }
      }
      case "map": {
        const bracketed = s.kind === CHAR_LBRACKET;
        if (bracketed) {
          s.next();
          if (s.kind === CHAR_RBRACKET) {
            s.next();
            return;
          }
        }
        for (;;) {
          this.parseMapEntry(msg, slot, field);
          if (!bracketed || this.endOfListItem()) return;
        }
      }
    }
  }

  private setSingular(msg: MessageObject, slot: FieldSlot, value: unknown): void {
    if (slot.oneofLocalName !== undefined) msg[slot.oneofLocalName] = { case: slot.localName, value };
    else msg[slot.localName] = value;
  }

  /** After an item of `[...]`: consumes "," (returns false) or "]" (returns true). */
  private endOfListItem(): boolean {
    const s = this.scanner;
    if (s.kind === CHAR_COMMA) {
      s.next();
      return false;
    }
    if (s.kind === CHAR_RBRACKET) {
      s.next();
      return true;
    }
    return this.fail(`expected "," or "]" in a list, got ${this.describeToken()}`);
  }

  private requireColon(hasColon: boolean, field: DescField): void {
    if (!hasColon) this.fail(`expected ":" after field name "${field.name}", got ${this.describeToken()}`);
  }

  private rejectList(field: DescField): void {
    if (this.scanner.kind === CHAR_LBRACKET) this.fail(`field "${field.name}" is not repeated, so it cannot take a list`);
  }

  /** Reads one `{ key: ... value: ... }` entry; either part may be missing (zero). */
  private parseMapEntry(msg: MessageObject, slot: FieldSlot, field: MapField): void {
    const s = this.scanner;
    let close: number;
    if (s.kind === CHAR_LBRACE) close = CHAR_RBRACE;
    else if (s.kind === CHAR_LT) close = CHAR_GT;
    else this.fail(`expected "{" to start a map entry, got ${this.describeToken()}`);
    if (++this.depth > MAX_NESTING_DEPTH) this.fail(`messages are nested more than ${MAX_NESTING_DEPTH} levels deep`);
    s.next();
    let key: ScalarValue | undefined;
    let value: unknown;
    let valueGiven = false;
    for (;;) {
      if (s.kind === close) break;
      if (s.kind !== TOKEN_IDENT) {
        if (s.kind === TOKEN_EOF) this.fail(`unexpected end of input: missing "${String.fromCharCode(close)}"`);
        this.fail(`expected "key" or "value" in a map entry, got ${this.describeToken()}`);
      }
      const name = s.tokenText();
      if (name === "key") {
        this.push(SEGMENT_FIELD, "key");
        if (key !== undefined) this.fail("map entry key is given more than once");
        s.next();
        if (s.kind !== CHAR_COLON) this.fail(`expected ":" after "key", got ${this.describeToken()}`);
        s.next();
        key = this.readScalar(field.mapKey, field);
        this.pop();
      } else if (name === "value") {
        // Once the key is known the path names the entry by it, as `interfaces[eth1]`.
        if (key === undefined) this.push(SEGMENT_FIELD, "value");
        else this.push(SEGMENT_MAP_KEY, key);
        if (valueGiven) this.fail("map entry value is given more than once");
        valueGiven = true;
        s.next();
        const hasColon = s.kind === CHAR_COLON;
        if (hasColon) s.next();
        switch (field.mapKind) {
          case "scalar":
            if (!hasColon) this.fail(`expected ":" after "value", got ${this.describeToken()}`);
            value = toLocal(this.readScalar(field.scalar, field), slot.longAsString);
            break;
          case "enum":
            if (!hasColon) this.fail(`expected ":" after "value", got ${this.describeToken()}`);
            value = this.readEnum(field.enum);
            break;
          case "message":
            value = this.parseMessageValue(messageInfo(field.message));
            break;
        }
        this.pop();
      } else {
        this.push(SEGMENT_FIELD, name);
        this.fail(`unknown field "${name}" in a map entry: only "key" and "value" are allowed`);
      }
      if (s.kind === CHAR_COMMA || s.kind === CHAR_SEMICOLON) s.next();
    }
    s.next();
    this.depth--;
    if (!valueGiven) {
      switch (field.mapKind) {
        case "scalar":
          value = scalarZeroValue(field.scalar, slot.longAsString);
          break;
        case "enum":
          value = field.enum.values[0]?.number ?? 0;
          break;
        case "message":
          value = messageInfo(field.message).newMessage();
          break;
      }
    }
    key ??= scalarZeroValue(field.mapKey, false);
    if (slot.convertedMessage) {
      reflect(field.parent, msg, false).get(field).set(key, reflect(field.message!, value as MessageObject, false));
    } else {
      setMapEntry(msg[slot.localName] as Record<string, unknown>, mapKeyToLocal(key), value);
    }
  }

  // ---- values ----

  /** Reads an optional "-": the spec lets whitespace and comments follow it. */
  private readSign(): boolean {
    if (this.scanner.kind !== CHAR_MINUS) return false;
    this.scanner.next();
    return true;
  }

  private readScalar(type: ScalarType, field: DescField): ScalarValue {
    const s = this.scanner;
    switch (type) {
      case ScalarType.STRING:
      case ScalarType.BYTES:
        if (s.kind !== TOKEN_STRING) this.fail(`expected a string, got ${this.describeToken()}`);
        return type === ScalarType.STRING ? this.readString(field) : this.readBytes();
      case ScalarType.BOOL:
        return this.readBool();
      case ScalarType.FLOAT:
        // Overflow of a 32-bit float becomes infinity, as the spec says.
        return Math.fround(this.readFloat("float"));
      case ScalarType.DOUBLE:
        return this.readFloat("double");
      default: {
        const kind = integerKind(type);
        if (kind === undefined) return this.fail(`unsupported scalar type ${scalarTypeName(type)}`);
        return this.readInteger(kind);
      }
    }
  }

  /** Reads one or more adjacent string literals as a string. */
  private readString(field: DescField): string {
    const s = this.scanner;
    const offset = s.start;
    if (!s.stringNeedsDecoding) {
      const value = s.text.slice(s.start + 1, s.end - 1);
      s.next();
      if (s.kind !== TOKEN_STRING) return value;
      // Rare: adjacent literals ("a" 'b'); join their bytes below.
      this.bytes.reset();
      for (let i = 0; i < value.length; ) {
        const cp = value.codePointAt(i)!;
        this.bytes.pushCodePoint(cp >= 0xd800 && cp <= 0xdfff ? 0xfffd : cp);
        i += cp > 0xffff ? 2 : 1;
      }
    } else {
      this.bytes.reset();
    }
    while (s.kind === TOKEN_STRING) {
      s.appendStringBytes(this.bytes);
      s.next();
    }
    const bytes = this.bytes.bytes.subarray(0, this.bytes.length);
    if (!field.utf8Validation) return lenientUtf8.decode(bytes);
    try {
      return strictUtf8.decode(bytes);
    } catch {
      return this.failAt("string is not valid UTF-8 (escapes such as \\xff are for bytes fields)", offset);
    }
  }

  /** Reads one or more adjacent string literals as bytes. */
  private readBytes(): Uint8Array {
    const s = this.scanner;
    if (!s.stringNeedsDecoding) {
      const value = s.text.slice(s.start + 1, s.end - 1);
      s.next();
      if (s.kind !== TOKEN_STRING) return utf8.encode(value);
      this.bytes.reset();
      const head = utf8.encode(value);
      for (const b of head) this.bytes.push(b);
    } else {
      this.bytes.reset();
    }
    while (s.kind === TOKEN_STRING) {
      s.appendStringBytes(this.bytes);
      s.next();
    }
    return this.bytes.copy();
  }

  private readBool(): boolean {
    const s = this.scanner;
    if (s.kind === TOKEN_IDENT) {
      switch (s.tokenText()) {
        case "true":
        case "True":
        case "t":
          s.next();
          return true;
        case "false":
        case "False":
        case "f":
          s.next();
          return false;
      }
    } else if (s.kind === TOKEN_DEC_INT || s.kind === TOKEN_OCT_INT || s.kind === TOKEN_HEX_INT) {
      const value = this.integerMagnitude();
      if (value === 0 || value === 1) {
        s.next();
        return value === 1;
      }
    }
    return this.fail(`expected a bool (true, false, t, f, 1 or 0), got ${this.describeToken()}`);
  }

  private readFloat(typeName: string): number {
    const s = this.scanner;
    const negative = this.readSign();
    let value: number;
    switch (s.kind) {
      case TOKEN_FLOAT: {
        const last = s.text.charCodeAt(s.end - 1);
        value = Number(s.text.slice(s.start, last === 0x66 || last === 0x46 ? s.end - 1 : s.end));
        break;
      }
      case TOKEN_DEC_INT:
        value = Number(s.tokenText());
        break;
      case TOKEN_OCT_INT:
      case TOKEN_HEX_INT:
        return this.fail(`octal and hexadecimal numbers are not valid for a ${typeName} field, got ${s.tokenText()}`);
      case TOKEN_IDENT:
        switch (s.tokenText().toLowerCase()) {
          case "inf":
          case "infinity":
            value = Infinity;
            break;
          case "nan":
            value = NaN;
            break;
          default:
            return this.fail(`expected a number (or inf, nan) for a ${typeName} field, got ${this.describeToken()}`);
        }
        break;
      default:
        return this.fail(`expected a number for a ${typeName} field, got ${this.describeToken()}`);
    }
    s.next();
    return negative ? -value : value;
  }

  /**
   * The value of the current integer token, without sign: a number when it is exact,
   * a bigint beyond 2^53 - 1.
   */
  private integerMagnitude(): number | bigint {
    const s = this.scanner;
    const text = s.text;
    let digits = s.start;
    let radix = 10;
    let exactDigits = 15;
    if (s.kind === TOKEN_HEX_INT) {
      digits += 2;
      radix = 16;
      exactDigits = 13;
    } else if (s.kind === TOKEN_OCT_INT) {
      digits += 1;
      radix = 8;
      exactDigits = 17;
    }
    if (s.end - digits <= exactDigits) {
      let value = 0;
      for (let p = digits; p < s.end; p++) {
        const c = text.charCodeAt(p);
        value = value * radix + (c <= 0x39 ? c - 0x30 : (c | 0x20) - 0x61 + 10);
      }
      return value;
    }
    const body = text.slice(digits, s.end);
    const value = BigInt(radix === 16 ? `0x${body}` : radix === 8 ? `0o${body}` : body);
    // Leading zeros make long literals of small values ("0000000000000000001").
    return value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value;
  }

  private readInteger(kind: IntegerKind): number | bigint {
    const s = this.scanner;
    const signOffset = s.start;
    const negative = this.readSign();
    if (s.kind !== TOKEN_DEC_INT && s.kind !== TOKEN_OCT_INT && s.kind !== TOKEN_HEX_INT) {
      this.fail(`expected an integer for a ${kind} field, got ${this.describeToken()}`);
    }
    if (negative && (kind === "uint32" || kind === "uint64")) {
      this.failAt(`a ${kind} field cannot be negative`, signOffset);
    }
    const magnitude = this.integerMagnitude();
    let value: number | bigint;
    if (kind === "int32" || kind === "uint32") {
      const n = typeof magnitude === "number" ? (negative ? -magnitude : magnitude) : NaN;
      const ok = kind === "int32" ? n >= INT32_MIN && n <= INT32_MAX : n <= UINT32_MAX;
      if (!ok) this.fail(`${negative ? "-" : ""}${s.tokenText()} is out of range for ${kind}`);
      value = n === 0 ? 0 : n;
    } else {
      const big = negative ? -BigInt(magnitude) : BigInt(magnitude);
      const ok = kind === "int64" ? big >= INT64_MIN && big <= INT64_MAX : big <= UINT64_MAX;
      if (!ok) this.fail(`${negative ? "-" : ""}${s.tokenText()} is out of range for ${kind}`);
      value = big;
    }
    s.next();
    return value;
  }

  private readEnum(desc: DescEnum): number {
    const s = this.scanner;
    const signOffset = s.start;
    const negative = this.readSign();
    if (s.kind === TOKEN_IDENT) {
      const value = findEnumValue(enumInfo(desc), s.text, s.start, s.end);
      if (value === undefined || negative) {
        const name = s.tokenText();
        if (negative) this.failAt(`invalid value "-${name}" for enum ${desc.typeName}`, signOffset);
        this.fail(`unknown value "${name}" for enum ${desc.typeName}${listEnumValues(desc)}`);
      }
      s.next();
      return value;
    }
    if (s.kind === TOKEN_DEC_INT || s.kind === TOKEN_OCT_INT || s.kind === TOKEN_HEX_INT) {
      const magnitude = this.integerMagnitude();
      const n = typeof magnitude === "number" ? (negative ? -magnitude : magnitude) : NaN;
      if (!(n >= INT32_MIN && n <= INT32_MAX)) this.fail(`${negative ? "-" : ""}${s.tokenText()} is out of range for an enum`);
      if (!desc.open && desc.value[n] === undefined) {
        this.fail(`${n} is not a value of closed enum ${desc.typeName}${listEnumValues(desc)}`);
      }
      s.next();
      return n === 0 ? 0 : n;
    }
    return this.fail(`expected a value of enum ${desc.typeName}, got ${this.describeToken()}`);
  }

  // ---- reserved fields ----

  /** Skips the value of a reserved field: any scalar, list or message. */
  private skipFieldValue(): void {
    const s = this.scanner;
    if (s.kind === CHAR_COLON) s.next();
    if (s.kind !== CHAR_LBRACKET) {
      this.skipValue();
      return;
    }
    s.next();
    if (s.kind === CHAR_RBRACKET) {
      s.next();
      return;
    }
    do this.skipValue();
    while (!this.endOfListItem());
  }

  private skipValue(): void {
    const s = this.scanner;
    if (s.kind === CHAR_LBRACE || s.kind === CHAR_LT) {
      const close = s.kind === CHAR_LBRACE ? CHAR_RBRACE : CHAR_GT;
      if (++this.depth > MAX_NESTING_DEPTH) this.fail(`messages are nested more than ${MAX_NESTING_DEPTH} levels deep`);
      s.next();
      while (s.kind !== close) {
        if (s.kind === TOKEN_IDENT) {
          s.next();
        } else if (s.kind === CHAR_LBRACKET) {
          s.scanBracketName();
          s.next();
          if (s.kind !== CHAR_RBRACKET) this.fail(`expected "]", got ${this.describeToken()}`);
          s.next();
        } else if (s.kind === TOKEN_EOF) {
          this.fail(`unexpected end of input: missing "${String.fromCharCode(close)}"`);
        } else {
          this.fail(`expected a field name, got ${this.describeToken()}`);
        }
        this.skipFieldValue();
        if (s.kind === CHAR_COMMA || s.kind === CHAR_SEMICOLON) s.next();
      }
      s.next();
      this.depth--;
      return;
    }
    this.readSign();
    switch (s.kind) {
      case TOKEN_STRING:
        while (s.kind === TOKEN_STRING) s.next();
        return;
      case TOKEN_IDENT:
      case TOKEN_DEC_INT:
      case TOKEN_OCT_INT:
      case TOKEN_HEX_INT:
      case TOKEN_FLOAT:
        s.next();
        return;
      default:
        this.fail(`expected a value, got ${this.describeToken()}`);
    }
  }
}

function listEnumValues(desc: DescEnum): string {
  if (desc.values.length > 40) return "";
  return ` (one of ${desc.values.map((v) => v.name).join(", ")})`;
}

/** A hint for a misspelt field name: same name in another case, its JSON name, or a close one. */
function suggestField(info: MessageInfo, name: string): string {
  let best: string | undefined;
  let bestDistance = Math.min(3, Math.floor(name.length / 3) + 1);
  for (const slot of info.slots) {
    const candidate = slot.textName;
    if (candidate.toLowerCase() === name.toLowerCase() || slot.field.jsonName === name) return ` (did you mean "${candidate}"?)`;
    const distance = editDistance(name, candidate, bestDistance);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best === undefined ? "" : ` (did you mean "${best}"?)`;
}

/** Levenshtein distance, or `limit` once it is known to be at least that. */
function editDistance(a: string, b: string, limit: number): number {
  if (Math.abs(a.length - b.length) >= limit) return limit;
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a.charCodeAt(i - 1) === b.charCodeAt(j - 1) ? 0 : 1;
      const d = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + cost);
      current.push(d);
      if (d < rowMin) rowMin = d;
    }
    if (rowMin >= limit) return limit;
    previous = current;
  }
  return previous[b.length]!;
}
