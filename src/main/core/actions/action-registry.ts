import type { JsonObject, JsonValue } from '../json/json-value.ts';
import type { ActionInfoDto } from '../../../shared/console-dto.ts';
import { clientExecutedAction, needsExplicitListing } from './client-executed.ts';

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
export type ActionDefinition = ({ kind: 'pure'; run: (payload: JsonObject) => JsonValue } | { kind: 'effects'; run: ActionHandler }) &
  ActionDeclaration;

/**
 * What a declared action (the manifest, src/main/core/actions/declared) adds: it can be read
 * before it runs, and what the operator approves is bound to its definition by hash.
 */
export interface ActionDeclaration {
  /** What the Actions view shows. */
  info?: ActionInfoDto;
  /** sha256 of the canonical definition; proposals and receipts carry it as `action_def_hash`. */
  definitionHash?: string;
  /** The payload schema's refusal (answered 422 before anything else is decided), or null. */
  checkPayload?: (payload: JsonObject) => string | null;
  /** The concrete command line, file path or URL this payload gives, one item per line. */
  preview?: (payload: JsonObject) => string[];
  /** How many distinct operator keys must approve a proposal before it runs (manifest `approval.quorum`). */
  quorum?: number;
}

export function pureAction(run: (payload: JsonObject) => JsonValue, info?: ActionInfoDto): ActionDefinition {
  return info ? { kind: 'pure', run, info } : { kind: 'pure', run };
}

export interface ActionRegistry {
  get(action: string): ActionDefinition | undefined;
  has(action: string): boolean;
  names(): readonly string[];
}

/**
 * Builds the registry once at start-up; it cannot be changed afterwards. Client-executed
 * actions (client-executed.ts) are known by name besides; `names()` lists the registered ones.
 */
export function sealRegistry(actions: Record<string, ActionDefinition | ActionHandler>): ActionRegistry {
  const map = new Map<string, ActionDefinition>(
    Object.entries(actions).map(([name, a]) => [name, typeof a === 'function' ? { kind: 'effects', run: a } : a]),
  );
  const names = Object.freeze([...map.keys()].sort());
  return Object.freeze({
    get: (action: string) => map.get(action) ?? clientExecutedAction(action),
    has: (action: string) => map.has(action) || needsExplicitListing(action),
    names: () => names,
  });
}
