/**
 * The lexical half of the text format: turns the input into tokens, one at a time, without
 * allocating per token. The parser reads the current token from the scanner's fields and
 * asks for its text or value only when it needs them.
 */

// Token kinds are typed `number`, not literal types: the parser tests `scanner.kind` again
// after `next()` has changed it, which literal narrowing would reject as impossible.

/** End of input. Punctuation tokens use their own character code as kind. */
export const TOKEN_EOF: number = 0;
export const TOKEN_IDENT: number = 1;
/** Decimal integer (`dec_lit`). */
export const TOKEN_DEC_INT: number = 2;
/** Octal integer: `0` followed by octal digits. */
export const TOKEN_OCT_INT: number = 3;
/** Hexadecimal integer: `0x` followed by hex digits. */
export const TOKEN_HEX_INT: number = 4;
export const TOKEN_FLOAT: number = 5;
export const TOKEN_STRING: number = 6;

export const CHAR_LBRACE: number = 0x7b;
export const CHAR_RBRACE: number = 0x7d;
export const CHAR_LT: number = 0x3c;
export const CHAR_GT: number = 0x3e;
export const CHAR_LBRACKET: number = 0x5b;
export const CHAR_RBRACKET: number = 0x5d;
export const CHAR_COLON: number = 0x3a;
export const CHAR_COMMA: number = 0x2c;
export const CHAR_SEMICOLON: number = 0x3b;
export const CHAR_MINUS: number = 0x2d;

const CHAR_NEWLINE = 0x0a;
const CHAR_HASH = 0x23;
const CHAR_DQUOTE = 0x22;
const CHAR_SQUOTE = 0x27;
const CHAR_BACKSLASH = 0x5c;
const CHAR_DOT = 0x2e;
const CHAR_SLASH = 0x2f;

// Character classes for ASCII; everything at or above 128 has none of them.
const CLASS_LETTER = 1; // A-Z a-z _
const CLASS_DIGIT = 2;
const CLASS_HEX = 4;
const CLASS_OCT = 8;
const CLASS_SPACE = 16;
const CLASS_PUNCT = 32;
// Characters of the domain part of an Any type URL besides letters, digits, `.` and `/`.
const CLASS_URL = 64;

const charClass = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  let k = 0;
  if ((c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x5f) k |= CLASS_LETTER;
  if (c >= 0x30 && c <= 0x39) k |= CLASS_DIGIT | CLASS_HEX;
  if (c >= 0x30 && c <= 0x37) k |= CLASS_OCT;
  if ((c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66)) k |= CLASS_HEX;
  if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0b || c === 0x0c || c === 0x0d) k |= CLASS_SPACE;
  if ("{}<>[]:,;-".includes(String.fromCharCode(c))) k |= CLASS_PUNCT;
  if ("-~%".includes(String.fromCharCode(c))) k |= CLASS_URL;
  charClass[c] = k;
}

function hasClass(c: number, k: number): boolean {
  return c < 128 && (charClass[c]! & k) !== 0;
}

function hexDigitValue(c: number): number {
  if (c <= 0x39) return c - 0x30;
  return (c | 0x20) - 0x61 + 10;
}

/** Reports a problem at an offset in the text; never returns. */
export type ScanFailure = (message: string, offset: number) => never;

/**
 * The 1-based line and column of an offset. Columns count code points, as editors do.
 * Computed only for an error, so that scanning need not track lines.
 */
export function locate(text: string, offset: number): { line: number; col: number } {
  let line = 1;
  let lineStart = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  for (let p = text.indexOf("\n"); p !== -1 && p < offset; p = text.indexOf("\n", p + 1)) {
    line++;
    lineStart = p + 1;
  }
  let col = 1;
  for (let p = lineStart; p < offset; p++) {
    const c = text.charCodeAt(p);
    // The second half of a surrogate pair is part of the same code point.
    if (!(c >= 0xdc00 && c <= 0xdfff && p > lineStart && isHighSurrogate(text.charCodeAt(p - 1)))) col++;
  }
  return { line, col };
}

function isHighSurrogate(c: number): boolean {
  return c >= 0xd800 && c <= 0xdbff;
}

/**
 * Grows as needed; the parser keeps one for the whole input so that decoding escaped
 * strings allocates only the final copy.
 */
export class ByteBuffer {
  bytes = new Uint8Array(256);
  length = 0;

  reset(): void {
    this.length = 0;
  }

  push(byte: number): void {
    if (this.length === this.bytes.length) {
      const grown = new Uint8Array(this.bytes.length * 2);
      grown.set(this.bytes);
      this.bytes = grown;
    }
    this.bytes[this.length++] = byte;
  }

