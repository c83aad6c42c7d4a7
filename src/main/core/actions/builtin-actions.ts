import type { JsonObject, JsonValue } from '../json/json-value.ts';
import type { ActionInfoDto } from '../../../shared/console-dto.ts';
import { HandlerInputError, pureAction, type ActionDefinition } from './action-registry.ts';

function obj(entries: Record<string, JsonValue>): JsonObject {
  return Object.assign(Object.create(null) as JsonObject, entries);
}

/** `echo`: the payload back, as the Python service answers `{"echo": payload}`. */
export const echo = (payload: JsonObject): JsonValue => obj({ echo: payload });

function operand(payload: JsonObject, key: 'a' | 'b'): bigint | number {
  const v = payload[key];
  if (v === undefined) return 0n;
  // Python would also add booleans (True + 1) and concatenate strings; a boundary that
  // moves money should not, so anything but a number is refused before it runs.
  if (typeof v === 'bigint' || typeof v === 'number') return v;
  throw new HandlerInputError(`add: '${key}' must be a number`);
}

/**
 * `add`: `{"sum": a + b}` with Python's arithmetic: integers exact at any size, a float on
 * either side makes the sum a float, and a missing operand counts as 0.
 */
export const add = (payload: JsonObject): JsonValue => {
  const a = operand(payload, 'a');
  const b = operand(payload, 'b');
  if (typeof a === 'bigint' && typeof b === 'bigint') return obj({ sum: a + b });
  const sum = Number(a) + Number(b);
  if (!Number.isFinite(Number(a)) || !Number.isFinite(Number(b))) {
    throw new HandlerInputError('add: integer too large to convert to float');
  }
  if (!Number.isFinite(sum)) throw new HandlerInputError('add: result overflows a float');
  return obj({ sum });
};

function builtin(description: string, does: string): ActionInfoDto {
  return {
    kind: 'builtin',
    description,
    risk: null,
    does: [does],
    payloadSchema: null,
    annotations: { readOnlyHint: true },
    definitionHash: null,
    quorum: null,
  };
}

/** Both are computations only, so they run in the deciding transaction (ActionDefinition). */
export const BUILTIN_ACTIONS: Record<string, ActionDefinition> = {
  echo: pureAction(echo, builtin('Answers with the payload it was given', 'built-in: returns {"echo": payload}')),
  add: pureAction(add, builtin('Adds two numbers', 'built-in: returns {"sum": a + b}')),
};
