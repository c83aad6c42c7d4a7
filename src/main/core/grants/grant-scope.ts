import { canonicalJson } from '../json/canonical.ts';
import type { JsonObject } from '../json/json-value.ts';
import type { PayloadValidator } from '../actions/declared/payload-schema.ts';
import type { GrantScope } from './grant-artifact.ts';

export interface ScopedRequest {
  action: string;
  payload: JsonObject;
  /** The request's verified agent name, when the way in established one. */
  agent?: string | null;
}

/**
 * Why a request falls outside a grant's scope, or null when it is inside: the same action, the
 * same agent when the grant names one (a request with no verified agent never matches such a
 * grant), every fixed field present with exactly its value, and the remaining fields valid
 * under the grant's schema (whose objects are closed: a field neither fixed nor declared there
 * never passes).
 */
export function scopeMiss(scope: GrantScope, varying: PayloadValidator, request: ScopedRequest): string | null {
  if (request.action !== scope.action) return `action is not '${scope.action}'`;
  if (scope.agent !== undefined && request.agent !== scope.agent) return `agent is not '${scope.agent}'`;
  const rest: JsonObject = Object.create(null) as JsonObject;
  for (const [key, value] of Object.entries(request.payload)) rest[key] = value;
  for (const [key, value] of Object.entries(scope.fixed)) {
    const given = rest[key];
    if (given === undefined || canonicalJson(given) !== canonicalJson(value)) return `payload.${key} is not the granted value`;
    delete rest[key];
  }
  return varying.check(rest);
}
