import { canonicalJson } from '../../json/canonical.ts';
import type { JsonObject, JsonValue } from '../../json/json-value.ts';
import { sha256Hex } from '../../json/request-hash.ts';

/**
 * A manifest tree (from YAML or JSON) as our JSON values: whole numbers become exact integers,
 * so `30000` hashes the same whichever syntax wrote it.
 */
export function toJsonValue(v: unknown): JsonValue {
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return v;
  if (typeof v === 'number') return Number.isInteger(v) ? BigInt(v) : v;
  if (typeof v === 'bigint') return v;
  if (Array.isArray(v)) return v.map(toJsonValue);
  if (typeof v === 'object') {
    const out = Object.create(null) as JsonObject;
    for (const [k, x] of Object.entries(v)) out[k] = toJsonValue(x);
    return out;
  }
  throw new TypeError(`a manifest holds JSON values only, not ${typeof v}`);
}

/** sha256 of the canonical JSON of an action's definition as declared, with its name. */
export function definitionHash(name: string, declared: unknown): string {
  const body = toJsonValue(declared) as JsonObject;
  return sha256Hex(canonicalJson(Object.assign(Object.create(null) as JsonObject, body, { name })));
}

/** sha256 of the canonical JSON of the whole manifest: comments and layout do not change it. */
export function manifestHash(tree: unknown): string {
  return sha256Hex(canonicalJson(toJsonValue(tree)));
}