  pushCodePoint(cp: number): void {
    if (cp < 0x80) {
      this.push(cp);
    } else if (cp < 0x800) {
      this.push(0xc0 | (cp >> 6));
      this.push(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
      this.push(0xe0 | (cp >> 12));
      this.push(0x80 | ((cp >> 6) & 0x3f));
      this.push(0x80 | (cp & 0x3f));
    } else {
      this.push(0xf0 | (cp >> 18));
      this.push(0x80 | ((cp >> 12) & 0x3f));
      this.push(0x80 | ((cp >> 6) & 0x3f));
      this.push(0x80 | (cp & 0x3f));
    }
  }

  copy(): Uint8Array {
    return this.bytes.slice(0, this.length);
  }
}

export class Scanner {
  /** Kind of the current token: a TOKEN_* constant or a punctuation character code. */
  kind = TOKEN_EOF;
  /** Offsets of the current token in the text, end exclusive. */
  start = 0;
  end = 0;
  /**
   * Whether the current string token must be decoded (escapes, or lone UTF-16 surrogates
   * that become U+FFFD as in any UTF-8 encoding) rather than taken as it is.
   */
  stringNeedsDecoding = false;

  private pos = 0;
  private readonly length: number;

  constructor(
    readonly text: string,
    private readonly fail: ScanFailure,
  ) {
    this.length = text.length;
    // A byte order mark is not part of the text.
    if (text.charCodeAt(0) === 0xfeff) this.pos = 1;
  }

  /** Text of the current token. */
  tokenText(): string {
    return this.text.slice(this.start, this.end);
  }

  /** Advances to the next token. */
  next(): void {
    this.skipSpaceAndComments();
    const text = this.text;
    const start = this.pos;
    this.start = start;
    if (start >= this.length) {
      this.kind = TOKEN_EOF;
      this.end = start;
      return;
    }
    const c = text.charCodeAt(start);
    if (c < 128) {
      const cls = charClass[c]!;
      if (cls & CLASS_LETTER) {
        let p = start + 1;
        while (p < this.length && hasClass(text.charCodeAt(p), CLASS_LETTER | CLASS_DIGIT)) p++;
        this.kind = TOKEN_IDENT;
        this.end = this.pos = p;
        return;
      }
      if (cls & CLASS_DIGIT || (c === CHAR_DOT && hasClass(text.charCodeAt(start + 1), CLASS_DIGIT))) {
        this.scanNumber(start);
        return;
      }
      if (c === CHAR_DQUOTE || c === CHAR_SQUOTE) {
        this.scanString(start, c);
        return;
      }
      if (cls & CLASS_PUNCT) {
        this.kind = c;
        this.end = this.pos = start + 1;
        return;
      }
    }
    const cp = text.codePointAt(start)!;
    this.fail(`unexpected character ${describeChar(cp)}`, start);
  }

  /**
   * Reads the name inside `[...]` right after the `[` token (the current token): an
   * extension name or an Any type URL. Components may be separated by whitespace and
   * comments, as the grammar's tokens may. Leaves the scanner before the `]`.
   */
  scanBracketName(): { name: string; offset: number } {
    this.skipSpaceAndComments();
    const offset = this.pos;
    let name = "";
    for (;;) {
      const runStart = this.pos;
      let p = runStart;
      while (p < this.length && hasClass(this.text.charCodeAt(p), CLASS_LETTER | CLASS_DIGIT | CLASS_URL)) p++;
      const c = this.text.charCodeAt(p);
      if (c === CHAR_DOT || c === CHAR_SLASH) {
        p++;
        name += this.text.slice(runStart, p);
        this.pos = p;
        this.skipSpaceAndComments();
        continue;
      }
      name += this.text.slice(runStart, p);
      this.pos = p;
      const before = this.pos;
      this.skipSpaceAndComments();
      const after = this.text.charCodeAt(this.pos);
      // A separator after whitespace continues the name ("type . googleapis"); anything
      // else ends it, and the parser then expects "]".
      if (this.pos !== before && (after === CHAR_DOT || after === CHAR_SLASH)) continue;
      break;
    }
    return { name, offset };
  }

  private skipSpaceAndComments(): void {
    const text = this.text;
    const length = this.length;
    let p = this.pos;
    while (p < length) {
      const c = text.charCodeAt(p);
      if (c === CHAR_HASH) {
        while (p < length && text.charCodeAt(p) !== CHAR_NEWLINE) p++;
      } else if (c < 128 && charClass[c]! & CLASS_SPACE) {
        p++;
      } else {
        break;
      }
    }
    this.pos = p;
  }

