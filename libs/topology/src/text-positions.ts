/**
 * Where each field of a text-format topology is written, for pointing validation problems
 * at `file:line:col`.
 *
 * The text-format parser (./textformat) returns messages, not positions. Rather than make
 * every parse pay for a position table, this module re-reads the text only when a
 * validation problem needs a location. It is a tolerant reader, not a second parser: it
 * runs on text that already parsed, follows the schema to know which fields are lists and
 * maps, and on anything it does not expect it stops and keeps what it has found.
 */
import { ScalarType, type DescField, type DescMessage, type Registry } from "@bufbuild/protobuf";
import { appendField, appendIndex, FieldPositions, LineTable } from "./field-path";

type Token =
  | { kind: "identifier"; text: string; offset: number }
  | { kind: "string"; value: string; offset: number }
  | { kind: "number"; text: string; offset: number }
  | { kind: "punct"; text: string; offset: number }
  | { kind: "eof"; offset: number };

class Stop extends Error {}

/** Positions of every field of a text-format message, by source path. */
export function textFormatPositions(schema: DescMessage, text: string, registry?: Registry): FieldPositions {
  const positions = new FieldPositions();
  const reader = new PositionReader(text, registry, positions);
  try {
    reader.messageBody(schema, "", "eof");
  } catch (error) {
    if (!(error instanceof Stop)) throw error;
  }
  return positions;
}

class PositionReader {
  private readonly lines: LineTable;
  private offset = 0;
  private peeked: Token | undefined;

  constructor(
    private readonly text: string,
    private readonly registry: Registry | undefined,
    private readonly positions: FieldPositions,
    lines?: LineTable,
  ) {
    this.lines = lines ?? new LineTable(text);
  }

  private record(path: string, offset: number): void {
    this.positions.record(path, this.lines.position(offset));
  }

  /** Reads fields until `closing` (`}`, `>` or end of input). */
  messageBody(desc: DescMessage, path: string, closing: "}" | ">" | "eof"): void {
    const counts = new Map<DescField, number>();
    for (;;) {
      const token = this.next();
      if (token.kind === "eof") {
        if (closing === "eof") return;
        throw new Stop();
      }
      if (token.kind === "punct") {
        if (token.text === closing) return;
        if (token.text === "," || token.text === ";") continue;
        if (token.text === "[") {
          this.extensionOrAny(desc, path);
          continue;
        }
        throw new Stop();
      }
      if (token.kind !== "identifier") throw new Stop();
      const field = desc.fields.find((f) => f.name === token.text) ?? desc.fields.find((f) => f.message?.name === token.text);
      if (!field) throw new Stop();
      const fieldPath = appendField(path, field.name);
      if (this.peek().kind === "punct" && (this.peek() as { text: string }).text === ":") this.next();
      const valueToken = this.peek();
      if (valueToken.kind === "punct" && valueToken.text === "[") {
        this.next();
        this.listValues(field, fieldPath, counts, token.offset);
        continue;
      }
      this.oneValue(field, fieldPath, counts, token.offset);
    }
  }

  /** One occurrence of a field: `f: 1`, `f { ... }`, or one map entry. */
  private oneValue(field: DescField, fieldPath: string, counts: Map<DescField, number>, nameOffset: number): void {
    if (field.fieldKind === "list" || field.fieldKind === "map") this.record(fieldPath, nameOffset);
    if (field.fieldKind === "map") {
      this.mapEntry(field, fieldPath, nameOffset);
      return;
    }
    let path = fieldPath;
    if (field.fieldKind === "list") {
      const index = counts.get(field) ?? 0;
      counts.set(field, index + 1);
      path = appendIndex(fieldPath, index);
    }
    const message = field.fieldKind === "message" || (field.fieldKind === "list" && field.listKind === "message") ? field.message : undefined;
    if (message) {
      this.record(path, nameOffset);
      const open = this.next();
      if (open.kind !== "punct" || (open.text !== "{" && open.text !== "<")) throw new Stop();
      this.messageBody(message, path, open.text === "{" ? "}" : ">");
      return;
    }
    this.record(path, this.peek().offset);
    this.scalar();
  }

