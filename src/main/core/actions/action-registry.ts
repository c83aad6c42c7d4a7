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

/**
 * How the engine may run an action. `pure`: a synchronous computation with no effect outside
 * its return value, so deciding, computing and witnessing it can share one transaction (a
 * crash undoes all of it and nothing happened). `effects` (the default for handlers added by
 * an integrator): it may touch the world, so the nonce and approval are committed as spent
 * before it runs, and its ending is committed after.
 */
export type ActionDefinition =
  | { kind: 'pure'; run: (payload: JsonObject) => JsonValue }
  | { kind: 'effects'; run: ActionHandler };

export function pureAction(run: (payload: JsonObject) => JsonValue): ActionDefinition {
  return { kind: 'pure', run };
}

export interface ActionRegistry {
  get(action: string): ActionDefinition | undefined;
  has(action: string): boolean;
  names(): readonly string[];
}

/** Builds the registry once at start-up; it cannot be changed afterwards. */
export function sealRegistry(actions: Record<string, ActionDefinition | ActionHandler>): ActionRegistry {
  const map = new Map<string, ActionDefinition>(
    Object.entries(actions).map(([name, a]) => [name, typeof a === 'function' ? { kind: 'effects', run: a } : a]),
  );
  const names = Object.freeze([...map.keys()].sort());
  return Object.freeze({
    get: (action: string) => map.get(action),
    has: (action: string) => map.has(action),
    names: () => names,
  });
}
