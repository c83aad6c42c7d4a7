import type { ReceiptDraft } from '../ledger/receipt-body.ts';
import type { VerifiedApproval } from '../approval/validate-approval.ts';
import type { ExecuteRequest } from './execute-request.ts';

/**
 * What every receipt about an execution attempt says of the request itself, and for a declared
 * action the hash of the definition in force.
 */
export function attemptFields(request: ExecuteRequest, requestHash: string, definitionHash: string | null = null): ReceiptDraft {
  return {
    event: 'refused',
    action: request.action,
    nonce: request.nonce,
    payload: request.payload,
    request_hash: requestHash,
    proposal_id: request.proposalId ?? null,
    context: request.context ?? null,
    action_def_hash: definitionHash,
  };
}

/** Which execution it was and which single-use approval authorised it. */
export function executionFields(execId: string, approval: VerifiedApproval | null): Partial<ReceiptDraft> {
  return {
    exec_id: execId,
    approval_id: approval?.approvalId,
    approver: approval?.approver,
    approver_key_id: approval?.approverKeyId,
    tenant_id: approval?.tenantId,
  };
}
