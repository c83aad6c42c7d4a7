import type { JsonObject, JsonValue } from './json-value';

/**
 * A JSON parser that reads wire text the way Python's `json.loads` does for everything that feeds
 * a hash (protocol §1): integers stay exact (`bigint`), other numbers are doubles, the last duplicate
 * key wins, lone surrogates from `\uXXXX` survive. It is stricter than Python only where Python
 * would hash something we refuse to: `NaN`, `Infinity` and overflowing numbers. (Request bodies
 * are then refused when they hold a lone surrogate: see ill-formed-strings.ts. The parser keeps
 * them so that stored receipts and Python's hash vectors still read exactly.)
 */

export type JsonParseErrorCode = 'invalid_json' | 'number_out_of_range' | 'too_deep';

export class JsonParseError extends Error {
  override readonly name = 'JsonParseError';
  readonly code: JsonParseErrorCode;
  /** Index into the text, in UTF-16 code units. */
  readonly position: number;
  /** What is wrong, without the position (the message is "Invalid JSON at position N: reason"). */
  readonly reason: string;
  constructor(code: JsonParseErrorCode, reason: string, position: number, message = `Invalid JSON at position ${position}: ${reason}`) {
    super(message);
    this.code = code;
    this.position = position;
    this.reason = reason;
  }
}

export interface ParseOptions {
  /** Arrays and objects nested deeper than this are refused (default 512). */
  maxDepth?: number;
}

/** How deep any JSON we accept may nest arrays and objects (our parser's default; MCP bodies too). */
export const MAX_JSON_DEPTH = 512;
// Python 3.11+ refuses to convert integers longer than this (CVE-2020-10735); matching it keeps us
// from hashing what Python cannot, and keeps a 1 MiB digit string from costing a quarter second.
const MAX_INT_DIGITS = 4300;

// Character codes the scanner branches on.
const QUOTE = 0x22,
  BACKSLASH = 0x5c,
  COMMA = 0x2c,
  COLON = 0x3a,
  MINUS = 0x2d,
  PLUS = 0x2b;
const DOT = 0x2e,
  ZERO = 0x30,
  NINE = 0x39,
  LBRACKET = 0x5b,
  RBRACKET = 0x5d,
  LBRACE = 0x7b,
  RBRACE = 0x7d;

function isDigit(c: number): boolean {
  return c >= ZERO && c <= NINE;
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  return -1;
}

function describe(text: string, pos: number): string {
  if (pos >= text.length) return 'end of input';
  const c = text.charCodeAt(pos);
  if (c >= 0x20 && c < 0x7f) return `'${text[pos]}'`;
  return `U+${c.toString(16).toUpperCase().padStart(4, '0')}`;
}

/** Recursive descent is safe here: depth is capped well below the engine's stack limit. */
class Parser {
  pos = 0;
  depth = 0;
  constructor(
    readonly text: string,
    readonly maxDepth: number,
  ) {}

  fail(code: JsonParseErrorCode, what: string, at: number = this.pos): never {
    throw new JsonParseError(code, what, at);
  }

  expected(what: string): never {
    this.fail('invalid_json', `expected ${what}, got ${describe(this.text, this.pos)}`);
  }

