/**
 * A strict JSON reader (RFC 8259) that keeps where every value starts. It exists because
 * the YAML reader, which would also read JSON, is more than ten times slower on large
 * files; and it is strict where YAML would be lenient (comments, single quotes).
 */
import { TopologyParseError } from "./errors";
import { LineTable } from "./field-path";
import { maxSourceDepth, type SourceDocument, type SourceEntry, type SourceNode } from "./source-tree";

export function parseJsonSource(text: string, file?: string): SourceDocument {
  const lines = new LineTable(text);
  const reader = new JsonReader(text, (offset, message) => {
    const { line, col } = lines.position(offset);
    throw new TopologyParseError({ file, line, col, path: "", message });
  });
  const root = reader.document();
  return { root, position: (offset) => lines.position(offset) };
}

const escapes: Record<string, string> = { '"': '"', "\\": "\\", "/": "/", b: "\b", f: "\f", n: "\n", r: "\r", t: "\t" };
const numberPattern = /-?(?:0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y;

class JsonReader {
  private offset = 0;

  constructor(
    private readonly text: string,
    private readonly fail: (offset: number, message: string) => never,
  ) {}

  document(): SourceNode {
    this.skipSpace();
    if (this.offset >= this.text.length) this.fail(this.offset, "expected a JSON value, the file is empty");
    const root = this.value(0);
    this.skipSpace();
    if (this.offset < this.text.length) this.fail(this.offset, `unexpected ${this.describeAt(this.offset)} after the JSON value`);
    return root;
  }

  private skipSpace(): void {
    const text = this.text;
    while (this.offset < text.length) {
      const c = text.charCodeAt(this.offset);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) this.offset++;
      else break;
    }
  }

  private describeAt(offset: number): string {
    if (offset >= this.text.length) return "end of input";
    const char = String.fromCodePoint(this.text.codePointAt(offset)!);
    return /[\p{L}\p{N}\p{P}\p{S}]/u.test(char) ? `'${char}'` : `character U+${char.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")}`;
  }

  private value(depth: number): SourceNode {
    if (depth > maxSourceDepth) this.fail(this.offset, `nesting deeper than ${maxSourceDepth} levels`);
    const start = this.offset;
    const c = this.text[start];
    if (c === "{") return this.object(depth);
    if (c === "[") return this.array(depth);
    if (c === '"') return { kind: "scalar", offset: start, value: this.string() };
    if (c === "-" || (c !== undefined && c >= "0" && c <= "9")) return this.number();
    for (const [word, value] of [["true", true], ["false", false], ["null", null]] as const) {
      if (this.text.startsWith(word, start)) {
        this.offset += word.length;
        return { kind: "scalar", offset: start, value };
      }
    }
    return this.fail(start, `expected a JSON value, got ${this.describeAt(start)}`);
  }

  private object(depth: number): SourceNode {
    const start = this.offset++;
    const entries: SourceEntry[] = [];
    const keys = new Set<string>();
    this.skipSpace();
    if (this.text[this.offset] === "}") {
      this.offset++;
      return { kind: "map", offset: start, entries };
    }
    for (;;) {
      this.skipSpace();
      const keyOffset = this.offset;
      if (this.text[keyOffset] !== '"') this.fail(keyOffset, `expected a "quoted" key, got ${this.describeAt(keyOffset)}`);
      const key = this.string();
      if (keys.has(key)) this.fail(keyOffset, `duplicate key ${JSON.stringify(key)}`);
      keys.add(key);
      this.skipSpace();
      if (this.text[this.offset] !== ":") this.fail(this.offset, `expected ':' after the key, got ${this.describeAt(this.offset)}`);
      this.offset++;
      this.skipSpace();
      entries.push({ key: { kind: "scalar", offset: keyOffset, value: key }, value: this.value(depth + 1) });
      this.skipSpace();
      const next = this.text[this.offset];
      if (next === ",") {
        this.offset++;
        continue;
      }
      if (next === "}") {
        this.offset++;
        return { kind: "map", offset: start, entries };
      }
      this.fail(this.offset, `expected ',' or '}', got ${this.describeAt(this.offset)}`);
    }
  }

  private array(depth: number): SourceNode {
    const start = this.offset++;
    const items: SourceNode[] = [];
    this.skipSpace();
    if (this.text[this.offset] === "]") {
      this.offset++;
      return { kind: "list", offset: start, items };
    }
    for (;;) {
      this.skipSpace();
      items.push(this.value(depth + 1));
      this.skipSpace();
      const next = this.text[this.offset];
      if (next === ",") {
        this.offset++;
        continue;
      }
      if (next === "]") {
        this.offset++;
        return { kind: "list", offset: start, items };
      }
      this.fail(this.offset, `expected ',' or ']', got ${this.describeAt(this.offset)}`);
    }
  }

  private string(): string {
    const text = this.text;
    const start = this.offset;
    let i = start + 1;
    let out = "";
    let chunkStart = i;
    for (;;) {
      if (i >= text.length) this.fail(start, "unterminated string");
      const c = text.charCodeAt(i);
      if (c === 0x22) break;
      if (c < 0x20) this.fail(i, "control characters must be escaped in JSON strings");
      if (c !== 0x5c) {
        i++;
        continue;
      }
      out += text.slice(chunkStart, i);
      const escaped = text[i + 1];
      if (escaped === "u") {
        const hex = text.slice(i + 2, i + 6);
        if (!/^[0-9A-Fa-f]{4}$/.test(hex)) this.fail(i, "\\u must be followed by four hex digits");
        out += String.fromCharCode(parseInt(hex, 16));
        i += 6;
      } else if (escaped !== undefined && escaped in escapes) {
        out += escapes[escaped];
        i += 2;
      } else {
        this.fail(i, `invalid escape \\${escaped ?? ""}`);
      }
      chunkStart = i;
    }
    out += text.slice(chunkStart, i);
    this.offset = i + 1;
    return out;
  }

  private number(): SourceNode {
    const start = this.offset;
    numberPattern.lastIndex = start;
    const match = numberPattern.exec(this.text);
    if (!match || match[0] === "-") this.fail(start, `invalid number`);
    const literal = match[0];
    this.offset += literal.length;
    const next = this.text[this.offset];
    if (next !== undefined && /[0-9A-Za-z.+-]/.test(next)) this.fail(start, `invalid number`);
    const isInteger = match[1] === undefined && match[2] === undefined;
    // Integers beyond 2^53 stay exact: 64-bit fields need every digit.
    const value = isInteger && !Number.isSafeInteger(Number(literal)) ? BigInt(literal) : Number(literal);
    return { kind: "scalar", offset: start, value };
  }
}
