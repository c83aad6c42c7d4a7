import type { ReceiptDraft } from '../ledger/receipt-body.ts';
import type { ExecutionRecords } from '../store/execution-records.ts';
import type { LedgerTransaction } from '../store/ledger-store.ts';
import { HandlerInputError } from '../actions/action-registry.ts';
import type { ApprovalCheck, VerifiedApproval } from '../approval/validate-approval.ts';
import { canonicalJson, pythonJsonDumpsSorted } from '../json/canonical.ts';
import type { JsonValue } from '../json/json-value.ts';
import { sha256Hex } from '../json/request-hash.ts';
import type { RefusalCode } from '../errors.ts';
import { refusalStatus } from '../../../shared/error-codes.ts';
import type { GrantUse } from '../grants/grant-authority.ts';
import type { Ending, ExecutionRow } from './execution-store.ts';
import { attemptFields, executionFields } from './attempt-receipts.ts';
import type { Deferred } from './deferred.ts';
import type { ExecuteOutcome, ExecuteRequest } from './execute-request.ts';

/** One request on its way through the engine: what was checked before the transaction. */
export interface Attempt {
  request: ExecuteRequest;
  requestHash: string;
  approval: ApprovalCheck | null;
  /** The definition hash of the declared action in force (receipts' `action_def_hash`). */
  definitionHash: string | null;
}

/** One decision of an attempt (a decision is taken again after waiting for its nonce). */
export interface Trial {
  /** Set when this decision reserved the execution (possibly in a write that then rolled back). */
  ended?: Deferred;
  /** The error the decision itself threw (witnessed as an internal error). */
  failed?: unknown;
  /**
   * Set once its witnessed write has rolled back. A decision that awaited something outside
   * its turn on SQLite is given up while its code is still waiting; when it resumes, it stops
   * at the next check instead of writing or reserving outside any transaction.
   */
  abandoned: boolean;
}

/** An execution whose nonce (and approval, or grant use) is spent; its handler may run. */
export interface Reserved {
  execId: string;
  approval: VerifiedApproval | null;
  grant: GrantUse | null;
  /** Settles when this execution's ending has committed; others with its nonce wait on it. */
  ended: Deferred;
}

export type HandlerEnding =
  { ok: true; resultCanonical: string; legacyJson: string } | { ok: false; code: 'handler_input' | 'handler_failed'; detail: string };

export const INTERRUPTED =
  'Interrupted: OpenExec stopped while this execution was running; its outcome is unknown and it will not run again';

/** What a piece of a witnessed write writes with: its receipts, and the executions within it. */
export interface Writes {
  tx: LedgerTransaction;
  records: ExecutionRecords;
}

/**
 * How an attempt ends, each way with its receipt, inside the caller's witnessed write: executed
 * or failed (after the handler, whoever authorised it: an approval or a grant), refused,
 * replayed, or interrupted (a `started` execution whose ending was never recorded).
 */
