import type { JsonObject, JsonValue } from '../json/json-value.ts';
import { Refusal } from '../errors.ts';

/** The loosest schema a varying field keeps: the JSON type of its value in the proposal. */
function typeSchema(value: JsonValue): JsonObject {
  const schema: JsonObject = Object.create(null) as JsonObject;
  if (value === null) schema['type'] = 'null';
  else if (typeof value === 'bigint') schema['type'] = 'integer';
  else if (typeof value === 'number') schema['type'] = 'number';
  else if (typeof value === 'string') schema['type'] = 'string';
  else if (typeof value === 'boolean') schema['type'] = 'boolean';
  else if (Array.isArray(value)) schema['type'] = 'array';
  else {
    schema['type'] = 'object';
    // The operator chose to let this whole object vary.
    schema['additionalProperties'] = true;
  }
  return schema;
}

/**
 * The scope of "requests like this one": every payload field fixed to its value except those
 * in `vary`, which must be present and keep their JSON type. A field to vary that the payload
 * does not have is refused (the operator would not see what it allows).
 */
export function similarScope(payload: JsonObject, vary: readonly string[]): { fixed: JsonObject; schema: JsonObject } {
  const varying = new Set(vary);
  for (const name of varying) {
    if (!Object.hasOwn(payload, name)) throw new Refusal('invalid_request', `Field '${name}' is not in the proposal's payload`);
  }
  const fixed: JsonObject = Object.create(null) as JsonObject;
  const properties: JsonObject = Object.create(null) as JsonObject;
  for (const [name, value] of Object.entries(payload)) {
    if (varying.has(name)) properties[name] = typeSchema(value);
    else fixed[name] = value;
  }
  const schema: JsonObject = Object.create(null) as JsonObject;
  schema['type'] = 'object';
  schema['properties'] = properties;
  schema['required'] = [...varying].sort();
  return { fixed, schema };
}