  private scanNumber(start: number): void {
    const text = this.text;
    const length = this.length;
    let p = start;
    let kind = TOKEN_DEC_INT;
    const first = text.charCodeAt(p);
    const second = text.charCodeAt(p + 1);
    if (first === 0x30 && (second === 0x78 || second === 0x58)) {
      p += 2;
      const digits = p;
      while (p < length && hasClass(text.charCodeAt(p), CLASS_HEX)) p++;
      if (p === digits) this.failNumber(start, p);
      kind = TOKEN_HEX_INT;
    } else if (first === 0x30 && hasClass(second, CLASS_DIGIT)) {
      p++;
      while (p < length && hasClass(text.charCodeAt(p), CLASS_OCT)) p++;
      kind = TOKEN_OCT_INT;
    } else {
      // dec_lit, then the optional float parts; "0" alone is a dec_lit.
      if (first === CHAR_DOT) {
        kind = TOKEN_FLOAT;
      } else if (first === 0x30) {
        p++;
      } else {
        while (p < length && hasClass(text.charCodeAt(p), CLASS_DIGIT)) p++;
      }
      if (text.charCodeAt(p) === CHAR_DOT) {
        p++;
        while (p < length && hasClass(text.charCodeAt(p), CLASS_DIGIT)) p++;
        kind = TOKEN_FLOAT;
      }
      const e = text.charCodeAt(p);
      if (e === 0x65 || e === 0x45) {
        let q = p + 1;
        const sign = text.charCodeAt(q);
        if (sign === 0x2b || sign === CHAR_MINUS) q++;
        if (hasClass(text.charCodeAt(q), CLASS_DIGIT)) {
          while (q < length && hasClass(text.charCodeAt(q), CLASS_DIGIT)) q++;
          p = q;
          kind = TOKEN_FLOAT;
        }
      }
      const suffix = text.charCodeAt(p);
      if (suffix === 0x66 || suffix === 0x46) {
        p++;
        kind = TOKEN_FLOAT;
      }
    }
    // A number may not run into an identifier ("10bar"), and the lexer has no token that
    // starts with a digit or "." right after a number ("0128", "1.2.3").
    const after = text.charCodeAt(p);
    if (hasClass(after, CLASS_LETTER | CLASS_DIGIT) || after === CHAR_DOT) this.failNumber(start, p);
    this.kind = kind;
    this.end = this.pos = p;
  }

  private failNumber(start: number, p: number): never {
    let end = p;
    while (end < this.length && (hasClass(this.text.charCodeAt(end), CLASS_LETTER | CLASS_DIGIT) || this.text.charCodeAt(end) === CHAR_DOT)) {
      end++;
    }
    return this.fail(`invalid number "${this.text.slice(start, end)}"`, this.start);
  }

  /** Finds the end of a string literal and checks its escapes, so that decoding cannot fail. */
  private scanString(start: number, quote: number): void {
    const text = this.text;
    const length = this.length;
    let p = start + 1;
    let needsDecoding = false;
    for (;;) {
      if (p >= length) this.fail("unterminated string: missing closing quote", this.start);
      const c = text.charCodeAt(p);
      if (c === quote) {
        p++;
        break;
      }
      if (c === CHAR_NEWLINE) {
        this.fail("unterminated string: a newline in a string must be written as \\n", this.start);
      }
      if (c === 0) this.fail("NUL character in string: write it as \\0", p);
      if (c === CHAR_BACKSLASH) {
        needsDecoding = true;
        p = this.checkEscape(p);
      } else if (c >= 0xd800 && c <= 0xdfff) {
        const next = text.charCodeAt(p + 1);
        if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
          p += 2;
        } else {
          needsDecoding = true;
          p++;
        }
      } else {
        p++;
      }
    }
    this.kind = TOKEN_STRING;
    this.stringNeedsDecoding = needsDecoding;
    this.end = this.pos = p;
  }

