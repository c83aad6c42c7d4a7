import type { ActionDefinition } from '../actions/action-registry.ts';
import type { RefusalCode } from '../errors.ts';
import type { ExecuteRequest } from './execute-request.ts';

export interface DeclaredRefusal {
  code: RefusalCode;
  detail: string;
}

/**
 * Checks a declared action makes before any approval is considered: the definition the operator
 * approved is still the one in force (`now`: an MCP tool's pinned hash, read in the decision),
 * and the payload conforms to the action's schema.
 */
export function declaredRefusal(
  action: ActionDefinition,
  request: ExecuteRequest,
  now: string | null = action.definitionHash ?? null,
): DeclaredRefusal | null {
  if (request.definitionHash !== undefined && request.definitionHash !== now) {
    return {
      code: 'definition_changed',
      detail: `The definition of '${request.action}' changed after it was proposed (proposed ${request.definitionHash ?? 'built-in'}, now ${now ?? 'built-in'}); not executed`,
    };
  }
  const problem = action.checkPayload?.(request.payload) ?? null;
  if (problem !== null) return { code: 'invalid_payload', detail: `Payload refused by the schema of '${request.action}': ${problem}` };
  return null;
}