export async function finish(w: Writes, attempt: Attempt, reserved: Reserved, ending: HandlerEnding): Promise<ExecuteOutcome> {
  const { request, requestHash } = attempt;
  const fields = (event: 'executed' | 'failed' | 'refused') => ({
    ...attemptFields(request, requestHash, event, attempt.definitionHash),
    ...executionFields(reserved.execId, reserved.approval, request.artifact, reserved.grant),
  });
  let outcome: ExecuteOutcome;
  if (ending.ok) {
    const legacy = sha256Hex(`${reserved.execId}:${ending.legacyJson}`);
    const receipt = await w.tx.append({ ...fields('executed'), result: ending.resultCanonical });
    await w.records.end(reserved.execId, {
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
    const receipt = await w.tx.append({ ...fields(event), reason: ending.detail, status });
    await w.records.end(reserved.execId, { status: 'failed', error: ending.detail, error_status: status, receipt_seq: receipt.seq });
    outcome = { kind: 'refused', status, code: ending.code, detail: ending.detail, receiptSeq: receipt.seq };
  }
  await request.within?.(outcome, w.tx);
  return outcome;
}

/**
 * The receipt that closes a `started` execution whose handler outcome was never recorded,
 * naming the proposal whose approval claimed it when the caller knows it (other instances on
 * the ledger then publish that proposal's ending, proposal-follower.ts).
 */
export function interruptedDraft(row: ExecutionRow, reason: string, proposalId: string | null = null): ReceiptDraft {
  return {
    event: 'failed',
    action: row.action,
    nonce: row.nonce,
    request_hash: row.request_hash,
    exec_id: row.id,
    ...(proposalId === null ? {} : { proposal_id: proposalId }),
    approval_id: row.approval_id,
    action_def_hash: row.action_def_hash,
    grant_id: row.grant_id,
    grant_use: row.grant_use,
    agent: row.agent,
    reason,
    status: refusalStatus('handler_failed'),
  };
}

/** The ending that closing records, witnessed by receipt `seq`. */
export function interruptedEnding(reason: string, seq: number): Ending {
  return { status: 'failed', error: reason, error_status: refusalStatus('handler_failed'), receipt_seq: seq };
}

/** Ends a `started` execution whose handler outcome was never recorded, with a receipt. */
export async function closeInterrupted(
  w: Writes,
  row: ExecutionRow,
  reason = INTERRUPTED,
  proposalId: string | null = null,
): Promise<ExecuteOutcome> {
  const receipt = await w.tx.append(interruptedDraft(row, reason, proposalId));
  await w.records.end(row.id, interruptedEnding(reason, receipt.seq));
  return { kind: 'refused', status: refusalStatus('handler_failed'), code: 'handler_failed', detail: reason, receiptSeq: receipt.seq };
}

/**
 * A reserved execution another instance closed while its handler ran here (an operator retired
 * this instance's receipt key, engine/close-orphans.ts): answered as the ledger records its
 * ending, by that receipt; how it ended here is not recorded, as the ledger has its ending.
 */
export function endedElsewhere(row: ExecutionRow): ExecuteOutcome {
  const detail = `${row.error ?? `Execution ${row.id} was closed by another instance`} (it ended here afterwards, unrecorded)`;
  return { kind: 'refused', status: refusalStatus('handler_failed'), code: 'handler_failed', detail, receiptSeq: row.receipt_seq! };
}

export async function replay(w: Writes, attempt: Attempt, previous: ExecutionRow): Promise<ExecuteOutcome> {
  const receipt = await w.tx.append({
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
export function internalError(tx: LedgerTransaction, attempt: Attempt, err: unknown): Promise<ExecuteOutcome> {
  const detail = `Internal error while executing '${attempt.request.action}'`;
  return refuse(tx, attempt, 'handler_failed', detail, `${detail}: ${String(err)}`, 'failed');
}

export async function refuse(
  tx: LedgerTransaction,
  attempt: Attempt,
  code: RefusalCode,
  detail: string,
  reason = detail,
  event: 'refused' | 'failed' = 'refused',
): Promise<ExecuteOutcome> {
  const status = refusalStatus(code);
  const receipt = await tx.append({
    ...attemptFields(attempt.request, attempt.requestHash, event, attempt.definitionHash),
    reason,
    status,
  });
  return { kind: 'refused', status, code, detail, receiptSeq: receipt.seq };
}

/** Serialised here so that a result that is not JSON is this execution's failure. */
export function serialised(result: JsonValue): HandlerEnding {
  return { ok: true, resultCanonical: canonicalJson(result), legacyJson: pythonJsonDumpsSorted(result) };
}

export function failure(request: ExecuteRequest, err: unknown): HandlerEnding {
  if (err instanceof HandlerInputError) return { ok: false, code: 'handler_input', detail: err.message };
  const message = err instanceof Error ? err.message : String(err);
  return { ok: false, code: 'handler_failed', detail: `Action '${request.action}' failed: ${message}` };
}

export function endingOf(request: ExecuteRequest, run: () => JsonValue): HandlerEnding {
  try {
    return serialised(run());
  } catch (err) {
    return failure(request, err);
  }
}
