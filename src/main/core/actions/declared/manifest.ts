import type { ActionDefinition } from '../action-registry.ts';
import { ACTION_NAME, actionEntry, manifestShape } from './manifest-schema.ts';
import { buildDeclaredAction, ManifestFieldError, type BuildContext } from './declared-action.ts';
import { manifestHash } from './definition-hash.ts';

/** What is wrong with a manifest: the action (when one is at fault), the field and the problem. */
export class ManifestError extends Error {
  constructor(
    readonly action: string | null,
    readonly field: string,
    readonly problem: string,
  ) {
    super(`${action === null ? '' : `action '${action}': `}${field}: ${problem}`);
  }
}

export interface DeclaredManifest {
  /** sha256 of the manifest's canonical JSON. */
  hash: string;
  actions: Record<string, ActionDefinition>;
  /** Each action's definition hash, by name. */
  definitions: Record<string, string>;
}

/** `argv[1]`, `headers.Authorization`: a zod path as the operator wrote the field. */
export function fieldPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((out, p) => (typeof p === 'number' ? `${out}[${p}]` : out === '' ? String(p) : `${out}.${String(p)}`), '');
}

/** Validates a parsed manifest and builds its actions; the first problem throws a ManifestError. */
export function buildManifest(tree: unknown, ctx: BuildContext, reserved: readonly string[]): DeclaredManifest {
  const shape = manifestShape.safeParse(tree);
  if (!shape.success) {
    const issue = shape.error.issues[0]!;
    throw new ManifestError(null, fieldPath(issue.path) || 'manifest', issue.message);
  }
  const actions: Record<string, ActionDefinition> = {};
  const definitions: Record<string, string> = {};
  for (const [name, declared] of Object.entries(shape.data.actions)) {
    if (!ACTION_NAME.test(name))
      throw new ManifestError(name, 'name', 'must be letters, digits, _ . or - (up to 200, not starting with _ . -)');
    if (reserved.includes(name)) throw new ManifestError(name, 'name', 'is a built-in action');
    const entry = actionEntry.safeParse(declared);
    if (!entry.success) {
      const issue = entry.error.issues[0]!;
      throw new ManifestError(name, fieldPath(issue.path) || 'kind', issue.message);
    }
    try {
      const action = buildDeclaredAction(name, declared, entry.data, ctx);
      actions[name] = action;
      definitions[name] = action.definitionHash!;
    } catch (err) {
      if (err instanceof ManifestFieldError) throw new ManifestError(name, err.field, err.problem);
      throw err;
    }
  }
  return { hash: manifestHash(tree), actions, definitions };
}
