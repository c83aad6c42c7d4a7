import type { Ed25519Signer } from '../crypto/ed25519.ts';
import { canonicalJson } from '../json/canonical.ts';
import { sha256Hex } from '../json/request-hash.ts';
import { buildReceiptBody, splitBodies, type ReceiptDraft } from './receipt-body.ts';
import { randomSalt, sealBodies, type SaltSource, type SealedBody } from './receipt-bodies.ts';
import type { JsonObject } from '../json/json-value.ts';
import type { ReceiptRow } from './receipt-row.ts';

/** A sealed receipt: its row, and the bodies (payload, context, preview, result) it commits to by salted hash. */
export interface SealedReceipt {
  row: ReceiptRow;
  bodies: SealedBody[];
}

/**
 * A receipt as the chain defines it: the draft's canonical body at `seq` after `prevHash`,
 * its SHA-256 `hash` and its Ed25519 signature by the receipt key, with the columns that
 * search and filters read. The draft's bodies leave the signed body for salted hashes (format
 * 2), so the signature and the Merkle leaf never cover a body and retention can purge it; the
 * caller stores them beside the receipt. Any store that appends receipts seals them here, so
 * every backend's receipts verify with the same code.
 */
export function sealReceipt(
  draft: ReceiptDraft,
  seq: number,
  prevHash: string,
  time: string,
  signer: Ed25519Signer,
  salts: SaltSource = randomSalt,
): SealedReceipt {
  const { signed, bodies: texts } = splitBodies(draft);
  const bodies = sealBodies(texts, salts);
  let saltedHashes: JsonObject | null = null;
  if (bodies.length > 0) {
    saltedHashes = Object.create(null) as JsonObject;
    for (const b of bodies) saltedHashes[b.field] = b.hash;
  }
  const body = canonicalJson(buildReceiptBody(signed, seq, prevHash, time, signer.keyId, saltedHashes));
  const bodyBytes = Buffer.from(body, 'utf8');
  const row: ReceiptRow = {
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
  return { row, bodies };
}
