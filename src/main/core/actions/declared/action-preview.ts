import type { ActionPreview } from '../../../../shared/console-dto.ts';
import type { JsonObject } from '../../json/json-value.ts';
import type { ActionDefinition } from '../action-registry.ts';

/**
 * What an action will do with this payload, for the operator to read before approving.
 * `proposedUnder` is the definition hash the proposal was made under (undefined: not a proposal);
 * when the definition in force differs, approving will be refused, and the first line says so.
 */
export function actionPreview(
  action: ActionDefinition | undefined,
  payload: JsonObject,
  proposedUnder?: string | null,
): ActionPreview | null {
  if (!action?.info) return null;
  const { kind, risk, definitionHash } = action.info;
  let lines: string[];
  try {
    lines = action.preview ? action.preview(payload) : action.info.does;
  } catch (err) {
    // The payload cannot be rendered (it will be refused the same way if approved): say why.
    lines = [`cannot be rendered: ${err instanceof Error ? err.message : String(err)}`];
  }
  if (proposedUnder !== undefined && proposedUnder !== definitionHash) {
    lines = [`the definition changed since this was proposed (was ${proposedUnder ?? 'built-in'}): approving will be refused`, ...lines];
  }
  return { kind, lines, risk, definitionHash };
}