  /** `f: [v1, v2]` — each element is one more occurrence of the field. */
  private listValues(field: DescField, fieldPath: string, counts: Map<DescField, number>, nameOffset: number): void {
    for (;;) {
      const token = this.peek();
      if (token.kind === "punct" && token.text === "]") {
        this.next();
        return;
      }
      if (token.kind === "punct" && token.text === ",") {
        this.next();
        continue;
      }
      this.oneValue(field, fieldPath, counts, token.kind === "punct" ? nameOffset : token.offset);
    }
  }

  /** `{ key: K value: V }` (in any order), recorded as `field[K]`. */
  private mapEntry(field: DescField & { fieldKind: "map" }, fieldPath: string, nameOffset: number): void {
    const open = this.next();
    if (open.kind !== "punct" || (open.text !== "{" && open.text !== "<")) throw new Stop();
    const closing = open.text === "{" ? "}" : ">";
    let key: string | undefined;
    // The value may come before the key, so its positions are kept aside until the key is known.
    const valuePositions = new FieldPositions();
    const valueReader = (offset: number): void => {
      if (field.mapKind === "message") {
        const start = this.next();
        if (start.kind !== "punct" || (start.text !== "{" && start.text !== "<")) throw new Stop();
        const nested = new PositionReader(this.text, this.registry, valuePositions, this.lines);
        nested.offset = this.offset;
        nested.messageBody(field.message, "", start.text === "{" ? "}" : ">");
        this.offset = nested.offset;
      } else {
        valuePositions.record("", this.lines.position(offset));
        this.scalar();
      }
    };
    for (;;) {
      const token = this.next();
      if (token.kind === "punct" && token.text === closing) break;
      if (token.kind === "punct" && (token.text === "," || token.text === ";")) continue;
      if (token.kind !== "identifier") throw new Stop();
      if (this.peek().kind === "punct" && (this.peek() as { text: string }).text === ":") this.next();
      if (token.text === "key") key = this.scalar();
      else if (token.text === "value") valueReader(this.peek().offset);
      else throw new Stop();
    }
    const entryPath = appendIndex(fieldPath, key ?? defaultKey(field));
    this.record(entryPath, nameOffset);
    for (const [relative, position] of valuePositions.entries()) {
      this.positions.record(relative === "" ? entryPath : relative.startsWith("[") ? `${entryPath}${relative}` : `${entryPath}.${relative}`, position);
    }
  }

  /** `[type.googleapis.com/pkg.Msg] { ... }` inside an Any, or an extension (skipped). */
  private extensionOrAny(desc: DescMessage, path: string): void {
    const name = this.readUntil("]");
    if (this.peek().kind === "punct" && (this.peek() as { text: string }).text === ":") this.next();
    const open = this.peek();
    if (desc.typeName === "google.protobuf.Any" && name.includes("/") && open.kind === "punct" && (open.text === "{" || open.text === "<")) {
      const payload = this.registry?.getMessage(name.slice(name.lastIndexOf("/") + 1));
      if (!payload) throw new Stop();
      this.next();
      this.messageBody(payload, path, open.text === "{" ? "}" : ">");
      return;
    }
    this.skipValue();
  }

  private skipValue(): void {
    const token = this.next();
    if (token.kind === "punct" && (token.text === "{" || token.text === "<" || token.text === "[")) {
      const closing = token.text === "{" ? "}" : token.text === "<" ? ">" : "]";
      for (;;) {
        const inner = this.peek();
        if (inner.kind === "eof") throw new Stop();
        if (inner.kind === "punct" && inner.text === closing) {
          this.next();
          return;
        }
        this.skipValue();
      }
    }
  }

  /** A scalar value (identifier, number, or adjacent strings), as written. */
  private scalar(): string {
    let token = this.next();
    if (token.kind === "punct" && token.text === "-") {
      const number = this.next();
      if (number.kind !== "number" && number.kind !== "identifier") throw new Stop();
      return `-${number.text}`;
    }
    if (token.kind === "number") return normaliseNumber(token.text);
    if (token.kind === "identifier") return token.text;
    if (token.kind !== "string") throw new Stop();
    let value = token.value;
    while (this.peek().kind === "string") {
      token = this.next();
      value += (token as { value: string }).value;
    }
    return value;
  }

