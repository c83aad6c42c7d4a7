import type { JsonObject, JsonValue } from '../json/json-value.ts';
import type { ReceiptEvent } from '../../../shared/console-dto.ts';
import type { BodyField } from '../../../shared/receipt-bodies.ts';
import { canonicalJson } from '../json/canonical.ts';

/**
 * 2: payload, context, preview and result are committed to by `salted_hashes` and kept beside
 * the receipt (receipt-bodies.ts), so retention can purge them. Receipts of format 1 embed
 * their payload, context and preview and carry `result_hash` and `legacy_receipt`.
 */
export const RECEIPT_FORMAT_VERSION = 2;
export const GENESIS_PREV_HASH = '0'.repeat(64);

/**
 * What a caller says about an attempt. The ledger adds `v`, `seq`, `prev_hash`, `time` and
 * `receipt_key_id`; absent (undefined or null) fields are left out of the signed body.
 * docs/receipts.md is the reviewer's description of these fields.
 */
export interface ReceiptDraft {
  event: ReceiptEvent;
  action?: string | null;
  nonce?: string | null;
  payload?: JsonObject | null;
  request_hash?: string | null;
  exec_id?: string | null;
  result_hash?: string | null;
  legacy_receipt?: string | null;
  approval_id?: string | null;
  approver?: string | null;
  approver_key_id?: string | null;
  tenant_id?: string | null;
  /** The approval artifact that authorised an execution, with its signer's key id. */
  approval?: JsonObject | null;
  proposal_id?: string | null;
  context?: string | null;
  /** The agent whose token made the request: verified, unlike `context`. */
  agent?: string | null;
  /** Instead of `payload` and `context` when a request that ran nothing was too big to keep. */
  preview?: JsonObject | null;
  reason?: string | null;
  status?: number | null;
  replay_of?: number | null;
  /** sha256 of the declared action's definition this attempt was decided under. */
  action_def_hash?: string | null;
  /** The grant that authorised this execution, or that a grant `config` receipt is about. */
  grant_id?: string | null;
  /** Which use of that grant this execution spent: 1, 2, … */
  grant_use?: number | null;
  details?: JsonObject | null;
  /** The handler's result, canonical JSON: kept beside the receipt, committed to by salted hash. */
  result?: string | null;
}

/** The draft without its bodies, and the bodies' texts by field (docs/receipts.md). */
export function splitBodies(draft: ReceiptDraft): { signed: ReceiptDraft; bodies: [BodyField, string][] } {
  const { payload, context, preview, result, ...signed } = draft;
  const bodies: [BodyField, string][] = [];
  if (payload !== undefined && payload !== null) bodies.push(['payload', canonicalJson(payload)]);
  if (context !== undefined && context !== null) bodies.push(['context', context]);
  if (preview !== undefined && preview !== null) bodies.push(['preview', canonicalJson(preview)]);
  if (result !== undefined && result !== null) bodies.push(['result', result]);
  return { signed, bodies };
}

export function buildReceiptBody(
  draft: ReceiptDraft,
  seq: number,
  prevHash: string,
  time: string,
  receiptKeyId: string,
  saltedHashes: JsonObject | null = null,
): JsonObject {
  const body: JsonObject = Object.create(null) as JsonObject;
  body['v'] = BigInt(RECEIPT_FORMAT_VERSION);
  body['seq'] = BigInt(seq);
  body['prev_hash'] = prevHash;
  body['time'] = time;
  body['receipt_key_id'] = receiptKeyId;
  for (const [key, value] of Object.entries(draft) as [string, JsonValue | number | undefined][]) {
    if (value === undefined || value === null) continue;
    // Counters travel as exact integers, like every integer in a canonical body.
    body[key] = typeof value === 'number' ? BigInt(value) : value;
  }
  if (saltedHashes !== null) body['salted_hashes'] = saltedHashes;
  return body;
}
