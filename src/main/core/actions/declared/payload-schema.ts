import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020.js';
import type { JsonObject, JsonValue } from '../../json/json-value.ts';

/** A keyword of our own: a whole-element argv value from this property may start with `-`. */
export const ALLOW_LEADING_DASH = 'x-allow-leading-dash';

/** One validator instance per schema, so two actions' `$id`s can never collide. */
function newAjv(): Ajv2020 {
  const ajv = new Ajv2020({
    strict: true,
    allErrors: false,
    // Without a formats plugin `format` is an annotation; it is documented as such (SECURITY.md).
    validateFormats: false,
  });
  ajv.addKeyword({ keyword: ALLOW_LEADING_DASH, schemaType: 'boolean' });
  return ajv;
}

export class PayloadSchemaError extends Error {}

const SUBSCHEMA_MAPS = ['properties', 'patternProperties', '$defs', 'definitions', 'dependentSchemas'];
const SUBSCHEMA_LISTS = ['allOf', 'anyOf', 'oneOf', 'prefixItems'];
const SUBSCHEMAS = ['items', 'additionalProperties', 'unevaluatedProperties', 'not', 'if', 'then', 'else', 'contains', 'propertyNames'];

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Objects are closed by default: wherever a schema of type object says nothing about extra
 * properties (neither `additionalProperties` nor `unevaluatedProperties`), they are refused,
 * as if it said `additionalProperties: false`. A payload field nobody declared never passes.
 */
export function closeObjects(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(closeObjects);
  if (!isObject(schema)) return schema;
  const out: Record<string, unknown> = { ...schema };
  for (const key of SUBSCHEMA_MAPS) {
    const map = out[key];
    if (isObject(map)) out[key] = Object.fromEntries(Object.entries(map).map(([k, v]) => [k, closeObjects(v)]));
  }
  for (const key of [...SUBSCHEMA_LISTS, ...SUBSCHEMAS]) if (key in out) out[key] = closeObjects(out[key]);
  const type = out['type'];
  const isObjectType = type === 'object' || (Array.isArray(type) && type.includes('object'));
  if (isObjectType && !('additionalProperties' in out) && !('unevaluatedProperties' in out)) out['additionalProperties'] = false;
  return out;
}

/** The payload as ajv expects it: plain objects and JS numbers (integers arrive as bigint). */
export function plain(v: JsonValue): unknown {
  if (typeof v === 'bigint') return Number(v);
  if (Array.isArray(v)) return v.map(plain);
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
  return v;
}

/**
 * Where the payload holds an integer a double cannot hold exactly (JSON Pointer), or null. ajv
 * judges doubles, but the payload keeps its integers exact and renders them as sent: judged
 * rounded, 1234567890123456700 passes an `enum` of 1234567890123456789 (the same double).
 */
function inexactInteger(v: JsonValue, at: string): string | null {
  if (typeof v === 'bigint') return BigInt(Number(v)) === v ? null : at;
  if (v === null || typeof v !== 'object') return null;
  for (const [k, x] of Object.entries(v)) {
    const found = inexactInteger(x, `${at}/${k.replace(/~/g, '~0').replace(/\//g, '~1')}`);
    if (found !== null) return found;
  }
  return null;
}

export interface PayloadValidator {
  /** The schema's message for a payload that does not conform, or null. */
  check(payload: JsonObject): string | null;
  /** The top-level property schemas, for start-up checks of templates. */
  properties: Record<string, Record<string, unknown>>;
  required: ReadonlySet<string>;
}

/** Compiles a payload schema once (JSON Schema 2020-12); an invalid schema stops start-up. */
export function compilePayloadSchema(schema: Record<string, unknown>): PayloadValidator {
  if (schema['type'] !== 'object') throw new PayloadSchemaError("must be a schema of type 'object' (a payload is a JSON object)");
  let validate: ValidateFunction;
  try {
    validate = newAjv().compile(closeObjects(schema) as object);
  } catch (err) {
    throw new PayloadSchemaError(err instanceof Error ? err.message : String(err));
  }
  const props = isObject(schema['properties']) ? schema['properties'] : {};
  const properties = Object.fromEntries(Object.entries(props).filter(([, v]) => isObject(v))) as Record<string, Record<string, unknown>>;
  const required = new Set(Array.isArray(schema['required']) ? schema['required'].filter((r): r is string => typeof r === 'string') : []);
  return {
    properties,
    required,
    check(payload) {
      const inexact = inexactInteger(payload, '');
      if (inexact !== null)
        return `payload${inexact} is an integer beyond ±2^53, which the schema cannot judge exactly (send it as a string)`;
      if (validate(plain(payload))) return null;
      const first = validate.errors?.[0];
      if (!first) return 'payload does not match the schema';
      const extra = first.keyword === 'additionalProperties' ? ` ('${String(first.params['additionalProperty'])}')` : '';
      return `payload${first.instancePath} ${first.message ?? 'is invalid'}${extra}`;
    },
  };
}
