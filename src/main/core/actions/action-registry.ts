import type { JsonObject, JsonValue } from '../json/json-value.ts';

/** Thrown by a handler whose payload cannot be acted on; nothing has run. */
export class HandlerInputError extends Error {
  readonly code = 'handler_input';
}

/**
 * A handler runs with the host's privileges (SECURITY.md): it must be deterministic in what
 * it returns for a payload and must not be reachable except through the engine.
 */
export type ActionHandler = (payload: JsonObject) => JsonValue | Promise<JsonValue>;

export interface ActionRegistry {
  get(action: string): ActionHandler | undefined;
  has(action: string): boolean;
  names(): readonly string[];
}

/** Builds the registry once at start-up; it cannot be changed afterwards. */
export function sealRegistry(handlers: Record<string, ActionHandler>): ActionRegistry {
  const map = new Map(Object.entries(handlers));
  const names = Object.freeze([...map.keys()].sort());
  return Object.freeze({
    get: (action: string) => map.get(action),
    has: (action: string) => map.has(action),
    names: () => names,
  });
}
