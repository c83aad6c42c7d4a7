import type { ReceiptDraft } from '../ledger/receipt-body.ts';
import type { VerifiedApproval } from '../approval/validate-approval.ts';
import type { GrantUse } from '../grants/grant-authority.ts';
import type { ApprovalArtifact } from '../approval/approval-artifact.ts';
import type { JsonObject } from '../json/json-value.ts';
import { canonicalJson } from '../json/canonical.ts';
import type { ExecuteRequest } from './execute-request.ts';

/** The most a receipt keeps of the payload and context of a request that ran nothing. */
export const PREVIEW_LIMIT_BYTES = 4096;
/** Of that, what the context may take when the payload wants all of it. */
const CONTEXT_SHARE_BYTES = 1024;

/** Receipts that keep the whole request: something ran (or may have) on its behalf. */
type RanEvent = 'executed' | 'failed';

/** The first `max` of these UTF-8 bytes as text, never splitting a character. */
function utf8Prefix(bytes: Buffer, max: number): string {
  let end = Math.min(max, bytes.length);
  while (end > 0 && end < bytes.length && (bytes[end]! & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end).toString('utf8');
}

/**
 * What a receipt about a request that ran nothing (refused, replayed) says of its payload and
 * context. Such requests cost an agent nothing to repeat, and the ledger can never be pruned,
 * so when the two together exceed 4 KiB the receipt keeps a `preview` instead: the first bytes
 * of each (the payload in its canonical form), their full sizes, and `truncated: true`. The
 * receipt's `request_hash` still commits to the whole request.
 */
export function boundedRequestFields(payload: JsonObject | null | undefined, context: string | null | undefined): Partial<ReceiptDraft> {
  const payloadBytes = Buffer.from(payload ? canonicalJson(payload) : '', 'utf8');
  const contextBytes = Buffer.from(context ?? '', 'utf8');
  if (payloadBytes.length + contextBytes.length <= PREVIEW_LIMIT_BYTES) return { payload: payload ?? null, context: context ?? null };
  const payloadCut = Math.min(payloadBytes.length, PREVIEW_LIMIT_BYTES - Math.min(contextBytes.length, CONTEXT_SHARE_BYTES));
  const preview: JsonObject = Object.create(null) as JsonObject;
  preview['truncated'] = true;
  preview['payload'] = utf8Prefix(payloadBytes, payloadCut);
  preview['payload_bytes'] = BigInt(payloadBytes.length);
  if (context !== null && context !== undefined) {
    preview['context'] = utf8Prefix(contextBytes, PREVIEW_LIMIT_BYTES - payloadCut);
    preview['context_bytes'] = BigInt(contextBytes.length);
  }
  return { preview };
}

/**
 * What every receipt about an execution attempt says of the request itself: the whole
 * request when something ran on its behalf, a bounded preview otherwise; for a declared action,
 * the hash of the definition in force.
 */
export function attemptFields(
  request: ExecuteRequest,
  requestHash: string,
  event: RanEvent | 'refused' | 'replayed',
  definitionHash: string | null = null,
): ReceiptDraft {
  const ran = event === 'executed' || event === 'failed';
  return {
    event,
    action: request.action,
    nonce: request.nonce,
    request_hash: requestHash,
    proposal_id: request.proposalId ?? null,
    agent: request.agent ?? null,
    ...(ran ? { payload: request.payload, context: request.context ?? null } : boundedRequestFields(request.payload, request.context)),
    action_def_hash: definitionHash,
  };
}

/**
 * The approval evidence: the whole signed artifact as it was verified, with the signer's key
 * id, so a reviewer can check the approver's signature from the receipt alone.
 */
function approvalEvidence(approval: VerifiedApproval, artifact: ApprovalArtifact): JsonObject {
  const evidence: JsonObject = Object.create(null) as JsonObject;
  evidence['approval_id'] = approval.approvalId;
  evidence['tenant_id'] = approval.tenantId;
  evidence['action_hash'] = approval.actionHash;
  evidence['issued_at'] = approval.issuedAt;
  evidence['expires_at'] = approval.expiresAt;
  evidence['signature'] = artifact.signature;
  evidence['key_id'] = approval.approverKeyId;
  return evidence;
}

/**
 * Which execution it was and which single-use approval (or which use of a grant) authorised it,
 * with that approval's evidence when the artifact is at hand (it is not kept across a restart).
 */
export function executionFields(
  execId: string,
  approval: VerifiedApproval | null,
  artifact: ApprovalArtifact | null = null,
  grant: GrantUse | null = null,
): Partial<ReceiptDraft> {
  if (grant) {
    return { exec_id: execId, approver: 'operator', approver_key_id: grant.keyId, grant_id: grant.grantId, grant_use: grant.use };
  }
  return {
    exec_id: execId,
    approval_id: approval?.approvalId,
    approver: approval?.approver,
    approver_key_id: approval?.approverKeyId,
    tenant_id: approval?.tenantId,
    approval: approval && artifact ? approvalEvidence(approval, artifact) : null,
  };
}
