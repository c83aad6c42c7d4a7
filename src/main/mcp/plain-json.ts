import type { JsonObject, JsonValue } from '../core/json/json-value.ts';
import { MAX_JSON_DEPTH } from '../core/json/parse.ts';

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

/**
 * Why a body from `JSON.parse` (which nests as deep as 1 MiB allows) is refused, or null: arrays
 * and objects nested deeper than our parser's limit, which the recursive walks that follow
 * (fromPlainJson, canonical JSON) would overflow the stack on. Iterative, so any depth is safe.
 */
export function tooDeep(value: unknown): string | null {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    if (depth >= MAX_JSON_DEPTH) return `Request body nests arrays and objects deeper than ${MAX_JSON_DEPTH} levels`;
    for (const item of Array.isArray(v) ? v : Object.values(v)) stack.push([item, depth + 1]);
  }
  return null;
}
