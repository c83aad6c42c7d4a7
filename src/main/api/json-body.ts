import { z } from 'zod';
import { decodeUtf8Strict, JsonParseError, parseJson } from '../core/json/parse.ts';
import { illFormedStrings } from '../core/json/ill-formed-strings.ts';
import { isJsonObject, type JsonObject, type JsonValue } from '../core/json/json-value.ts';
import { issuesFromZod, ValidationRefusal } from './validation-error.ts';

export const BODY_LIMIT_BYTES = 1024 * 1024;

/** Python counts a JSON error's position in code points; our parser counts UTF-16 units. */
function codePointIndex(text: string, utf16Index: number): number {
  let n = utf16Index;
  for (let i = 0; i < utf16Index - 1; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n--;
        i++;
      }
    }
  }
  return n;
}

/**
 * Parses a request body without loss (big integers stay exact) or refuses with FastAPI's 422:
 * `missing` for no body, `json_invalid` at the error's position for text that is not JSON (or
 * JSON we refuse to hash: NaN, Infinity, overflowing numbers), and `string_unicode` for every
 * string, anywhere in the body, that is not well-formed Unicode, so none can reach the store.
 */
export function parseBody(raw: unknown): JsonValue {
  if (!(raw instanceof Uint8Array) || raw.length === 0) {
    throw new ValidationRefusal([{ type: 'missing', loc: ['body'], msg: 'Field required', input: null }]);
  }
  let text = '';
  let value: JsonValue;
  try {
    text = decodeUtf8Strict(raw);
    value = parseJson(text);
  } catch (err) {
    if (!(err instanceof JsonParseError)) throw err;
    throw new ValidationRefusal([
      {
        type: 'json_invalid',
        loc: ['body', codePointIndex(text, err.position)],
        msg: 'JSON decode error',
        input: Object.create(null) as JsonObject,
        ctx: { error: err.reason },
      },
    ]);
  }
  const illFormed = illFormedStrings(text, value);
  if (illFormed.length > 0) {
    throw new ValidationRefusal(
      illFormed.map((s) => ({
        type: 'string_unicode',
        loc: ['body', ...s.path, ...(s.isKey ? ['[key]'] : [])],
        msg: 'Input should be a valid string, unable to parse raw data as a unicode string',
        input: s.value,
      })),
    );
  }
  return value;
}

/** Validates a parsed body against a schema; every problem is one entry of the 422 list. */
export function validateBody<S extends z.ZodType>(schema: S, value: unknown): z.infer<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  throw new ValidationRefusal(issuesFromZod(parsed.error, value, 'body'));
}

/** A whole number as our lossless parser yields it (bigint), checked and made a number. */
export function jsonInt(min: number, max: number) {
  return z.bigint().min(BigInt(min)).max(BigInt(max)).transform(Number);
}

/** A JSON object from our parser (null-prototype), as `payload` must be. */
export const jsonObject = z.custom<JsonObject>((v) => isJsonObject(v as JsonValue), {
  message: 'Input should be a valid dictionary',
  params: { type: 'dict_type' },
});
