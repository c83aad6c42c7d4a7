import { randomUUID } from 'node:crypto';
import type { SqliteDatabase } from '../store/database.ts';
import type { Ledger } from '../ledger/ledger.ts';
import type { ReceiptDraft } from '../ledger/receipt-body.ts';
import type { ActionRegistry } from '../actions/action-registry.ts';
import { HandlerInputError } from '../actions/action-registry.ts';
import type { ApprovalArtifact } from '../approval/approval-artifact.ts';
import { validateApproval, type ApprovalCheck, type ApprovalPolicy } from '../approval/validate-approval.ts';
import type { JsonObject } from '../json/json-value.ts';
import { canonicalJson, pythonJsonDumpsSorted } from '../json/canonical.ts';
import { requestHash as hashRequest, sha256Hex } from '../json/request-hash.ts';
import { isoUtc, type Clock } from '../clock.ts';
import type { ExecMode } from '../../../shared/console-dto.ts';
import type { RefusalCode } from '../errors.ts';
import type { AllowList } from './allow-list.ts';
import { ExecutionStore, type ExecutionRow } from './execution-store.ts';
import { GroupCommit } from './group-commit.ts';

export interface ExecuteRequest {
  action: string;
  payload: JsonObject;
  nonce: string;
  artifact: ApprovalArtifact | null;
  /** Set when an operator's decision on a proposal drives this execution. */
  proposalId?: string | null;
  context?: string | null;
  /**
   * Runs inside the same savepoint as the decision, so whatever it records (a proposal's
   * new status) commits or rolls back together with the execution and its receipt.
   */
  within?: (outcome: ExecuteOutcome) => void;
  /** Checked inside the transaction before anything else: a reason to refuse (409), or null. */
  precondition?: () => string | null;
}

/** The compatible `/execute` answer; `resultCanonical` keeps big integers exact. */
export interface ExecutionAnswer {
  id: string;
  action: string;
  resultCanonical: string;
  approved: boolean;
  receipt: string;
}

export type ExecuteOutcome =
  | { kind: 'executed' | 'replayed'; answer: ExecutionAnswer; receiptSeq: number }
  | { kind: 'refused'; status: number; code: RefusalCode; detail: string; receiptSeq: number };

export interface EngineOptions {
  mode: ExecMode;
  approvalPolicy: ApprovalPolicy;
  /**
   * Proposals and executions share one nonce space: returns the proposal that holds a
   * nonce, so a direct /execute cannot run around a pending proposal.
   */
  nonceHeldByProposal?: (nonce: string) => string | null;
}

interface Queued {
  request: ExecuteRequest;
  requestHash: string;
  approval: ApprovalCheck | null;
}

/**
 * Decides and performs executions. Every decision for a nonce or an approval id is taken
 * inside the write transaction (GroupCommit), so two requests can never both pass, and each
 * answer is released only after the transaction that holds its receipt has committed.
 */
export class Engine {
  private readonly store: ExecutionStore;
  private readonly commits: GroupCommit<Queued, ExecuteOutcome>;

  constructor(
    db: SqliteDatabase,
    private readonly ledger: Ledger,
    private readonly registry: ActionRegistry,
    private readonly allowList: AllowList,
    private readonly clock: Clock,
    private readonly options: EngineOptions,
  ) {
    this.store = new ExecutionStore(db);
    this.commits = new GroupCommit(db, ledger, (item) => this.decideWithin(item), (item, err) => {
      const detail = `Internal error while executing '${item.request.action}'`;
      return this.refuse(item, 500, 'handler_failed', detail, { event: 'failed', reason: `${detail}: ${String(err)}` });
    });
  }

  get mode(): ExecMode {
    return this.options.mode;
  }

