import { z } from 'zod';
import { decodeUtf8Strict, JsonParseError, parseJson } from '../core/json/parse.ts';
import { isJsonObject, type JsonObject, type JsonValue } from '../core/json/json-value.ts';
import { Refusal } from '../core/errors.ts';

export const BODY_LIMIT_BYTES = 1024 * 1024;

/** Parses a request body without loss (big integers stay exact) or refuses with a 422. */
export function parseBody(raw: unknown): JsonValue {
  if (!(raw instanceof Uint8Array) || raw.length === 0) {
    throw new Refusal('invalid_request', 'Request body must be a JSON object');
  }
  try {
    return parseJson(decodeUtf8Strict(raw));
  } catch (err) {
    if (err instanceof JsonParseError) {
      throw new Refusal('invalid_request', err.message);
    }
    throw err;
  }
}

/** Validates a parsed body against a schema; every problem is named in one detail line. */
export function validateBody<S extends z.ZodType>(schema: S, value: unknown): z.infer<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((i) => `${i.path.length ? i.path.join('.') : 'body'}: ${i.message}`);
  throw new Refusal('invalid_request', `Invalid request body: ${problems.join('; ')}`);
}

/** A whole number as our lossless parser yields it (bigint), checked and made a number. */
export function jsonInt(min: number, max: number) {
  return z
    .bigint({ error: 'must be a whole number' })
    .min(BigInt(min), { error: `must be at least ${min}` })
    .max(BigInt(max), { error: `must be at most ${max}` })
    .transform(Number);
}

/** A JSON object from our parser (null-prototype), as `payload` must be. */
export const jsonObject = z.custom<JsonObject>((v) => isJsonObject(v as JsonValue), { message: 'must be a JSON object' });