  skipWs(): void {
    const t = this.text;
    let p = this.pos;
    for (;;) {
      const c = t.charCodeAt(p);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) p++;
      else break;
    }
    this.pos = p;
  }

  value(): JsonValue {
    const c = this.text.charCodeAt(this.pos);
    if (c === QUOTE) return this.string();
    if (c === LBRACE) return this.object();
    if (c === LBRACKET) return this.array();
    if (c === MINUS || isDigit(c)) return this.number();
    if (c === 0x74 && this.text.startsWith('true', this.pos)) return this.literal(4, true);
    if (c === 0x66 && this.text.startsWith('false', this.pos)) return this.literal(5, false);
    if (c === 0x6e && this.text.startsWith('null', this.pos)) return this.literal(4, null);
    if (this.text.startsWith('NaN', this.pos) || this.text.startsWith('Infinity', this.pos)) {
      this.fail('invalid_json', 'NaN and Infinity are not JSON numbers');
    }
    if (c === 0xfeff && this.pos === 0) this.fail('invalid_json', 'unexpected byte order mark (U+FEFF)');
    this.expected('a JSON value');
  }

  literal<T>(len: number, v: T): T {
    this.pos += len;
    return v;
  }

  // Objects and arrays share their brackets and depth accounting: the depth taken here is given
  // back by whichever of opensEmpty and more meets the closer.
  opensEmpty(closer: number): boolean {
    if (++this.depth > this.maxDepth) this.fail('too_deep', `nesting deeper than ${this.maxDepth} levels`);
    this.pos++;
    this.skipWs();
    if (this.text.charCodeAt(this.pos) !== closer) return false;
    this.pos++;
    this.depth--;
    return true;
  }

  /** True at a comma: another member follows. */
  more(closer: number): boolean {
    this.skipWs();
    const c = this.text.charCodeAt(this.pos);
    if (c === COMMA) {
      this.pos++;
      this.skipWs();
      return true;
    }
    if (c !== closer) this.expected(closer === RBRACE ? "',' or '}'" : "',' or ']'");
    this.pos++;
    this.depth--;
    return false;
  }

  object(): JsonObject {
    const obj: JsonObject = Object.create(null) as JsonObject;
    if (this.opensEmpty(RBRACE)) return obj;
    do {
      if (this.text.charCodeAt(this.pos) !== QUOTE) this.expected('a property name in double quotes');
      const key = this.string();
      this.skipWs();
      if (this.text.charCodeAt(this.pos) !== COLON) this.expected("':'");
      this.pos++;
      this.skipWs();
      obj[key] = this.value();
    } while (this.more(RBRACE));
    return obj;
  }

  array(): JsonValue[] {
    const arr: JsonValue[] = [];
    if (this.opensEmpty(RBRACKET)) return arr;
    do {
      arr.push(this.value());
    } while (this.more(RBRACKET));
    return arr;
  }

  number(): bigint | number {
    const t = this.text;
    const start = this.pos;
    let p = start;
    if (t.charCodeAt(p) === MINUS) p++;
    const intStart = p;
    const first = t.charCodeAt(p);
    if (first === ZERO) {
      p++;
      if (isDigit(t.charCodeAt(p))) this.fail('invalid_json', 'leading zeros are not allowed', p);
    } else if (isDigit(first)) {
      while (isDigit(t.charCodeAt(++p)));
    } else {
      this.pos = p;
      if (t.startsWith('Infinity', p)) this.fail('invalid_json', 'NaN and Infinity are not JSON numbers');
      this.expected('a digit');
    }
    const intDigits = p - intStart;
    let isFloat = false;
    if (t.charCodeAt(p) === DOT) {
      isFloat = true;
      if (!isDigit(t.charCodeAt(++p))) {
        this.pos = p;
        this.expected('a digit after the decimal point');
      }
      while (isDigit(t.charCodeAt(++p)));
    }
    const e = t.charCodeAt(p);
    if (e === 0x65 || e === 0x45) {
      isFloat = true;
      const s = t.charCodeAt(++p);
      if (s === PLUS || s === MINUS) p++;
      if (!isDigit(t.charCodeAt(p))) {
        this.pos = p;
        this.expected('a digit in the exponent');
      }
      while (isDigit(t.charCodeAt(++p)));
    }
    this.pos = p;
    const lexeme = t.slice(start, p);
    if (isFloat) {
      const d = Number(lexeme);
      if (d === Infinity || d === -Infinity) {
        const shown = lexeme.length > 40 ? `${lexeme.slice(0, 37)}...` : lexeme;
        this.fail('number_out_of_range', `number ${shown} does not fit in a double`, start);
      }
      return d;
    }
    if (intDigits > MAX_INT_DIGITS) {
      this.fail('number_out_of_range', `integer has more than ${MAX_INT_DIGITS} digits`, start);
    }
    return BigInt(lexeme);
  }

  string(): string {
    const t = this.text;
    const start = ++this.pos;
    let p = start;
    // Fast path: most strings have no escapes, so a slice is all we need.
    for (;;) {
      const c = t.charCodeAt(p);
      if (c === QUOTE) {
        this.pos = p + 1;
        return t.slice(start, p);
      }
      if (c === BACKSLASH) break;
      if (c < 0x20 || c !== c) this.badStringChar(p);
      p++;
    }
    let out = t.slice(start, p);
    let chunk = p;
    for (;;) {
      const c = t.charCodeAt(p);
      if (c === QUOTE) {
        this.pos = p + 1;
        return out + t.slice(chunk, p);
      }
      if (c === BACKSLASH) {
        out += t.slice(chunk, p);
        p++;
        out += this.escape(p);
        p += t.charCodeAt(p) === 0x75 ? 5 : 1;
        chunk = p;
        continue;
      }
      if (c < 0x20 || c !== c) this.badStringChar(p);
      p++;
    }
  }

  escape(p: number): string {
    const c = this.text.charCodeAt(p);
    switch (c) {
      case QUOTE:
        return '"';
      case BACKSLASH:
        return '\\';
      case 0x2f:
        return '/';
      case 0x62:
        return '\b';
      case 0x66:
        return '\f';
      case 0x6e:
        return '\n';
      case 0x72:
        return '\r';
      case 0x74:
        return '\t';
      case 0x75: {
        let code = 0;
        for (let i = 1; i <= 4; i++) {
          const h = hexValue(this.text.charCodeAt(p + i));
          if (h < 0) this.fail('invalid_json', 'invalid \\uXXXX escape', p - 1);
          code = (code << 4) | h;
        }
        // A lone surrogate stays a lone code unit, as Python keeps it a lone code point; an
        // escaped pair becomes adjacent units, which is exactly the astral character.
        return String.fromCharCode(code);
      }
      default:
        return this.fail('invalid_json', `invalid escape: backslash followed by ${describe(this.text, p)}`, p - 1);
    }
  }

  badStringChar(p: number): never {
    if (p >= this.text.length) this.fail('invalid_json', 'unterminated string', p);
    this.fail('invalid_json', `invalid control character ${describe(this.text, p)} in string`, p);
  }
}

/** Parses one JSON text; surrounding space, tab, CR and LF are allowed, nothing else. */
export function parseJson(text: string, options?: ParseOptions): JsonValue {
  const parser = new Parser(text, options?.maxDepth ?? MAX_JSON_DEPTH);
  parser.skipWs();
  const v = parser.value();
  parser.skipWs();
  if (parser.pos < text.length) parser.expected('end of input');
  return v;
}

// ignoreBOM keeps a leading U+FEFF in the text so the parser refuses it instead of silently
// hashing a body that carried one.
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Decodes a request body, refusing malformed UTF-8 rather than substituting U+FFFD. */
export function decodeUtf8Strict(bytes: Uint8Array): string {
  try {
    return utf8.decode(bytes);
  } catch {
    throw new JsonParseError('invalid_json', 'Request body is not valid UTF-8', 0, 'Request body is not valid UTF-8');
  }
}