  execute(request: ExecuteRequest): Promise<ExecuteOutcome> {
    const requestHash = hashRequest(request.action, request.payload);
    // Signature checks are pure and the costliest step, so they run outside the write lock.
    const approval =
      this.needsApproval(request) && request.artifact
        ? validateApproval(request.artifact, requestHash, this.policyFor(request), this.clock.now())
        : null;
    return this.commits.submit({ request, requestHash, approval });
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

  private needsApproval(request: ExecuteRequest): boolean {
    return this.options.mode === 'clawshield' || Boolean(request.proposalId);
  }

  private decideWithin(item: Queued): ExecuteOutcome {
    const outcome = this.decide(item);
    item.request.within?.(outcome);
    return outcome;
  }

  private decide(item: Queued): ExecuteOutcome {
    const { request } = item;
    const blocked = request.precondition?.() ?? null;
    if (blocked !== null) return this.refuse(item, 409, 'conflict', blocked);
    const previous = this.store.findByNonce(request.nonce);
    if (previous) return this.replay(item, previous);
    const holder = this.options.nonceHeldByProposal?.(request.nonce) ?? null;
    if (holder !== null && holder !== request.proposalId) {
      return this.refuse(item, 409, 'nonce_conflict', `Nonce '${request.nonce}' belongs to proposal ${holder}`);
    }

    if (!this.allowList.isAllowed(request.action)) {
      return this.refuse(item, 403, 'not_allowed', `Action '${request.action}' is not in the execution allow-list`);
    }
    const handler = this.registry.get(request.action);
    if (!handler) return this.refuse(item, 400, 'unknown_action', `Unknown action: ${request.action}`);

    let approval = null;
    if (this.needsApproval(request)) {
      if (!request.artifact || !item.approval) {
        return this.refuse(item, 403, 'approval_required', 'ClawShield mode requires an approval artifact');
      }
      if (!item.approval.ok) return this.refuse(item, 403, 'approval_invalid', item.approval.detail);
      approval = item.approval.approval;
      const usedBy = this.store.approvalUsedBy(approval.approvalId);
      if (usedBy !== null) {
        return this.refuse(item, 403, 'approval_used', `Approval already used: ${approval.approvalId} authorised execution ${usedBy}`);
      }
      this.store.recordVerifiedApproval(approval, request.action, isoUtc(this.clock.now()));
    }

    const execId = randomUUID();
    const createdAt = isoUtc(this.clock.now());
    const evidence: ReceiptDraft = {
      event: 'executed',
      exec_id: execId,
      approval_id: approval?.approvalId,
      approver: approval?.approver,
      approver_key_id: approval?.approverKeyId,
      tenant_id: approval?.tenantId,
    };
    let result;
    try {
      result = handler(request.payload);
    } catch (err) {
      if (err instanceof HandlerInputError) return this.refuse(item, 400, 'handler_input', err.message);
      // It may have had effects: the nonce and the approval are spent, and the failure witnessed.
      const detail = `Action '${request.action}' failed: ${err instanceof Error ? err.message : String(err)}`;
      const receipt = this.ledger.append({ ...this.attempt(item), ...evidence, event: 'failed', reason: detail, status: 500 });
      this.store.insert({ ...this.row(item, execId, createdAt, receipt.seq, approval?.approvalId), status: 'failed', error: detail });
      if (approval) this.store.consume(approval.approvalId, execId);
      return { kind: 'refused', status: 500, code: 'handler_failed', detail, receiptSeq: receipt.seq };
    }
    const resultCanonical = canonicalJson(result);
    const legacyJson = pythonJsonDumpsSorted(result);
    const legacy = sha256Hex(`${execId}:${legacyJson}`);
    const receipt = this.ledger.append({
      ...this.attempt(item),
      ...evidence,
      result_hash: sha256Hex(resultCanonical),
      legacy_receipt: legacy,
    });
    this.store.insert({
      ...this.row(item, execId, createdAt, receipt.seq, approval?.approvalId),
      status: 'executed',
      result: resultCanonical,
      result_legacy_json: legacyJson,
    });
    if (approval) this.store.consume(approval.approvalId, execId);
    return {
      kind: 'executed',
      answer: { id: execId, action: request.action, resultCanonical, approved: true, receipt: legacy },
      receiptSeq: receipt.seq,
    };
  }

  private replay(item: Queued, previous: ExecutionRow): ExecuteOutcome {
    if (previous.request_hash !== item.requestHash) {
      return this.refuse(item, 409, 'nonce_conflict', `Nonce '${item.request.nonce}' was already used for a different request`);
    }
    const receipt = this.ledger.append({
      ...this.attempt(item),
      event: 'replayed',
      exec_id: previous.id,
      replay_of: previous.receipt_seq,
    });
    if (previous.status === 'failed' || previous.result === null || previous.result_legacy_json === null) {
      const detail = previous.error ?? `Action '${previous.action}' failed`;
      return { kind: 'refused', status: 500, code: 'handler_failed', detail, receiptSeq: receipt.seq };
    }
    return {
      kind: 'replayed',
      answer: {
        id: previous.id,
        action: previous.action,
        resultCanonical: previous.result,
        approved: previous.approved === 1,
        receipt: sha256Hex(`${previous.id}:${previous.result_legacy_json}`),
      },
      receiptSeq: receipt.seq,
    };
  }

  private attempt(item: Queued): ReceiptDraft {
    const { request, requestHash } = item;
    return {
      event: 'refused',
      action: request.action,
      nonce: request.nonce,
      payload: request.payload,
      request_hash: requestHash,
      proposal_id: request.proposalId ?? null,
      context: request.context ?? null,
    };
  }

  private row(item: Queued, id: string, createdAt: string, receiptSeq: number, approvalId: string | undefined) {
    return {
      id,
      nonce: item.request.nonce,
      request_hash: item.requestHash,
      action: item.request.action,
      result: null,
      result_legacy_json: null,
      error: null,
      approved: 1,
      approval_id: approvalId ?? null,
      created_at: createdAt,
      receipt_seq: receiptSeq,
    };
  }

  private refuse(
    item: Queued,
    status: number,
    code: RefusalCode,
    detail: string,
    extra: Partial<ReceiptDraft> = {},
  ): ExecuteOutcome {
    const receipt = this.ledger.append({ ...this.attempt(item), reason: detail, status, ...extra });
    return { kind: 'refused', status, code, detail, receiptSeq: receipt.seq };
  }
}
