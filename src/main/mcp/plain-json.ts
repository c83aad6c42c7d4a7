import type { JsonObject, JsonValue } from '../core/json/json-value.ts';

/**
 * A value from `JSON.parse` (as MCP messages arrive) in our lossless form: whole numbers become
 * `bigint`, objects null-prototype, so that a request hashes exactly as it would at /execute.
 * Anything that is not JSON is refused (null).
 */
export function fromPlainJson(v: unknown): JsonValue | undefined {
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return v;
  if (typeof v === 'number') return Number.isInteger(v) ? BigInt(v) : Number.isFinite(v) ? v : undefined;
  if (Array.isArray(v)) {
    const out: JsonValue[] = [];
    for (const item of v) {
      const j = fromPlainJson(item);
      if (j === undefined) return undefined;
      out.push(j);
    }
    return out;
  }
  if (typeof v === 'object') {
    const out = Object.create(null) as JsonObject;
    for (const [k, item] of Object.entries(v)) {
      const j = fromPlainJson(item);
      if (j === undefined) return undefined;
      out[k] = j;
    }
    return out;
  }
  return undefined;
}
