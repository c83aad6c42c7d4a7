import type { JsonValue } from './json-value';

/**
 * Writers that reproduce Python's `json.dumps(v, sort_keys=True, ...)` byte for byte (protocol §1, §3),
 * because approvals and receipts are sha256 hashes of exactly those bytes.
 */

/**
 * Python's `repr(float)`: shortest round-trip digits (the same digits V8 picks), `.0` on integral
 * values, positional notation for 1e-4 <= |x| < 1e16 and exponent notation elsewhere.
 */
export function pythonFloatRepr(x: number): string {
  if (!Number.isFinite(x)) throw new RangeError(`${x} has no JSON representation`);
  const ax = Math.abs(x);
  // In this range V8's String() already writes positional shortest digits, as Python does.
  if (ax >= 1e-4 && ax < 1e16) {
    const s = String(x);
    return Number.isInteger(x) ? `${s}.0` : s;
  }
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  // toExponential() with no argument gives the shortest round-trip digits as d.ddde±N.
  const e = x.toExponential();
  const at = e.indexOf('e');
  const mantissa = e.slice(0, at);
  const exp = Number(e.slice(at + 1));
  const sign = exp < 0 ? '-' : '+';
  const mag = Math.abs(exp);
  return `${mantissa}e${sign}${mag < 10 ? '0' : ''}${mag}`;
}

/** The characters Python's ensure_ascii writer leaves alone: printable ASCII but `"` and `\`. */
const NEEDS_ESCAPE = /[^\x20\x21\x23-\x5b\x5d-\x7e]/;

const SHORT_ESCAPES: Record<number, string> = {
  0x22: '\\"',
  0x5c: '\\\\',
  0x08: '\\b',
  0x0c: '\\f',
  0x0a: '\\n',
  0x0d: '\\r',
  0x09: '\\t',
};

function writeString(s: string): string {
  if (!NEEDS_ESCAPE.test(s)) return `"${s}"`;
  let out = '"';
  let chunk = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x20 && c <= 0x7e && c !== 0x22 && c !== 0x5c) continue;
    out += s.slice(chunk, i);
    // Iterating UTF-16 units makes astral characters come out as \ud83d\ude00 pairs and keeps
    // lone surrogates as themselves, both exactly as Python writes them.
    out += SHORT_ESCAPES[c] ?? `\\u${c.toString(16).padStart(4, '0')}`;
    chunk = i + 1;
  }
  return `${out}${s.slice(chunk)}"`;
}

const HAS_SURROGATE_OR_HIGH = /[\ud800-\uffff]/;

/**
 * Orders keys by Unicode code point as Python does. UTF-16 unit order agrees except where a
 * surrogate meets a unit in U+E000..U+FFFF, so this only runs when a key holds such units.
 */
function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a.charCodeAt(i) === b.charCodeAt(i)) i++;
  if (i === n) return a.length - b.length;
  // The differing unit may be the low half of a pair whose high half is shared; compare whole
  // code points from the shared high half (codePointAt yields a lone surrogate's own value).
  const prev = i > 0 ? a.charCodeAt(i - 1) : 0;
  if (prev >= 0xd800 && prev <= 0xdbff) {
    const ca = a.codePointAt(i - 1) ?? 0;
    const cb = b.codePointAt(i - 1) ?? 0;
    if (ca !== cb) return ca - cb;
  }
  return (a.codePointAt(i) ?? 0) - (b.codePointAt(i) ?? 0);
}

function sortedKeys(obj: object): string[] {
  const keys = Object.keys(obj);
  if (keys.length < 2) return keys;
  for (const k of keys) {
    if (HAS_SURROGATE_OR_HIGH.test(k)) return keys.sort(compareCodePoints);
  }
  return keys.sort();
}

// Deep enough for any value that passed the parser's limit, shallow enough to stop a cycle (which
// Python reports as "Circular reference detected") long before the stack runs out.
const MAX_WRITE_DEPTH = 4096;

function write(v: JsonValue, itemSep: string, keySep: string, depth: number): string {
  switch (typeof v) {
    case 'string':
      return writeString(v);
    case 'bigint':
      return v.toString();
    case 'number':
      return pythonFloatRepr(v);
    case 'boolean':
      return v ? 'true' : 'false';
    case 'object': {
      if (v === null) return 'null';
      if (depth >= MAX_WRITE_DEPTH) throw new RangeError('JSON value is nested too deeply or circular');
      if (Array.isArray(v)) {
        if (v.length === 0) return '[]';
        let out = '[';
        for (let i = 0; i < v.length; i++) {
          if (i > 0) out += itemSep;
          out += write(v[i] as JsonValue, itemSep, keySep, depth + 1);
        }
        return `${out}]`;
      }
      const keys = sortedKeys(v);
      if (keys.length === 0) return '{}';
      let out = '{';
      for (let i = 0; i < keys.length; i++) {
        const k = keys[i] as string;
        if (i > 0) out += itemSep;
        out += writeString(k) + keySep + write(v[k] as JsonValue, itemSep, keySep, depth + 1);
      }
      return `${out}}`;
    }
    default:
      throw new TypeError(`Object of type ${typeof v} is not JSON serializable`);
  }
}

/** Python's `json.dumps(v, sort_keys=True, separators=(",", ":"))`: the hashed request form. */
export function canonicalJson(v: JsonValue): string {
  return write(v, ',', ':', 0);
}

/** Python's `json.dumps(v, sort_keys=True)` with its default `", "` and `": "` separators. */
export function pythonJsonDumpsSorted(v: JsonValue): string {
  return write(v, ', ', ': ', 0);
}
