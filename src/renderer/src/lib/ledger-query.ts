import type { ReceiptDto, ReceiptEvent } from '../../../shared/console-dto';
import { AGENT_NAME_PATTERN, type ReceiptQuery } from '../../../shared/console-schemas';

/** What the filter bar holds, as typed. `from`/`to` are datetime-local values (local time). */
export interface LedgerFilters {
  text: string;
  events: ReceiptEvent[];
  action: string;
  /** A verified agent's name (as `openexec agents add` registered it). */
  agent: string;
  approverKeyId: string;
  from: string;
  to: string;
}

export const EMPTY_FILTERS: LedgerFilters = { text: '', events: [], action: '', agent: '', approverKeyId: '', from: '', to: '' };

export const PAGE_SIZE = 200;

function localToIso(value: string): string | null {
  if (!value) return null;
  const time = new Date(value).getTime();
  return Number.isNaN(time) ? null : new Date(time).toISOString();
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const SHA256 = /^[0-9a-f]{64}$/i;

/**
 * What the search box holds: an id (a UUID, or anything after "id:") looks up the receipts of
 * that proposal, execution or approval; 64 hex digits look up a request hash or a receipt hash;
 * anything else is full text.
 */
export function searchShape(raw: string): { id: string } | { hash: string } | { text: string } | null {
  const text = raw.trim();
  if (!text) return null;
  const prefixed = /^id:\s*(\S.*)$/i.exec(text);
  if (prefixed?.[1]) return { id: prefixed[1].trim() };
  if (UUID.test(text)) return { id: text.toLowerCase() };
  if (SHA256.test(text)) return { hash: text.toLowerCase() };
  return { text };
}

/** Builds the contract query, or says in plain words which filter is not usable. */
export function filtersToQuery(filters: LedgerFilters): { query: ReceiptQuery } | { error: string } {
  const query: ReceiptQuery = {};
  const shape = searchShape(filters.text);
  if (shape && 'text' in shape && shape.text.length > 500) return { error: 'The search text is longer than 500 characters.' };
  if (shape && 'id' in shape && shape.id.length > 128) return { error: 'An id is at most 128 characters.' };
  if (shape) Object.assign(query, shape);
  if (filters.events.length) query.events = [...filters.events];
  const action = filters.action.trim();
  if (action.length > 200) return { error: 'The action name is longer than 200 characters.' };
  if (action) query.action = action;
  const agent = filters.agent.trim();
  if (agent) {
    if (!AGENT_NAME_PATTERN.test(agent)) return { error: "An agent name is 1-64 letters, digits, '.', '_' or '-'." };
    query.agent = agent;
  }
  const keyId = filters.approverKeyId.trim().toLowerCase();
  if (keyId) {
    if (!/^[0-9a-f]{1,64}$/.test(keyId)) return { error: 'An approver key id is hexadecimal (0-9, a-f).' };
    query.approverKeyId = keyId;
  }
  const from = localToIso(filters.from);
  const to = localToIso(filters.to);
  if (filters.from && !from) return { error: 'The "from" time is not a valid date.' };
  if (filters.to && !to) return { error: 'The "to" time is not a valid date.' };
  if (from && to && from > to) return { error: 'The "from" time is after the "to" time.' };
  if (from) query.from = from;
  if (to) query.to = to;
  return { query };
}

/**
 * Whether a receipt pushed live can be shown at the top of the current results without asking
 * again. Full-text queries cannot be judged here, so they report `unknown`.
 */
export function liveMatch(receipt: ReceiptDto, query: ReceiptQuery): boolean | 'unknown' {
  if (query.text) return 'unknown';
  if (query.id && ![receipt.proposalId, receipt.execId, receipt.approvalId].includes(query.id)) return false;
  if (query.hash && receipt.requestHash !== query.hash && receipt.hash !== query.hash) return false;
  if (query.events && !query.events.includes(receipt.event)) return false;
  if (query.action && receipt.action !== query.action) return false;
  if (query.agent && receipt.agent !== query.agent) return false;
  if (query.approverKeyId && receipt.approverKeyId !== query.approverKeyId) return false;
  const time = Date.parse(receipt.time);
  if (query.from && time < Date.parse(query.from)) return false;
  if (query.to && time > Date.parse(query.to)) return false;
  return true;
}

export function hasAnyFilter(query: ReceiptQuery): boolean {
  return Object.values(query).some((value) => value !== undefined);
}
