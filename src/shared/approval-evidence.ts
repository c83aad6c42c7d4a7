/**
 * The approval evidence a receipt carries (docs/receipts.md, "Approval evidence"): the whole
 * ClawShield-v1 artifact that authorised an execution, with its signer's key id. Pure and
 * synchronous: it says what must be signed and by which key; each caller verifies the
 * signature with its own Ed25519 implementation.
 */
import { decodeSignatureBase64 } from './crypto/ed25519-verify';

/** Endings an approval can authorise: only these carry evidence. */
const AUTHORISED_ENDINGS = new Set(['executed', 'failed', 'refused']);
const FIELDS = ['approval_id', 'tenant_id', 'action_hash', 'issued_at', 'expires_at', 'signature', 'key_id'] as const;

/** The exact bytes a ClawShield-v1 approver (or the operator, with its own key) signs: protocol §2. */
export function approvalMessage(a: {
  approval_id: string;
  tenant_id: string;
  action_hash: string;
  issued_at: string;
  expires_at: string;
}): Uint8Array {
  return new TextEncoder().encode(a.approval_id + a.tenant_id + a.action_hash + a.issued_at + a.expires_at);
}

export type ApprovalEvidence =
  /** The receipt names no approval (or is not an ending): nothing to check. */
  | { kind: 'none' }
  /** It names one but keeps no artifact: written before evidence was recorded, or an interrupted execution closed after a restart. */
  | { kind: 'absent'; approvalId: string }
  | { kind: 'malformed'; problem: string }
  /** Verify `signature` over `message` with the approver key whose id is `keyId`. */
  | { kind: 'signed'; approvalId: string; keyId: string; message: Uint8Array; signature: Uint8Array };

export function approvalEvidence(body: Record<string, unknown>): ApprovalEvidence {
  const approvalId = body['approval_id'];
  if (typeof approvalId !== 'string' || !AUTHORISED_ENDINGS.has(String(body['event']))) return { kind: 'none' };
  const artifact = body['approval'];
  if (artifact === undefined) return { kind: 'absent', approvalId };
  if (artifact === null || typeof artifact !== 'object' || Array.isArray(artifact)) {
    return { kind: 'malformed', problem: `approval evidence of ${approvalId} is not an object` };
  }
  const a = artifact as Record<string, unknown>;
  for (const field of FIELDS) {
    if (typeof a[field] !== 'string') return { kind: 'malformed', problem: `approval evidence of ${approvalId} has no ${field} text` };
  }
  const text = (field: (typeof FIELDS)[number]) => a[field] as string;
  const mismatches: [string, unknown, string][] = [
    ['approval_id', body['approval_id'], 'approval_id'],
    ['tenant_id', body['tenant_id'], 'tenant_id'],
    ['request_hash', body['request_hash'], 'action_hash'],
    ['approver_key_id', body['approver_key_id'], 'key_id'],
  ];
  for (const [bodyField, value, field] of mismatches) {
    if (value !== text(field as (typeof FIELDS)[number])) {
      return { kind: 'malformed', problem: `approval evidence of ${approvalId}: its ${field} is not the receipt's ${bodyField}` };
    }
  }
  const signature = decodeSignatureBase64(text('signature'));
  if (signature === null)
    return { kind: 'malformed', problem: `approval evidence of ${approvalId}: signature is not strict base64 of 64 bytes` };
  const message = approvalMessage({
    approval_id: text('approval_id'),
    tenant_id: text('tenant_id'),
    action_hash: text('action_hash'),
    issued_at: text('issued_at'),
    expires_at: text('expires_at'),
  });
  return { kind: 'signed', approvalId, keyId: text('key_id'), message, signature };
}
