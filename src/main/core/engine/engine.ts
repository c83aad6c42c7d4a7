import { randomUUID } from 'node:crypto';
import type { SqliteDatabase } from '../store/database.ts';
import type { Ledger } from '../ledger/ledger.ts';
import type { ActionHandler, ActionRegistry } from '../actions/action-registry.ts';
import { HandlerInputError } from '../actions/action-registry.ts';
import { validateApproval, type ApprovalCheck, type ApprovalPolicy, type VerifiedApproval } from '../approval/validate-approval.ts';
import { canonicalJson, pythonJsonDumpsSorted } from '../json/canonical.ts';
import type { JsonValue } from '../json/json-value.ts';
import { requestHash as hashRequest, sha256Hex } from '../json/request-hash.ts';
import { isoUtc, type Clock } from '../clock.ts';
import type { ExecMode } from '../../../shared/console-dto.ts';
import type { RefusalCode } from '../errors.ts';
import { refusalStatus } from '../../../shared/error-codes.ts';
import type { AllowList } from './allow-list.ts';
import { ExecutionStore, type ExecutionRow } from './execution-store.ts';
import { GroupCommit } from './group-commit.ts';
import { attemptFields, executionFields } from './attempt-receipts.ts';
import { deferred, type Deferred } from './deferred.ts';
import { isStorageFull, StorageFull } from '../store/storage-full.ts';
import type { EngineOptions, ExecuteOutcome, ExecuteRequest } from './execute-request.ts';
import { declaredRefusal } from './declared-checks.ts';
import type { GrantUse } from '../grants/grant-authority.ts';

export type { EngineOptions, ExecuteOutcome, ExecuteRequest, ExecutionAnswer } from './execute-request.ts';

interface Attempt {
  request: ExecuteRequest;
  requestHash: string;
  approval: ApprovalCheck | null;
  /** The definition hash of the declared action in force (receipts' `action_def_hash`). */
  definitionHash: string | null;
  /** Set when this attempt reserved the execution (possibly in a batch that then failed). */
  ended?: Deferred;
}

interface Reserved {
  execId: string;
  approval: VerifiedApproval | null;
  grant: GrantUse | null;
  /** Settles when this execution's ending has committed; others with its nonce wait on it. */
  ended: Deferred;
}

type Step =
  | { kind: 'final'; outcome: ExecuteOutcome }
  | { kind: 'reserved'; reserved: Reserved; run: ActionHandler }
  | { kind: 'wait'; running: Promise<unknown> };

type HandlerEnding =
  { ok: true; resultCanonical: string; legacyJson: string } | { ok: false; code: 'handler_input' | 'handler_failed'; detail: string };

const INTERRUPTED = 'Interrupted: OpenExec stopped while this execution was running; its outcome is unknown and it will not run again';

const RAN_UNRECORDED =
  'Storage full: the action ran, but OpenExec could not record its outcome; it will be recorded as interrupted (outcome unknown) and never run again';

/**
 * Decides and performs executions in two committed steps. First the decision: checks, and
 * for a go the nonce and the approval are spent in the same transaction (a `started`
 * execution). Only then does the handler run, outside any transaction; its ending and the
 * receipt are committed next. A crash in between can therefore never make an approval or a
 * nonce usable again; at the next start the execution is closed as interrupted, with a receipt.
 */
export class Engine {
  private readonly store: ExecutionStore;
  private readonly commits: GroupCommit;
  /** Nonces whose execution is reserved and not yet ended, in this process. */
  private readonly running = new Map<string, Deferred>();

  constructor(
    db: SqliteDatabase,
    private readonly ledger: Ledger,
    private readonly registry: ActionRegistry,
    private readonly allowList: AllowList,
    private readonly clock: Clock,
    private readonly options: EngineOptions,
  ) {
    this.store = new ExecutionStore(db);
    this.commits = new GroupCommit(db, ledger);
    db.transaction(() => {
      for (const row of this.store.listStarted()) this.closeInterrupted(row);
    }).immediate();
    ledger.publishCommitted();
  }

  get mode(): ExecMode {
    return this.options.mode;
  }

