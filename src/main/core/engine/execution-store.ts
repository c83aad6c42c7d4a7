import type { SqliteDatabase } from '../store/database.ts';
import type { VerifiedApproval } from '../approval/validate-approval.ts';
import type { ApprovalDto } from '../../../shared/console-dto.ts';

export interface ExecutionRow {
  id: string;
  nonce: string;
  request_hash: string;
  action: string;
  status: 'started' | 'executed' | 'failed';
  result: string | null;
  result_legacy_json: string | null;
  error: string | null;
  error_status: number | null;
  approved: number;
  approval_id: string | null;
  created_at: string;
  receipt_seq: number | null;
  /** The declared action's definition hash it runs under; null for a built-in. */
  action_def_hash: string | null;
  /** The grant and its use that authorised it, when a grant did. */
  grant_id: string | null;
  grant_use: number | null;
  /** The verified agent that made the request; null when no token was presented. */
  agent: string | null;
  /** When retention purged its result (result and result_legacy_json are then null). */
  purged_at: string | null;
}

/** Which stored approval a new one collides with, and the execution that spent it. */
export interface ApprovalUse {
  approvalId: string;
  execId: string;
}

export type Reservation = Pick<
  ExecutionRow,
  'id' | 'nonce' | 'request_hash' | 'action' | 'approval_id' | 'created_at' | 'agent' | 'action_def_hash' | 'grant_id' | 'grant_use'
>;

interface ApprovalRow {
  seq: number;
  approval_id: string;
  tenant_id: string;
  action_hash: string;
  issued_at: string;
  expires_at: string;
  approver: ApprovalDto['approver'];
  approver_key_id: string;
  verified_at: string;
  action: string | null;
  used_by_exec_id: string | null;
}

export type Ending =
  | { status: 'executed'; result: string; result_legacy_json: string; receipt_seq: number }
  | { status: 'failed'; error: string; error_status: number; receipt_seq: number };

/** What the rest of the core may read of the executions; only the engine writes them. */
export type ExecutionReads = Pick<
  ExecutionStore,
  'get' | 'findByNonce' | 'executedResult' | 'countExecuted' | 'countApprovals' | 'listApprovals'
>;

/**
 * The `executions` and `approvals` tables, prepared once. Every write must run inside the
 * engine's transaction; the reads at the end serve the console, bundles and protocol §3.
 */
export class ExecutionStore {
  private readonly byNonce;
  private readonly byId;
  private readonly insertStarted;
  private readonly endRow;
  private readonly started;
  private readonly approvalUse;
  private readonly spendApprovalRow;
  private readonly executedRow;
  private readonly purgeableCount;
  private readonly purgeRows;
  private readonly executedCount;
  private readonly approvalCount;
  private readonly newestApprovals;
  private readonly approvalsBefore;

  constructor(db: SqliteDatabase) {
    this.byNonce = db.prepare('SELECT * FROM executions WHERE nonce = ?');
    this.byId = db.prepare('SELECT * FROM executions WHERE id = ?');
    this.insertStarted = db.prepare(
      `INSERT INTO executions (id, nonce, request_hash, action, status, approved, approval_id, created_at, agent,
         action_def_hash, grant_id, grant_use)
       VALUES (@id, @nonce, @request_hash, @action, 'started', 1, @approval_id, @created_at, @agent,
         @action_def_hash, @grant_id, @grant_use)`,
    );
    this.endRow = db.prepare(
      `UPDATE executions SET status = @status, result = @result, result_legacy_json = @result_legacy_json,
         error = @error, error_status = @error_status, receipt_seq = @receipt_seq
       WHERE id = @id AND status = 'started'`,
    );
    this.started = db.prepare("SELECT * FROM executions WHERE status = 'started' ORDER BY created_at");
    this.approvalUse = db.prepare(
      `SELECT approval_id AS approvalId, used_by_exec_id AS execId FROM approvals
       WHERE (approval_id = @approvalId OR message_hash = @messageHash) AND used_by_exec_id IS NOT NULL LIMIT 1`,
    );
    // Verified and spent in one statement; a row left unspent by an earlier refusal is spent now.
    this.spendApprovalRow = db.prepare(
      `INSERT INTO approvals (approval_id, tenant_id, action_hash, issued_at, expires_at, approver,
         approver_key_id, verified_at, action, used_by_exec_id, message_hash)
       VALUES (@approvalId, @tenantId, @actionHash, @issuedAt, @expiresAt, @approver, @approverKeyId,
         @verifiedAt, @action, @execId, @messageHash)
       ON CONFLICT (approval_id) DO UPDATE SET used_by_exec_id = excluded.used_by_exec_id,
         message_hash = excluded.message_hash
         WHERE approvals.used_by_exec_id IS NULL`,
    );
    this.purgeableCount = db
      .prepare("SELECT count(*) FROM executions WHERE purged_at IS NULL AND status != 'started' AND created_at < ?")
      .pluck();
    this.purgeRows = db.prepare(
      `UPDATE executions SET result = NULL, result_legacy_json = NULL, purged_at = @at
       WHERE purged_at IS NULL AND status != 'started' AND created_at < @cutoff`,
    );
    this.executedRow = db.prepare("SELECT result, result_legacy_json FROM executions WHERE id = ? AND status = 'executed'");
    this.executedCount = db.prepare("SELECT count(*) FROM executions WHERE status = 'executed'").pluck();
    this.approvalCount = db.prepare('SELECT count(*) FROM approvals').pluck();
    this.newestApprovals = db.prepare('SELECT rowid AS seq, * FROM approvals ORDER BY rowid DESC LIMIT ?');
    this.approvalsBefore = db.prepare('SELECT rowid AS seq, * FROM approvals WHERE rowid < ? ORDER BY rowid DESC LIMIT ?');
  }

