import type { JsonValue } from '../json/json-value.ts';

/**
 * The words of a payload for full-text search: keys and leaf values as plain text.
 * (The canonical form escapes every non-ASCII character, which no one would type.)
 */
export function searchableText(value: JsonValue | undefined | null, limit = 64 * 1024): string {
  const parts: string[] = [];
  let size = 0;
  const visit = (v: JsonValue): void => {
    if (size > limit || v === null) return;
    if (Array.isArray(v)) {
      for (const item of v) visit(item);
    } else if (typeof v === 'object') {
      for (const [k, item] of Object.entries(v)) {
        parts.push(k);
        size += k.length;
        visit(item);
      }
    } else {
      const text = String(v);
      parts.push(text);
      size += text.length;
    }
  };
  if (value !== undefined && value !== null) visit(value);
  return parts.join(' ');
}
