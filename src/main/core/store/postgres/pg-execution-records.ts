import type { VerifiedApproval } from '../../approval/validate-approval.ts';
import type { ApprovalDto } from '../../../../shared/console-dto.ts';
import type { ApprovalUse, Ending, ExecutedResult, ExecutionRecord, ExecutionRecords, ExecutionRow } from '../execution-records.ts';
import type { LedgerTransaction } from '../ledger-store.ts';
import { prepared } from './pg-prepared.ts';
import { sessionOf, type PgSession } from './pg-session.ts';
import { EARLIER_USE } from './pg-transaction.ts';
import { Refusal } from '../../errors.ts';
import { instanceConnected } from './pg-instance-presence.ts';
import { registrationSeq } from './pg-receipt-keys.ts';

const COLUMNS = `id, nonce, request_hash, action, status, result, result_legacy_json, error, error_status, approved,
  approval_id, created_at, receipt_seq, action_def_hash, grant_id, grant_use, agent, purged_at, reserved_by`;

type PgExecutionRow = Omit<ExecutionRow, 'receipt_seq'> & { receipt_seq: string | null; reserved_by: string | null };

const BY = {
  nonce: prepared('execution_by_nonce', `SELECT ${COLUMNS} FROM executions WHERE nonce = $1`),
  id: prepared('execution_by_id', `SELECT ${COLUMNS} FROM executions WHERE id = $1`),
};

// Conditional on 'started': of two endings (an instance's and a late one), one moves the row.
const END = prepared(
  'end_execution',
  `UPDATE executions SET status = $2, result = $3, result_legacy_json = $4, error = $5, error_status = $6,
  receipt_seq = $7 WHERE id = $1 AND status = 'started'`,
);

// An approval as the console lists it (ApprovalDto), seq as the driver returns a bigint.
const APPROVAL = `SELECT seq, approval_id AS "approvalId", tenant_id AS "tenantId", action_hash AS "actionHash",
  issued_at AS "issuedAt", expires_at AS "expiresAt", approver, approver_key_id AS "approverKeyId",
  verified_at AS "verifiedAt", action, used_by_exec_id AS "usedByExecId" FROM approvals`;

/**
 * Executions and the approvals they spent, on PostgreSQL. `keyId` is this instance's receipt
 * key, which its ledger store writes into each reservation (`reserved_by`): an execution is
 * `here` when this instance reserved it, and only those are listed as started.
 */
export class PostgresExecutionRecords implements ExecutionRecords {
  constructor(
    private readonly db: PgSession,
    private readonly keyId: string,
  ) {}

  within(tx: LedgerTransaction): ExecutionRecords {
    return new PostgresExecutionRecords(sessionOf(tx), this.keyId);
  }

  private record({ reserved_by, receipt_seq, ...row }: PgExecutionRow): ExecutionRecord {
    return { ...row, receipt_seq: receipt_seq === null ? null : Number(receipt_seq), here: reserved_by === this.keyId };
  }

  private async one(where: keyof typeof BY, value: string): Promise<ExecutionRecord | undefined> {
    const { rows } = await this.db.query<PgExecutionRow>(BY[where], [value]);
    return rows[0] && this.record(rows[0]);
  }

  findByNonce(nonce: string): Promise<ExecutionRecord | undefined> {
    return this.one('nonce', nonce);
  }

  get(id: string): Promise<ExecutionRecord | undefined> {
    return this.one('id', id);
  }

  listStarted(): Promise<ExecutionRow[]> {
    return this.startedBy(this.keyId);
  }

  async listOrphans(keyId: string): Promise<ExecutionRow[]> {
    if (keyId === this.keyId) {
      throw new Refusal('bad_request', `Receipt key ${keyId} is this instance's own: it closes its own executions when it starts`);
    }
    if (await instanceConnected(this.db, keyId)) {
      throw new Refusal(
        'conflict',
        `An OpenExec instance with receipt key ${keyId} is connected to the database now: stop it for good before retiring its key`,
      );
    }
    const rows = await this.startedBy(keyId);
    // A key with executions left running is known (an instance may reserve before its first
    // receipt registers its key); one with neither is most likely mistyped.
    if (rows.length === 0 && (await registrationSeq(this.db, keyId)) === null) {
      throw new Refusal('not_found', `Receipt key ${keyId} is not registered in this ledger and has no execution left running`);
    }
    return rows;
  }

  private async startedBy(keyId: string): Promise<ExecutionRow[]> {
    const { rows } = await this.db.query<PgExecutionRow>(
      `SELECT ${COLUMNS} FROM executions WHERE status = 'started' AND reserved_by = $1 ORDER BY created_at`,
      [keyId],
    );
    return rows.map((r) => {
      const { here: _, ...row } = this.record(r);
      return row;
    });
  }

  async endedAt(id: string): Promise<string | null> {
    const { rows } = await this.db.query<{ time: string }>(
      'SELECT r.time FROM executions e JOIN receipts r ON r.seq = e.receipt_seq WHERE e.id = $1',
      [id],
    );
    return rows[0]?.time ?? null;
  }

  async approvalUsedBy(approval: Pick<VerifiedApproval, 'approvalId' | 'messageHash'>): Promise<ApprovalUse | null> {
    const { rows } = await this.db.query<{ approval_id: string; used_by_exec_id: string }>(EARLIER_USE, [
      approval.approvalId,
      approval.messageHash,
    ]);
    return rows[0] === undefined ? null : { approvalId: rows[0].approval_id, execId: rows[0].used_by_exec_id };
  }

  async end(id: string, ending: Ending): Promise<void> {
    const e = { result: null, result_legacy_json: null, error: null, error_status: null, ...ending };
    const { rowCount } = await this.db.query(END, [id, e.status, e.result, e.result_legacy_json, e.error, e.error_status, e.receipt_seq]);
    if (rowCount !== 1) throw new Error(`execution ${id} is not running`);
  }

  async executedResult(id: string): Promise<ExecutedResult | null> {
    const { rows } = await this.db.query<{ result: string | null; result_legacy_json: string | null }>(
      "SELECT result, result_legacy_json FROM executions WHERE id = $1 AND status = 'executed'",
      [id],
    );
    return rows[0] === undefined ? null : { result: rows[0].result, legacyJson: rows[0].result_legacy_json };
  }

  async countExecuted(): Promise<number> {
    return this.count("SELECT count(*) AS n FROM executions WHERE status = 'executed'");
  }

  async countApprovals(): Promise<number> {
    return this.count('SELECT count(*) AS n FROM approvals');
  }

  private async count(sql: string): Promise<number> {
    const { rows } = await this.db.query<{ n: string }>(sql);
    return Number(rows[0]!.n);
  }

  async listApprovals(limit: number, beforeSeq?: number): Promise<ApprovalDto[]> {
    const { rows } = await this.db.query<Omit<ApprovalDto, 'seq'> & { seq: string }>(
      beforeSeq === undefined ? `${APPROVAL} ORDER BY seq DESC LIMIT $1` : `${APPROVAL} WHERE seq < $2 ORDER BY seq DESC LIMIT $1`,
      beforeSeq === undefined ? [limit] : [limit, beforeSeq],
    );
    return rows.map((r) => ({ ...r, seq: Number(r.seq) }));
  }
}
