import { decodeJsonString, parseCanonical, type CanonNode } from './canonical-tree';
import { findSuspicious, type Finding } from './suspicious-text';

/**
 * How a proposal is named in the queue and in notifications: by its action and the first
 * fields of its payload, never by the agent's context (which the agent writes as it likes).
 */
export interface PayloadField {
  key: string;
  /** The value as text: strings decoded, everything else as written, long values cut. */
  value: string;
}

const MAX_VALUE = 60;

function shown(node: CanonNode): string {
  const text = node.kind === 'string' ? decodeJsonString(node.raw) : node.raw;
  return text.length > MAX_VALUE ? `${text.slice(0, MAX_VALUE - 1)}…` : text;
}

/** Up to `max` top-level payload fields, scalars first. */
export function keyFields(payloadCanonical: string, max = 3): PayloadField[] {
  const root = parseCanonical(payloadCanonical);
  if (root?.kind !== 'object') return [];
  const scalarsFirst = [...root.entries].sort(
    (a, b) => Number(a.value.kind === 'object' || a.value.kind === 'array') - Number(b.value.kind === 'object' || b.value.kind === 'array'),
  );
  return scalarsFirst.slice(0, max).map((e) => ({ key: e.key, value: shown(e.value) }));
}

/** Every decoded key and string of a canonical payload, for the look-alike check. */
export function payloadStrings(payloadCanonical: string): string[] {
  const out: string[] = [];
  const walk = (node: CanonNode): void => {
    if (node.kind === 'string') out.push(decodeJsonString(node.raw));
    else if (node.kind === 'array') node.items.forEach(walk);
    else if (node.kind === 'object') {
      for (const e of node.entries) {
        out.push(e.key);
        walk(e.value);
      }
    }
  };
  const root = parseCanonical(payloadCanonical);
  if (root) walk(root);
  return out;
}

export interface ProposalFindings {
  action: Finding[];
  payload: Finding[];
  context: Finding[];
}

/** What in a proposal could hide or disguise text, by where it is. */
export function proposalFindings(p: { action: string; payloadCanonical: string; context: string | null }): ProposalFindings {
  return {
    action: findSuspicious(p.action),
    payload: payloadStrings(p.payloadCanonical).flatMap((s) => findSuspicious(s)),
    context: p.context ? findSuspicious(p.context) : [],
  };
}

export function hasFindings(f: ProposalFindings): boolean {
  return f.action.length + f.payload.length + f.context.length > 0;
}
