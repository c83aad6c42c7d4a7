import type { VerifiedApproval } from '../../approval/validate-approval.ts';
import type { Ending, ExecutionStore } from '../../engine/execution-store.ts';
import type { ApprovalDto } from '../../../../shared/console-dto.ts';
import type { LedgerReader } from '../../ledger/ledger-reader.ts';
import type { ApprovalUse, ExecutedResult, ExecutionRecord, ExecutionRecords, ExecutionRow } from '../execution-records.ts';
import type { LedgerTransaction } from '../ledger-store.ts';
import { assertOpenPiece } from './sqlite-ledger-store.ts';
import { EngineSpecific, SQLITE_ORPHANS_INSTEAD } from '../engine-specific.ts';

/**
 * The executions and approvals on SQLite, over the ExecutionStore the core runs on. One
 * instance writes a SQLite ledger, so every execution is this instance's. Within a witnessed
 * write each call first checks that the piece is still open (assertOpenPiece), so a piece
 * that ran past its end cannot write outside its transaction on the shared connection.
 */
export class SqliteExecutionRecords implements ExecutionRecords {
  constructor(
    private readonly store: ExecutionStore,
    /** The receipts on the same connection, for the time an ending was witnessed. */
    private readonly receipts: Pick<LedgerReader, 'withNeighbours'>,
    private readonly tx: LedgerTransaction | null = null,
  ) {}

  within(tx: LedgerTransaction): ExecutionRecords {
    assertOpenPiece(tx);
    return new SqliteExecutionRecords(this.store, this.receipts, tx);
  }

  private check(): void {
    if (this.tx !== null) assertOpenPiece(this.tx);
  }

  async findByNonce(nonce: string): Promise<ExecutionRecord | undefined> {
    this.check();
    const row = this.store.findByNonce(nonce);
    return row && { ...row, here: true };
  }

  async get(id: string): Promise<ExecutionRecord | undefined> {
    this.check();
    const row = this.store.get(id);
    return row && { ...row, here: true };
  }

  async listStarted(): Promise<ExecutionRow[]> {
    this.check();
    return this.store.listStarted();
  }

  listOrphans(): Promise<ExecutionRow[]> {
    return Promise.reject(new EngineSpecific("closing a retired instance's executions", 'PostgreSQL', SQLITE_ORPHANS_INSTEAD));
  }

  async endedAt(id: string): Promise<string | null> {
    this.check();
    const seq = this.store.get(id)?.receipt_seq ?? null;
    return seq === null ? null : (this.receipts.withNeighbours(seq)?.receipt.time ?? null);
  }

  async approvalUsedBy(approval: Pick<VerifiedApproval, 'approvalId' | 'messageHash'>): Promise<ApprovalUse | null> {
    this.check();
    return this.store.approvalUsedBy(approval);
  }

  async end(id: string, ending: Ending): Promise<void> {
    this.check();
    this.store.end(id, ending);
  }

  async executedResult(id: string): Promise<ExecutedResult | null> {
    this.check();
    return this.store.executedResult(id);
  }

  async countExecuted(): Promise<number> {
    this.check();
    return this.store.countExecuted();
  }

  async countApprovals(): Promise<number> {
    this.check();
    return this.store.countApprovals();
  }

  async listApprovals(limit: number, beforeSeq?: number): Promise<ApprovalDto[]> {
    this.check();
    return this.store.listApprovals(limit, beforeSeq);
  }
}
