import { isWellFormedUnicode } from '../../../shared/well-formed-unicode.ts';
import type { JsonValue } from './json-value.ts';

export type JsonPath = (string | number)[];

/** A string in a parsed value that is not well-formed Unicode; `isKey` when it is an object key. */
export interface IllFormedString {
  path: JsonPath;
  isKey: boolean;
  value: string;
}

// Wire text decoded strictly from UTF-8 cannot hold a surrogate code unit, so a lone one can only
// come from a \uD800-\uDFFF escape: text without one needs no walk.
const SURROGATE_ESCAPE = /\\u[dD][89a-fA-F]/;

/**
 * Every string (object keys included) of `value`, parsed from `text`, that holds a lone
 * surrogate, in document order. Python keeps such strings and SQLite folds them all into one
 * replacement character, so they are refused wherever they enter.
 */
export function illFormedStrings(text: string, value: JsonValue): IllFormedString[] {
  if (!SURROGATE_ESCAPE.test(text)) return [];
  const found: IllFormedString[] = [];
  const walk = (v: JsonValue, path: JsonPath): void => {
    if (typeof v === 'string') {
      if (!isWellFormedUnicode(v)) found.push({ path, isKey: false, value: v });
    } else if (Array.isArray(v)) {
      v.forEach((item, i) => walk(item, [...path, i]));
    } else if (typeof v === 'object' && v !== null) {
      for (const [k, item] of Object.entries(v)) {
        if (!isWellFormedUnicode(k)) found.push({ path: [...path, k], isKey: true, value: k });
        walk(item, [...path, k]);
      }
    }
  };
  walk(value, []);
  return found;
}
