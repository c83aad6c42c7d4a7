/**
 * A JSON value parsed without loss. Integers (a JSON number with no `.`, `e` or `E`) are
 * `bigint` at any size; every other number is an IEEE double (`number`). Objects are
 * null-prototype records, so a key such as `__proto__` is an ordinary key.
 * This split is what lets us hash a request byte for byte as Python does (protocol §1).
 */
export type JsonValue = null | boolean | string | bigint | number | JsonValue[] | JsonObject;
export interface JsonObject {
  [key: string]: JsonValue;
}

export function isJsonObject(v: JsonValue | undefined): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
