/**
 * Canonical JSON text (SPEC §1) as a tree that keeps every value's exact spelling, so the
 * console can lay a payload out field by field, compare it with another one and show its
 * strings readably without ever turning a number into a JavaScript number.
 */

export type CanonNode =
  | { kind: 'object'; entries: CanonEntry[]; raw: string }
  | { kind: 'array'; items: CanonNode[]; raw: string }
  | { kind: 'string'; raw: string }
  | { kind: 'literal'; raw: string };

export interface CanonEntry {
  /** The key as written, quotes included. */
  keyRaw: string;
  /** The key as text. */
  key: string;
  value: CanonNode;
}

class Malformed extends Error {}

/** The tree of `text`, or null when it is not well-formed JSON. */
export function parseCanonical(text: string): CanonNode | null {
  let i = 0;
  const space = (): void => {
    while (i < text.length && ' \n\r\t'.includes(text.charAt(i))) i++;
  };
  const stringToken = (): string => {
    const start = i;
    if (text.charAt(i) !== '"') throw new Malformed();
    i++;
    while (i < text.length) {
      const ch = text.charAt(i);
      if (ch === '\\') i += 2;
      else if (ch === '"') return text.slice(start, ++i);
      else i++;
    }
    throw new Malformed();
  };
  const value = (): CanonNode => {
    space();
    const start = i;
    const ch = text.charAt(i);
    if (ch === '{') {
      i++;
      const entries: CanonEntry[] = [];
      space();
      if (text.charAt(i) === '}') i++;
      else {
        for (;;) {
          space();
          const keyRaw = stringToken();
          space();
          if (text.charAt(i++) !== ':') throw new Malformed();
          entries.push({ keyRaw, key: decodeJsonString(keyRaw), value: value() });
          space();
          const next = text.charAt(i++);
          if (next === '}') break;
          if (next !== ',') throw new Malformed();
        }
      }
      return { kind: 'object', entries, raw: text.slice(start, i) };
    }
    if (ch === '[') {
      i++;
      const items: CanonNode[] = [];
      space();
      if (text.charAt(i) === ']') i++;
      else {
        for (;;) {
          items.push(value());
          space();
          const next = text.charAt(i++);
          if (next === ']') break;
          if (next !== ',') throw new Malformed();
        }
      }
      return { kind: 'array', items, raw: text.slice(start, i) };
    }
    if (ch === '"') return { kind: 'string', raw: stringToken() };
    const literal = /^(?:-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null)/.exec(text.slice(i));
    if (!literal) throw new Malformed();
    i += literal[0].length;
    return { kind: 'literal', raw: literal[0] };
  };
  try {
    const root = value();
    space();
    return i === text.length ? root : null;
  } catch (err) {
    if (err instanceof Malformed) return null;
    throw err;
  }
}

/** The text a JSON string token stands for (every escape decoded). */
export function decodeJsonString(raw: string): string {
  try {
    const decoded: unknown = JSON.parse(raw);
    return typeof decoded === 'string' ? decoded : raw;
  } catch {
    return raw;
  }
}

const HEX4 = /^[0-9a-fA-F]{4}$/;

/**
 * A string token with its `\uXXXX` escapes of non-ASCII characters written as the characters
 * (surrogate pairs joined); quotes, backslashes, control characters and lone surrogates keep
 * their escapes, so the result still reads as the JSON it came from.
 */
export function readableJsonString(raw: string): string {
  let out = '';
  for (let i = 0; i < raw.length; i++) {
    const ch = raw.charAt(i);
    if (ch !== '\\') {
      out += ch;
      continue;
    }
    const next = raw.charAt(i + 1);
    const hex = raw.slice(i + 2, i + 6);
    if (next !== 'u' || !HEX4.test(hex)) {
      out += ch + next;
      i++;
      continue;
    }
    const unit = parseInt(hex, 16);
    const lowHex = raw.slice(i + 8, i + 12);
    if (unit >= 0xd800 && unit <= 0xdbff && raw.slice(i + 6, i + 8) === '\\u' && HEX4.test(lowHex)) {
      const low = parseInt(lowHex, 16);
      if (low >= 0xdc00 && low <= 0xdfff) {
        out += String.fromCharCode(unit, low);
        i += 11;
        continue;
      }
    }
    if (unit < 0x80 || (unit >= 0xd800 && unit <= 0xdfff)) out += raw.slice(i, i + 6);
    else out += String.fromCharCode(unit);
    i += 5;
  }
  return out;
}

/** A dotted path to a value: `to`, `items[2].name`; the root is ''. */
export function childPath(parent: string, key: string | number): string {
  if (typeof key === 'number') return `${parent}[${key}]`;
  const name = /^[A-Za-z_$][\w$]*$/.test(key) ? key : JSON.stringify(key);
  return parent === '' ? name : `${parent}.${name}`;
}

/** Every leaf (scalar, or empty object/array) under `node`, by path, with its exact text. */
export function leaves(node: CanonNode, path = '', into = new Map<string, string>()): Map<string, string> {
  if (node.kind === 'object' && node.entries.length > 0) {
    for (const entry of node.entries) leaves(entry.value, childPath(path, entry.key), into);
  } else if (node.kind === 'array' && node.items.length > 0) {
    node.items.forEach((item, index) => leaves(item, childPath(path, index), into));
  } else {
    into.set(path, node.raw);
  }
  return into;
}

export interface PayloadDiff {
  /** Leaf paths whose value differs, that are new, or that are gone. */
  changed: string[];
  added: string[];
  removed: string[];
  /** The same at the level of top-level fields, for a one-line summary. */
  fields: { changed: string[]; added: string[]; removed: string[] };
}

/** The top-level field a path starts in: `to` of `to`, `cc` of `cc[1]`, `"a b"` of `"a b".c`. */
function topField(path: string): string {
  if (path.startsWith('"')) {
    const end = /^"(?:[^"\\]|\\.)*"/.exec(path);
    return end ? end[0] : path;
  }
  return /^[^.[]*/.exec(path)?.[0] ?? path;
}

/** Field-level differences of `current` from `previous` (both canonical JSON texts). */
export function diffCanonical(current: string, previous: string): PayloadDiff | null {
  const now = parseCanonical(current);
  const before = parseCanonical(previous);
  if (!now || !before) return null;
  const a = leaves(now);
  const b = leaves(before);
  const diff: PayloadDiff = { changed: [], added: [], removed: [], fields: { changed: [], added: [], removed: [] } };
  for (const [path, raw] of a) {
    const old = b.get(path);
    if (old === undefined) diff.added.push(path);
    else if (old !== raw) diff.changed.push(path);
  }
  for (const path of b.keys()) if (!a.has(path)) diff.removed.push(path);
  const topNow = new Set([...a.keys()].map(topField));
  const topBefore = new Set([...b.keys()].map(topField));
  const touched = new Set([...diff.changed, ...diff.added, ...diff.removed].map(topField));
  for (const field of touched) {
    if (!topBefore.has(field)) diff.fields.added.push(field);
    else if (!topNow.has(field)) diff.fields.removed.push(field);
    else diff.fields.changed.push(field);
  }
  return diff;
}
