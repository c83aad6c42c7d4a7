import type { JsonObject } from '../json/json-value.ts';
import type { ReceiptDraft } from '../ledger/receipt-body.ts';
import type { Refusal } from '../errors.ts';
import { boundedRequestFields } from '../engine/attempt-receipts.ts';
import type { mintOperatorApproval } from './operator-approval.ts';
import type { ProposalRow } from './proposal-store.ts';
import type { ProposeInput } from './proposal-service.ts';

const details = (entries: Record<string, unknown>): JsonObject => Object.assign(Object.create(null) as JsonObject, entries);

/** What each step of a proposal's life writes to the ledger, beside the row it changes. */
export function proposedReceipt(
  row: Omit<ProposalRow, 'status' | 'decided_at' | 'reason' | 'result' | 'exec_id' | 'approval_id' | 'receipt_seq' | 'purged_at'>,
  payload: JsonObject,
): ReceiptDraft {
  return {
    event: 'proposed',
    action: row.action,
    nonce: row.nonce,
    payload,
    request_hash: row.request_hash,
    proposal_id: row.id,
    context: row.context,
    agent: row.agent,
    action_def_hash: row.action_def_hash,
    details: details({ expires_at: row.expires_at }),
  };
}

/** A proposal refused at once: the attempt, bounded as every refused request is. */
export function refusedProposalReceipt(
  input: ProposeInput,
  requestHash: string,
  refusal: Refusal,
  definitionHash: string | null,
): ReceiptDraft {
  return {
    event: 'refused',
    action: input.action,
    nonce: input.nonce,
    request_hash: requestHash,
    ...boundedRequestFields(input.payload, input.context),
    agent: input.agent ?? null,
    action_def_hash: definitionHash,
    reason: refusal.detail,
    status: refusal.status,
    details: details({ proposal: true }),
  };
}

/** One operator's approval; `quorum` holds details only for an action that needs more than one key. */
export function approvedReceipt(
  row: ProposalRow,
  approval: ReturnType<typeof mintOperatorApproval>,
  quorum: Record<string, unknown>,
): ReceiptDraft {
  return {
    event: 'approved',
    action: row.action,
    request_hash: row.request_hash,
    proposal_id: row.id,
    approval_id: approval.artifact.approval_id,
    approver: 'operator',
    agent: row.agent,
    approver_key_id: approval.keyId,
    tenant_id: approval.artifact.tenant_id,
    action_def_hash: row.action_def_hash,
    details: details({
      issued_at: approval.artifact.issued_at,
      expires_at: approval.artifact.expires_at,
      signature: approval.artifact.signature,
      ...quorum,
    }),
  };
}

export function extendedReceipt(row: ProposalRow, expiresAt: string): ReceiptDraft {
  return {
    event: 'extended',
    action: row.action,
    nonce: row.nonce,
    request_hash: row.request_hash,
    proposal_id: row.id,
    details: details({ expires_at_before: row.expires_at, expires_at: expiresAt }),
  };
}

export function closedReceipt(row: ProposalRow, status: 'denied' | 'expired', reason: string): ReceiptDraft {
  return {
    event: status,
    action: row.action,
    nonce: row.nonce,
    request_hash: row.request_hash,
    proposal_id: row.id,
    agent: row.agent,
    reason,
  };
}
