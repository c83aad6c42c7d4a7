import { z } from 'zod';

/**
 * Well-formed Unicode: no lone surrogate code unit (U+D800–U+DFFF not part of a pair).
 *
 * SQLite stores text as UTF-8 and turns every lone surrogate into the same replacement bytes,
 * so "\ud800" and "\udc00" would become one value there while staying two in JavaScript: a
 * nonce, id or action that aliases in the database is a correctness hole. Such strings are
 * refused at every boundary instead. (In a `u` regular expression a surrogate pair is one
 * code point, so the class below matches only lone surrogates.)
 */
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

export function isWellFormedUnicode(s: string): boolean {
  return !LONE_SURROGATE.test(s);
}

export const ILL_FORMED_UNICODE_MESSAGE = 'must be well-formed Unicode (it holds a lone surrogate, \\uD800-\\uDFFF)';

/** A zod string that refuses ill-formed Unicode; chain the usual checks after it. */
export function wellFormedString() {
  return z.string().refine(isWellFormedUnicode, { error: ILL_FORMED_UNICODE_MESSAGE });
}