  async execute(request: ExecuteRequest): Promise<ExecuteOutcome> {
    const requestHash = hashRequest(request.action, request.payload);
    // Signature checks are pure and the costliest step, so they run outside the write lock.
    const approval =
      this.needsApproval(request) && request.artifact
        ? validateApproval(request.artifact, requestHash, this.policyFor(request), this.clock.now())
        : null;
    const definitionHash = this.registry.get(request.action)?.definitionHash ?? null;
    const attempt: Attempt = { request, requestHash, approval, definitionHash };
    for (;;) {
      let step: Step;
      try {
        step = await this.commits.submit(
          () => this.decide(attempt),
          (err): Step => ({ kind: 'final', outcome: this.internalError(attempt, err) }),
        );
      } catch (err) {
        // The group transaction failed: a reservation this attempt made in it was rolled back.
        if (attempt.ended) this.release(request.nonce, attempt.ended);
        throw err;
      }
      if (step.kind === 'final') return step.outcome;
      if (step.kind === 'reserved') return this.perform(attempt, step.reserved, step.run);
      // The same nonce is running right now: answer as a replay once it has ended.
      await step.running;
    }
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

  /**
   * Why an action that needs `quorum` distinct operator keys may not run on this request, or
   * null. Only a proposal can gather them, in any mode: its own operator artifact must verify
   * and, with the approvals recorded for it, come from `quorum` distinct operator keys.
   */
  private quorumShortfall(request: ExecuteRequest, quorum: number, approval: ApprovalCheck | null): string | null {
    if (quorum <= 1) return null;
    const needs = `Action '${request.action}' needs approvals by ${quorum} distinct operator keys`;
    if (!request.proposalId || !request.artifact) return `${needs}: propose it, and have ${quorum} operators approve`;
    // An artifact that does not verify is refused as such by the approval check.
    if (!approval?.ok) return null;
    if (approval.approval.approver !== 'operator') return `${needs}; a ClawShield approval is not one of them`;
    const keys = new Set(this.options.approvalKeysOf?.(request.proposalId) ?? []);
    keys.add(approval.approval.approverKeyId);
    return keys.size >= quorum ? null : `${needs}; proposal ${request.proposalId} has ${keys.size}`;
  }

  private decide(attempt: Attempt): Step {
    const { request } = attempt;
    const final = (outcome: ExecuteOutcome): Step => {
      request.within?.(outcome);
      return { kind: 'final', outcome };
    };
    const blocked = request.precondition?.() ?? null;
    if (blocked !== null) return final(this.refuse(attempt, 'conflict', blocked));
    let previous = this.store.findByNonce(request.nonce);
    if (previous) {
      if (previous.request_hash !== attempt.requestHash) {
        return final(this.refuse(attempt, 'nonce_conflict', `Nonce '${request.nonce}' was already used for a different request`));
      }
      // A result goes back only to the agent whose request produced it.
      if (previous.agent !== (request.agent ?? null)) {
        return final(this.refuse(attempt, 'nonce_conflict', `Nonce '${request.nonce}' was already used by another agent`));
      }
      if (previous.status === 'started') {
        const running = this.running.get(request.nonce);
        if (running) return { kind: 'wait', running: running.promise };
        this.closeInterrupted(previous);
        previous = this.store.get(previous.id)!;
      }
      return final(this.replay(attempt, previous));
    }
    const holder = this.options.nonceHeldByProposal?.(request.nonce) ?? null;
    if (holder !== null && holder !== request.proposalId) {
      return final(this.refuse(attempt, 'nonce_conflict', `Nonce '${request.nonce}' belongs to proposal ${holder}`));
    }
    if (!this.allowList.isAllowed(request.action)) {
      return final(this.refuse(attempt, 'not_allowed', `Action '${request.action}' is not in the execution allow-list`));
    }
    const handler = this.registry.get(request.action);
    if (!handler) return final(this.refuse(attempt, 'unknown_action', `Unknown action: ${request.action}`));
    const declared = declaredRefusal(handler, request);
    if (declared) return final(this.refuse(attempt, declared.code, declared.detail));

    const quorum = this.quorumShortfall(request, handler.quorum ?? 1, attempt.approval);
    if (quorum !== null) return final(this.refuse(attempt, 'approval_required', quorum));

    let approval: VerifiedApproval | null = null;
    let grant: GrantUse | null = null;
    if (this.needsApproval(request) && !request.artifact) {
      // Without an artifact only a live grant can authorise it; its use is spent right here.
      const spent = this.options.grants?.spend(request) ?? { miss: 'no grants' };
      if ('miss' in spent) {
        const detail = request.proposalId
          ? `No live grant covers this request (${spent.miss}): it waits for the operator`
          : 'ClawShield mode requires an approval artifact';
        return final(this.refuse(attempt, 'approval_required', detail, request.proposalId ? detail : `${detail} (${spent.miss})`));
      }
      grant = spent;
    } else if (this.needsApproval(request)) {
      if (!request.artifact || !attempt.approval) {
        return final(this.refuse(attempt, 'approval_required', 'ClawShield mode requires an approval artifact'));
      }
      if (!attempt.approval.ok) return final(this.refuse(attempt, 'approval_invalid', attempt.approval.detail));
      approval = attempt.approval.approval;
      const used = this.store.approvalUsedBy(approval);
      if (used !== null) {
        const which = used.approvalId === approval.approvalId ? approval.approvalId : `its signed message (as ${used.approvalId})`;
        return final(this.refuse(attempt, 'approval_used', `Approval already used: ${which} authorised execution ${used.execId}`));
      }
    }
    const execId = randomUUID();
    this.store.reserve({
      id: execId,
      nonce: request.nonce,
      request_hash: attempt.requestHash,
      action: request.action,
      approval_id: approval?.approvalId ?? null,
      created_at: isoUtc(this.clock.now()),
      agent: request.agent ?? null,
    });
    if (approval) this.store.spendApproval(approval, request.action, isoUtc(this.clock.now()), execId);
    if (attempt.definitionHash !== null) this.store.bindDefinition(execId, attempt.definitionHash);
    if (grant) this.store.bindGrant(execId, grant.grantId, grant.use);
    request.claim?.(execId, approval?.approvalId ?? null);
    const ended = deferred();
    const reserved = { execId, approval, grant, ended };
    if (handler.kind === 'pure') {
      // Decided, computed and witnessed in this one savepoint: all of it commits, or none.
      return {
        kind: 'final',
        outcome: this.finish(
          attempt,
          reserved,
          endingOf(request, () => handler.run(request.payload)),
        ),
      };
    }
    this.running.set(request.nonce, ended);
    attempt.ended = ended;
    return { kind: 'reserved', reserved, run: handler.run };
  }

  /** Runs the handler (the nonce and approval are already spent), then records how it ended. */
  private async perform(attempt: Attempt, reserved: Reserved, run: ActionHandler): Promise<ExecuteOutcome> {
    try {
      let ending: HandlerEnding;
      try {
        ending = serialised(await run(attempt.request.payload));
      } catch (err) {
        ending = failure(attempt.request, err);
      }
      try {
        return await this.commits.submit(
          () => this.finish(attempt, reserved, ending),
          (err) => this.closeInterrupted(this.store.get(reserved.execId)!, `${INTERRUPTED} (${String(err)})`),
        );
      } catch (err) {
        // The handler did run: saying "nothing was executed" here would be a lie.
        if (isStorageFull(err)) throw new StorageFull(RAN_UNRECORDED);
        throw err;
      }
    } finally {
      this.release(attempt.request.nonce, reserved.ended);
    }
  }

  private release(nonce: string, ended: Deferred): void {
    if (this.running.get(nonce) === ended) this.running.delete(nonce);
    ended.settle();
  }

  private finish(attempt: Attempt, reserved: Reserved, ending: HandlerEnding): ExecuteOutcome {
    const { request, requestHash } = attempt;
    const fields = (event: 'executed' | 'failed' | 'refused') => ({
      ...attemptFields(request, requestHash, event, attempt.definitionHash),
      ...executionFields(reserved.execId, reserved.approval, request.artifact, reserved.grant),
    });
    let outcome: ExecuteOutcome;
    if (ending.ok) {
      const legacy = sha256Hex(`${reserved.execId}:${ending.legacyJson}`);
      const receipt = this.ledger.append({ ...fields('executed'), result: ending.resultCanonical });
      this.store.end(reserved.execId, {
        status: 'executed',
        result: ending.resultCanonical,
        result_legacy_json: ending.legacyJson,
        receipt_seq: receipt.seq,
      });
      const answer = {
        id: reserved.execId,
        action: request.action,
        resultCanonical: ending.resultCanonical,
        approved: true,
        receipt: legacy,
      };
      outcome = { kind: 'executed', answer, receiptSeq: receipt.seq };
    } else {
      // A payload the handler refused ran nothing; anything else may have had effects.
      const event = ending.code === 'handler_input' ? 'refused' : 'failed';
      const status = refusalStatus(ending.code);
      const receipt = this.ledger.append({ ...fields(event), reason: ending.detail, status });
      this.store.end(reserved.execId, { status: 'failed', error: ending.detail, error_status: status, receipt_seq: receipt.seq });
      outcome = { kind: 'refused', status, code: ending.code, detail: ending.detail, receiptSeq: receipt.seq };
    }
    request.within?.(outcome);
    return outcome;
  }

  /** Ends a `started` execution whose handler outcome was never recorded, with a receipt. */
  private closeInterrupted(row: ExecutionRow, reason = INTERRUPTED): ExecuteOutcome {
    const status = refusalStatus('handler_failed');
    const receipt = this.ledger.append({
      event: 'failed',
      action: row.action,
      nonce: row.nonce,
      request_hash: row.request_hash,
      exec_id: row.id,
      approval_id: row.approval_id,
      action_def_hash: row.action_def_hash,
      grant_id: row.grant_id,
      grant_use: row.grant_use,
      agent: row.agent,
      reason,
      status,
    });
    this.store.end(row.id, { status: 'failed', error: reason, error_status: status, receipt_seq: receipt.seq });
    return { kind: 'refused', status, code: 'handler_failed', detail: reason, receiptSeq: receipt.seq };
  }

  private replay(attempt: Attempt, previous: ExecutionRow): ExecuteOutcome {
    const receipt = this.ledger.append({
      ...attemptFields(attempt.request, attempt.requestHash, 'replayed', attempt.definitionHash),
      exec_id: previous.id,
      replay_of: previous.receipt_seq,
    });
    if (previous.status === 'executed' && previous.purged_at !== null) {
      const detail = `Execution ${previous.id} ran, but its result was purged on ${previous.purged_at.slice(0, 10)} by retention; it cannot be returned again`;
      return { kind: 'refused', status: refusalStatus('expired'), code: 'expired', detail, receiptSeq: receipt.seq };
    }
    if (previous.status !== 'executed' || previous.result === null || previous.result_legacy_json === null) {
      const detail = previous.error ?? `Action '${previous.action}' failed`;
      const code = previous.error_status === refusalStatus('handler_input') ? 'handler_input' : 'handler_failed';
      return { kind: 'refused', status: refusalStatus(code), code, detail, receiptSeq: receipt.seq };
    }
    const answer = {
      id: previous.id,
      action: previous.action,
      resultCanonical: previous.result,
      approved: previous.approved === 1,
      receipt: sha256Hex(`${previous.id}:${previous.result_legacy_json}`),
    };
    return { kind: 'replayed', answer, receiptSeq: receipt.seq };
  }

  /** A decision that threw: nothing was reserved (its savepoint rolled back); witness it. */
  private internalError(attempt: Attempt, err: unknown): ExecuteOutcome {
    const detail = `Internal error while executing '${attempt.request.action}'`;
    return this.refuse(attempt, 'handler_failed', detail, `${detail}: ${String(err)}`, 'failed');
  }

  private refuse(
    attempt: Attempt,
    code: RefusalCode,
    detail: string,
    reason = detail,
    event: 'refused' | 'failed' = 'refused',
  ): ExecuteOutcome {
    const status = refusalStatus(code);
    const receipt = this.ledger.append({
      ...attemptFields(attempt.request, attempt.requestHash, event, attempt.definitionHash),
      reason,
      status,
    });
    return { kind: 'refused', status, code, detail, receiptSeq: receipt.seq };
  }
}

/** Serialised here so that a result that is not JSON is this execution's failure. */
function serialised(result: JsonValue): HandlerEnding {
  return { ok: true, resultCanonical: canonicalJson(result), legacyJson: pythonJsonDumpsSorted(result) };
}

function failure(request: ExecuteRequest, err: unknown): HandlerEnding {
  if (err instanceof HandlerInputError) return { ok: false, code: 'handler_input', detail: err.message };
  const message = err instanceof Error ? err.message : String(err);
  return { ok: false, code: 'handler_failed', detail: `Action '${request.action}' failed: ${message}` };
}

function endingOf(request: ExecuteRequest, run: () => JsonValue): HandlerEnding {
  try {
    return serialised(run());
  } catch (err) {
    return failure(request, err);
  }
}