  /** Checks the escape at `p` (a backslash) and returns the offset after it. */
  private checkEscape(p: number): number {
    const text = this.text;
    const e = text.charCodeAt(p + 1);
    switch (e) {
      case 0x61: // a
      case 0x62: // b
      case 0x66: // f
      case 0x6e: // n
      case 0x72: // r
      case 0x74: // t
      case 0x76: // v
      case 0x3f: // ?
      case CHAR_BACKSLASH:
      case CHAR_SQUOTE:
      case CHAR_DQUOTE:
        return p + 2;
      case 0x78: // x
      case 0x58: {
        // X
        let q = p + 2;
        while (q < p + 4 && hasClass(text.charCodeAt(q), CLASS_HEX)) q++;
        if (q === p + 2) this.fail("invalid escape: \\x needs a hexadecimal digit", p);
        return q;
      }
      case 0x75: // u
      case 0x55: {
        // U
        const digits = e === 0x75 ? 4 : 8;
        const cp = this.readHexDigits(p + 2, digits);
        if (cp < 0) {
          this.fail(`invalid escape: \\${String.fromCharCode(e)} needs ${digits} hexadecimal digits`, p);
        }
        if (cp > 0x10ffff) this.fail("invalid escape: code point above U+10FFFF", p);
        if (cp >= 0xd800 && cp <= 0xdbff) {
          // UTF-16 style pairs (\uD83D\uDE00) are what C++ and Go accept; a lone half has no
          // UTF-8 encoding.
          const low = text.charCodeAt(p + 6) === CHAR_BACKSLASH && text.charCodeAt(p + 7) === 0x75 ? this.readHexDigits(p + 8, 4) : -1;
          if (e !== 0x75 || low < 0xdc00 || low > 0xdfff) {
            this.fail("invalid escape: unpaired surrogate code point", p);
          }
          return p + 12;
        }
        if (cp >= 0xdc00 && cp <= 0xdfff) this.fail("invalid escape: unpaired surrogate code point", p);
        return p + 2 + digits;
      }
      default: {
        if (hasClass(e, CLASS_OCT)) {
          let q = p + 1;
          let value = 0;
          while (q < p + 4 && hasClass(text.charCodeAt(q), CLASS_OCT)) value = value * 8 + text.charCodeAt(q++) - 0x30;
          if (value > 0xff) this.fail("invalid escape: octal value above \\377", p);
          return q;
        }
        if (Number.isNaN(e) || e === CHAR_NEWLINE) this.fail("unterminated string: missing closing quote", this.start);
        const cp = text.codePointAt(p + 1)!;
        return this.fail(`invalid escape "\\${String.fromCodePoint(cp)}" in string`, p);
      }
    }
  }

  /** Value of exactly `count` hex digits at `p`, or -1. */
  private readHexDigits(p: number, count: number): number {
    let value = 0;
    for (let i = 0; i < count; i++) {
      const c = this.text.charCodeAt(p + i);
      if (!hasClass(c, CLASS_HEX)) return -1;
      value = value * 16 + hexDigitValue(c);
    }
    return value;
  }

  /**
   * Appends the bytes of the current string token (escapes resolved, other characters
   * as UTF-8) to `out`. The escapes were checked when the token was scanned.
   */
  appendStringBytes(out: ByteBuffer): void {
    const text = this.text;
    const end = this.end - 1;
    let p = this.start + 1;
    while (p < end) {
      const c = text.charCodeAt(p);
      if (c !== CHAR_BACKSLASH) {
        const cp = text.codePointAt(p)!;
        // A lone surrogate in the input itself becomes U+FFFD, as any UTF-8 encoder does.
        out.pushCodePoint(cp >= 0xd800 && cp <= 0xdfff ? 0xfffd : cp);
        p += cp > 0xffff ? 2 : 1;
        continue;
      }
      const e = text.charCodeAt(p + 1);
      p += 2;
      switch (e) {
        case 0x61:
          out.push(7);
          break;
        case 0x62:
          out.push(8);
          break;
        case 0x66:
          out.push(12);
          break;
        case 0x6e:
          out.push(10);
          break;
        case 0x72:
          out.push(13);
          break;
        case 0x74:
          out.push(9);
          break;
        case 0x76:
          out.push(11);
          break;
        case 0x78:
        case 0x58: {
          let value = 0;
          const stop = p + 2;
          while (p < stop && hasClass(text.charCodeAt(p), CLASS_HEX)) value = value * 16 + hexDigitValue(text.charCodeAt(p++));
          out.push(value);
          break;
        }
        case 0x75:
        case 0x55: {
          const digits = e === 0x75 ? 4 : 8;
          let cp = this.readHexDigits(p, digits);
          p += digits;
          if (cp >= 0xd800 && cp <= 0xdbff) {
            const low = this.readHexDigits(p + 2, 4);
            cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
            p += 6;
          }
          out.pushCodePoint(cp);
          break;
        }
        default:
          if (hasClass(e, CLASS_OCT)) {
            let value = e - 0x30;
            const stop = p + 2;
            while (p < stop && hasClass(text.charCodeAt(p), CLASS_OCT)) value = value * 8 + text.charCodeAt(p++) - 0x30;
            out.push(value);
          } else {
            // \\ \' \" \?
            out.push(e);
          }
      }
    }
  }
}

function describeChar(cp: number): string {
  if (cp >= 0x21 && cp < 0x7f) return `"${String.fromCharCode(cp)}"`;
  return `U+${cp.toString(16).toUpperCase().padStart(4, "0")}`;
}
