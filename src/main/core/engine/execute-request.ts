import type { ApprovalArtifact } from '../approval/approval-artifact.ts';
import type { ApprovalPolicy } from '../approval/validate-approval.ts';
import type { JsonObject } from '../json/json-value.ts';
import type { ExecMode } from '../../../shared/console-dto.ts';
import type { RefusalCode } from '../errors.ts';
import type { GrantUse } from '../grants/grant-authority.ts';
import type { LedgerTransaction } from '../store/ledger-store.ts';

/**
 * What the engine's callbacks may return. Each runs inside the decision's (or the ending's)
 * witnessed write and is given its transaction, so what it writes (through a record store's
 * `within(tx)`) commits with the receipt or not at all. On SQLite it must settle within the
 * write's turn (LedgerStore.witness).
 */
export type MaybePromise<T> = T | Promise<T>;

export interface ExecuteRequest {
  action: string;
  payload: JsonObject;
  nonce: string;
  artifact: ApprovalArtifact | null;
  /** Set when an operator's decision on a proposal drives this execution. */
  proposalId?: string | null;
  context?: string | null;
  /**
   * The agent's name as the way in verified it (its token; null or absent when none was
   * presented). A grant whose scope names an agent covers only requests carrying that exact name.
   */
  agent?: string | null;
  /**
   * The action definition the operator approved (the proposal's `action_def_hash`; null for a
   * built-in). When set, a different definition in force now refuses the execution (409).
   */
  definitionHash?: string | null;
  /** Checked inside the transaction before anything else: a reason to refuse (409), or null. */
  precondition?: (tx: LedgerTransaction) => MaybePromise<string | null>;
  /** Runs in the transaction that reserves the execution, before the handler is called. */
  claim?: (execId: string, approvalId: string | null, tx: LedgerTransaction) => MaybePromise<void>;
  /** Runs in the transaction that writes the final receipt, with the final outcome. */
  within?: (outcome: ExecuteOutcome, tx: LedgerTransaction) => MaybePromise<void>;
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
  /** `status` is the table's for `code` (src/shared/error-codes.ts). */
  | { kind: 'refused'; status: number; code: RefusalCode; detail: string; receiptSeq: number };

export interface EngineOptions {
  mode: ExecMode;
  approvalPolicy: ApprovalPolicy;
  /** Proposals and executions share one nonce space: the proposal holding a nonce, if any. */
  nonceHeldByProposal?: (nonce: string, tx: LedgerTransaction) => MaybePromise<string | null>;
  /**
   * Operator grants: a request that needs approval and brings no artifact executes when a live
   * grant covers it, spending one use in the decision's transaction.
   */
  grants?: GrantSpender;
  /** The distinct operator keys whose approvals of a proposal are recorded (quorum actions). */
  approvalKeysOf?: (proposalId: string, tx: LedgerTransaction) => MaybePromise<readonly string[]>;
  /** An MCP tool action's pinned definition hash, read within the decision's transaction; null when not pinned. */
  pinnedHash?: (action: string, tx: LedgerTransaction) => MaybePromise<string | null>;
  /** Threads that verify approval signatures beside the event loop; default: every other core, at most 4 (0: on the loop). */
  verifyThreads?: number;
}

/** Spends one use of a live grant that covers the request, in the decision's transaction (GrantAuthority). */
export interface GrantSpender {
  spend(request: ExecuteRequest, tx: LedgerTransaction): MaybePromise<GrantUse | { miss: string }>;
}