  private readUntil(end: string): string {
    const close = this.text.indexOf(end, this.offset);
    if (close < 0) throw new Stop();
    const inside = this.text.slice(this.offset, close).replace(/\s+/g, "");
    this.offset = close + 1;
    this.peeked = undefined;
    return inside;
  }

  private peek(): Token {
    this.peeked ??= this.read();
    return this.peeked;
  }

  private next(): Token {
    const token = this.peek();
    this.peeked = undefined;
    return token;
  }

  private read(): Token {
    const text = this.text;
    for (;;) {
      while (this.offset < text.length && /\s/.test(text[this.offset]!)) this.offset++;
      if (text[this.offset] === "#") {
        const newline = text.indexOf("\n", this.offset);
        this.offset = newline < 0 ? text.length : newline + 1;
        continue;
      }
      break;
    }
    const start = this.offset;
    if (start >= text.length) return { kind: "eof", offset: start };
    const char = text[start]!;
    if (/[A-Za-z_]/.test(char)) {
      const match = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(start, start + 256))!;
      this.offset += match[0].length;
      return { kind: "identifier", text: match[0], offset: start };
    }
    if (/[0-9.]/.test(char)) {
      const match = /^[0-9.](?:[eE][+-]?[0-9]|[0-9A-Za-z_.])*/.exec(text.slice(start, start + 256))!;
      this.offset += match[0].length;
      return { kind: "number", text: match[0], offset: start };
    }
    if (char === '"' || char === "'") return this.quoted(char, start);
    this.offset++;
    return { kind: "punct", text: char, offset: start };
  }

  private quoted(quote: string, start: number): Token {
    const text = this.text;
    let value = "";
    let i = start + 1;
    while (i < text.length && text[i] !== quote) {
      if (text[i] === "\n") throw new Stop();
      if (text[i] === "\\") {
        const escaped = text[i + 1];
        const simple: Record<string, string> = { n: "\n", t: "\t", r: "\r", "\\": "\\", "'": "'", '"': '"', a: "\x07", b: "\b", f: "\f", v: "\v", "?": "?" };
        if (escaped !== undefined && escaped in simple) {
          value += simple[escaped];
          i += 2;
          continue;
        }
        const hex = /^x([0-9A-Fa-f]{1,2})/.exec(text.slice(i + 1, i + 4));
        if (hex) {
          value += String.fromCharCode(parseInt(hex[1]!, 16));
          i += 1 + hex[0].length;
          continue;
        }
        const octal = /^[0-7]{1,3}/.exec(text.slice(i + 1, i + 4));
        if (octal) {
          value += String.fromCharCode(parseInt(octal[0], 8));
          i += 1 + octal[0].length;
          continue;
        }
        const unicode = /^(?:u([0-9A-Fa-f]{4})|U([0-9A-Fa-f]{8}))/.exec(text.slice(i + 1, i + 10));
        if (unicode) {
          value += String.fromCodePoint(parseInt((unicode[1] ?? unicode[2])!, 16));
          i += 1 + unicode[0].length;
          continue;
        }
        throw new Stop();
      }
      value += text[i];
      i++;
    }
    if (i >= text.length) throw new Stop();
    this.offset = i + 1;
    return { kind: "string", value, offset: start };
  }
}

/** Integer map keys are recorded as their decimal value (`0x16` and `22` are the same key). */
function normaliseNumber(text: string): string {
  if (/^(0[xX][0-9A-Fa-f]+|0[0-7]*|[1-9][0-9]*)$/.test(text)) {
    const value = /^0[0-7]+$/.test(text) ? BigInt(`0o${text.slice(1)}`) : BigInt(text);
    return value.toString();
  }
  return text;
}

/** A map entry without `key:` has the key type's default value. */
function defaultKey(field: DescField & { fieldKind: "map" }): string {
  return field.mapKey === ScalarType.STRING ? "" : field.mapKey === ScalarType.BOOL ? "false" : "0";
}