  findByNonce(nonce: string): ExecutionRow | undefined {
    return this.byNonce.get(nonce) as ExecutionRow | undefined;
  }

  get(id: string): ExecutionRow | undefined {
    return this.byId.get(id) as ExecutionRow | undefined;
  }

  /**
   * Spends the nonce (and the approval, by the caller) before the handler may run, recording
   * what a restart needs to close it with a receipt: the definition it runs under and the grant
   * use that authorised it.
   */
  reserve(row: Reservation): void {
    this.insertStarted.run(row);
  }

  end(id: string, ending: Ending): void {
    const { changes } = this.endRow.run({ result: null, result_legacy_json: null, error: null, error_status: null, ...ending, id });
    if (changes !== 1) throw new Error(`execution ${id} is not running`);
  }

  /** Executions whose handler was called but whose end was never recorded. */
  listStarted(): ExecutionRow[] {
    return this.started.all() as ExecutionRow[];
  }

  /**
   * The earlier use of this approval, if any: by its id, or by its signed message under
   * another id (the unseparated ClawShield message lets an agent re-split id and tenant).
   */
  approvalUsedBy(approval: Pick<VerifiedApproval, 'approvalId' | 'messageHash'>): ApprovalUse | null {
    const used = this.approvalUse.get({ approvalId: approval.approvalId, messageHash: approval.messageHash }) as ApprovalUse | undefined;
    return used ?? null;
  }

  /** Records a verified approval as consumed by `execId` (reserved just before). */
  spendApproval(approval: VerifiedApproval, action: string, verifiedAt: string, execId: string): void {
    const { changes } = this.spendApprovalRow.run({ ...approval, action, verifiedAt, execId });
    if (changes !== 1) throw new Error(`approval ${approval.approvalId} could not be consumed`);
  }

  /** The stored results of an execution that succeeded (canonical, and the protocol §3 text); null otherwise. */
  /** Finished executions older than `cutoffIso` whose results retention has not purged yet. */
  countPurgeable(cutoffIso: string): number {
    return this.purgeableCount.get(cutoffIso) as number;
  }

  /** Retention: the results of finished executions older than `cutoffIso` go; the spent nonce stays. */
  purgeOlderThan(cutoffIso: string, at: string): void {
    this.purgeRows.run({ at, cutoff: cutoffIso });
  }

  executedResult(id: string): { result: string | null; legacyJson: string | null } | null {
    const row = this.executedRow.get(id) as { result: string | null; result_legacy_json: string | null } | undefined;
    return row ? { result: row.result, legacyJson: row.result_legacy_json } : null;
  }

  countExecuted(): number {
    return this.executedCount.get() as number;
  }

  countApprovals(): number {
    return this.approvalCount.get() as number;
  }

  /** Verified approvals, newest first, `limit` of them before `beforeSeq` (their order of arrival). */
  listApprovals(limit: number, beforeSeq?: number): ApprovalDto[] {
    const rows = (beforeSeq === undefined ? this.newestApprovals.all(limit) : this.approvalsBefore.all(beforeSeq, limit)) as ApprovalRow[];
    return rows.map((r) => ({
      seq: r.seq,
      approvalId: r.approval_id,
      tenantId: r.tenant_id,
      actionHash: r.action_hash,
      issuedAt: r.issued_at,
      expiresAt: r.expires_at,
      approver: r.approver,
      approverKeyId: r.approver_key_id,
      verifiedAt: r.verified_at,
      action: r.action,
      usedByExecId: r.used_by_exec_id,
    }));
  }
}
