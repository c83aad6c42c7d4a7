import type { SignaturePool } from '../crypto/signature-pool.ts';
import {
  validateApprovalWith,
  type ApprovalCheck,
  type ApprovalPolicy,
  type SignerSearch,
  type VerifiedApproval,
} from '../approval/validate-approval.ts';
import type { GrantUse } from '../grants/grant-authority.ts';
import type { RefusalCode } from '../errors.ts';
import type { ExecutionRecords } from '../store/execution-records.ts';
import type { LedgerTransaction } from '../store/ledger-store.ts';
import type { EngineOptions, ExecuteRequest } from './execute-request.ts';

/** What authorises a go: a single-use approval, a use of a grant, or nothing (demo mode). */
export type Authority = { approval: VerifiedApproval | null; grant: GrantUse | null };

export interface Denial {
  code: RefusalCode;
  detail: string;
  /** What the receipt says, when it says more than the answer. */
  reason?: string;
}

/**
 * Who may authorise an execution, in two steps. `check` verifies the approval artifact's
 * signature before the write transaction (on the signature threads: it is pure and the
 * costliest step); `dispatch` runs inside the decision's transaction, just before the nonce is
 * spent, and spends what authorises it: the approval (checked unused), or one use of a grant.
 */
export class Authorisation {
  private readonly search: SignerSearch;

  constructor(
    private readonly options: EngineOptions,
    pool: SignaturePool,
  ) {
    this.search = (message, signature, approvers) =>
      pool.firstSigner(
        message,
        signature,
        approvers.map((a) => a.verifier),
      );
  }

  needsApproval(request: ExecuteRequest): boolean {
    return this.options.mode === 'clawshield' || Boolean(request.proposalId);
  }

  /** The artifact's verdict (null when none is needed or none came), taken at `nowMs`. */
  check(request: ExecuteRequest, requestHash: string, nowMs: number): Promise<ApprovalCheck> | null {
    if (!this.needsApproval(request) || !request.artifact) return null;
    return validateApprovalWith(this.search, request.artifact, requestHash, this.policyFor(request), nowMs);
  }

  /**
   * The operator's key authorises only the proposal its approval was minted for: an agent that
   * saw an operator artifact (receipts are streamed) cannot present it at /execute.
   */
  private policyFor(request: ExecuteRequest): ApprovalPolicy {
    const policy = this.options.approvalPolicy;
    if (request.proposalId) return policy;
    return { ...policy, approvers: policy.approvers.filter((a) => a.kind !== 'operator') };
  }

  /**
   * Why an action that needs `quorum` distinct operator keys may not run on this request, or
   * null. Only a proposal can gather them, in any mode: its own operator artifact must verify
   * and, with the approvals recorded for it, come from `quorum` distinct operator keys.
   */
  async quorumShortfall(
    request: ExecuteRequest,
    quorum: number,
    approval: ApprovalCheck | null,
    tx: LedgerTransaction,
  ): Promise<string | null> {
    if (quorum <= 1) return null;
    const needs = `Action '${request.action}' needs approvals by ${quorum} distinct operator keys`;
    if (!request.proposalId || !request.artifact) return `${needs}: propose it, and have ${quorum} operators approve`;
    // An artifact that does not verify is refused as such by the approval check.
    if (!approval?.ok) return null;
    if (approval.approval.approver !== 'operator') return `${needs}; a ClawShield approval is not one of them`;
    const keys = new Set((await this.options.approvalKeysOf?.(request.proposalId, tx)) ?? []);
    keys.add(approval.approval.approverKeyId);
    return keys.size >= quorum ? null : `${needs}; proposal ${request.proposalId} has ${keys.size}`;
  }

  /**
   * Inside the decision's transaction: what authorises this request, or why nothing does. A
   * grant's use is spent here; the approval is checked unused here and spent by the caller
   * together with the nonce.
   */
  async dispatch(
    request: ExecuteRequest,
    approval: ApprovalCheck | null,
    records: ExecutionRecords,
    tx: LedgerTransaction,
  ): Promise<Authority | Denial> {
    if (!this.needsApproval(request)) return { approval: null, grant: null };
    if (!request.artifact) {
      // Without an artifact only a live grant can authorise it; its use is spent right here.
      const spent = (await this.options.grants?.spend(request, tx)) ?? { miss: 'no grants' };
      if ('miss' in spent) {
        const detail = request.proposalId
          ? `No live grant covers this request (${spent.miss}): it waits for the operator`
          : 'ClawShield mode requires an approval artifact';
        return { code: 'approval_required', detail, reason: request.proposalId ? detail : `${detail} (${spent.miss})` };
      }
      return { approval: null, grant: spent };
    }
    if (!approval) return { code: 'approval_required', detail: 'ClawShield mode requires an approval artifact' };
    if (!approval.ok) return { code: 'approval_invalid', detail: approval.detail };
    const used = await records.approvalUsedBy(approval.approval);
    if (used !== null) {
      const which = used.approvalId === approval.approval.approvalId ? used.approvalId : `its signed message (as ${used.approvalId})`;
      return { code: 'approval_used', detail: `Approval already used: ${which} authorised execution ${used.execId}` };
    }
    return { approval: approval.approval, grant: null };
  }
}
