/**
 * Executions and the approvals they spent, as the engine reads and ends them, behind one
 * asynchronous interface. Spending (a nonce's reservation, an approval) is the witnessed
 * write's own (LedgerTransaction.reserveNonce, spendApproval), so it commits with its receipt.
 */
import type { VerifiedApproval } from '../approval/validate-approval.ts';
import type { ApprovalUse, Ending, ExecutionRow } from '../engine/execution-store.ts';
import type { ApprovalDto } from '../../../shared/console-dto.ts';
import type { JoinsWitness } from './joins-witness.ts';

export type { ApprovalUse, Ending, ExecutionRow };

/** An execution, and whether this instance reserved it (always, on SQLite's one instance). */
export interface ExecutionRecord extends ExecutionRow {
  here: boolean;
}

export interface ExecutionRecords extends JoinsWitness<ExecutionRecords> {
  findByNonce(nonce: string): Promise<ExecutionRecord | undefined>;
  get(id: string): Promise<ExecutionRecord | undefined>;
  /**
   * Executions this instance reserved whose ending was never recorded, oldest first: its
   * handlers were running when it stopped. Another instance's are not listed (they may be
   * running now).
   */
  listStarted(): Promise<ExecutionRow[]>;
  /**
   * Executions another instance reserved under receipt key `keyId` and never ended, oldest
   * first, for an operator who retires that instance (Engine.closeInterruptedOf). Refused (a
   * Refusal): on SQLite, whose one instance closes every one when it starts (EngineSpecific);
   * for this instance's own key; for a key the ledger never registered; and while an instance
   * signing with `keyId` is connected to the database, as it may be running them.
   */
  listOrphans(keyId: string): Promise<ExecutionRow[]>;
  /** When its ending was witnessed (its receipt's time); null while it runs, or when there is no such execution. */
  endedAt(id: string): Promise<string | null>;
  /** The earlier use of this approval, by its id or by its signed message under another id. */
  approvalUsedBy(approval: Pick<VerifiedApproval, 'approvalId' | 'messageHash'>): Promise<ApprovalUse | null>;
  /** Records how a started execution ended; rejects if it is not started (ended already). */
  end(id: string, ending: Ending): Promise<void>;
  /**
   * The stored results of an execution that succeeded (canonical, and the protocol §3 text,
   * each null once retention purged it); null for any other execution or none.
   */
  executedResult(id: string): Promise<ExecutedResult | null>;
  /** Executions that succeeded, on every instance. */
  countExecuted(): Promise<number>;
  /** Approvals spent, on every instance. */
  countApprovals(): Promise<number>;
  /** Spent approvals, newest first: `limit` of them before `beforeSeq` (their order of arrival, `seq`). */
  listApprovals(limit: number, beforeSeq?: number): Promise<ApprovalDto[]>;
}

export interface ExecutedResult {
  result: string | null;
  legacyJson: string | null;
}
