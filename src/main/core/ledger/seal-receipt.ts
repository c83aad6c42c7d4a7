import type { Ed25519Signer } from '../crypto/ed25519.ts';
import { canonicalJson } from '../json/canonical.ts';
import { sha256Hex } from '../json/request-hash.ts';
import { buildReceiptBody, type ReceiptDraft } from './receipt-body.ts';
import type { ReceiptRow } from './receipt-row.ts';

/**
 * A receipt as the chain defines it: the draft's canonical body at `seq` after `prevHash`,
 * its SHA-256 `hash` and its Ed25519 signature by the receipt key, with the columns that
 * search and filters read. Any store that appends receipts seals them here, so every
 * backend's receipts verify with the same code.
 */
export function sealReceipt(draft: ReceiptDraft, seq: number, prevHash: string, time: string, signer: Ed25519Signer): ReceiptRow {
  const body = canonicalJson(buildReceiptBody(draft, seq, prevHash, time, signer.keyId));
  const bodyBytes = Buffer.from(body, 'utf8');
  return {
    seq,
    event: draft.event,
    time,
    action: draft.action ?? null,
    hash: sha256Hex(bodyBytes),
    prev_hash: prevHash,
    body,
    signature: Buffer.from(signer.sign(bodyBytes)).toString('base64'),
    reason: draft.reason ?? null,
    exec_id: draft.exec_id ?? null,
    proposal_id: draft.proposal_id ?? null,
    approval_id: draft.approval_id ?? null,
    approver_key_id: draft.approver_key_id ?? null,
    request_hash: draft.request_hash ?? null,
    grant_id: draft.grant_id ?? null,
  };
}
