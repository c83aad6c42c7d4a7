import type { SqliteDatabase } from '../store/database.ts';
import type { VerifiedApproval } from '../approval/validate-approval.ts';

export interface ExecutionRow {
  id: string;
  nonce: string;
  request_hash: string;
  action: string;
  status: 'executed' | 'failed';
  result: string | null;
  result_legacy_json: string | null;
  error: string | null;
  approved: number;
  approval_id: string | null;
  created_at: string;
  receipt_seq: number;
}

/** The engine's SQL, prepared once. Every method must run inside the engine's transaction. */
export class ExecutionStore {
  private readonly byNonce;
  private readonly insertExec;
  private readonly approvalUse;
  private readonly insertApproval;
  private readonly consumeApproval;

  constructor(db: SqliteDatabase) {
    this.byNonce = db.prepare('SELECT * FROM executions WHERE nonce = ?');
    this.insertExec = db.prepare(
      `INSERT INTO executions (id, nonce, request_hash, action, status, result, result_legacy_json, error,
         approved, approval_id, created_at, receipt_seq)
       VALUES (@id, @nonce, @request_hash, @action, @status, @result, @result_legacy_json, @error,
         @approved, @approval_id, @created_at, @receipt_seq)`,
    );
    this.approvalUse = db.prepare('SELECT used_by_exec_id FROM approvals WHERE approval_id = ?').pluck();
    this.insertApproval = db.prepare(
      `INSERT INTO approvals (approval_id, tenant_id, action_hash, issued_at, expires_at, approver,
         approver_key_id, verified_at, action, used_by_exec_id)
       VALUES (@approvalId, @tenantId, @actionHash, @issuedAt, @expiresAt, @approver, @approverKeyId,
         @verifiedAt, @action, NULL)
       ON CONFLICT (approval_id) DO NOTHING`,
    );
    this.consumeApproval = db.prepare(
      'UPDATE approvals SET used_by_exec_id = ? WHERE approval_id = ? AND used_by_exec_id IS NULL',
    );
  }

  findByNonce(nonce: string): ExecutionRow | undefined {
    return this.byNonce.get(nonce) as ExecutionRow | undefined;
  }

  insert(row: ExecutionRow): void {
    this.insertExec.run(row);
  }

  /** The execution that consumed this approval id, if any. */
  approvalUsedBy(approvalId: string): string | null {
    const used = this.approvalUse.get(approvalId) as string | null | undefined;
    return used ?? null;
  }

  recordVerifiedApproval(approval: VerifiedApproval, action: string, verifiedAt: string): void {
    this.insertApproval.run({ ...approval, action, verifiedAt });
  }

  consume(approvalId: string, execId: string): void {
    const { changes } = this.consumeApproval.run(execId, approvalId);
    if (changes !== 1) throw new Error(`approval ${approvalId} could not be consumed`);
  }
}
