import type { SqliteDatabase } from '../store/database.ts';
import type { VerifiedApproval } from '../approval/validate-approval.ts';

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

export type Reservation = Pick<ExecutionRow, 'id' | 'nonce' | 'request_hash' | 'action' | 'approval_id' | 'created_at' | 'agent'>;

export type Ending =
  | { status: 'executed'; result: string; result_legacy_json: string; receipt_seq: number }
  | { status: 'failed'; error: string; error_status: number; receipt_seq: number };

/** The engine's SQL, prepared once. Every method must run inside the engine's transaction. */
export class ExecutionStore {
  private readonly byNonce;
  private readonly byId;
  private readonly insertStarted;
  private readonly endRow;
  private readonly started;
  private readonly approvalUse;
  private readonly spendApprovalRow;
  private readonly bindDefinitionRow;
  private readonly bindGrantRow;

  constructor(db: SqliteDatabase) {
    this.byNonce = db.prepare('SELECT * FROM executions WHERE nonce = ?');
    this.byId = db.prepare('SELECT * FROM executions WHERE id = ?');
    this.insertStarted = db.prepare(
      `INSERT INTO executions (id, nonce, request_hash, action, status, approved, approval_id, created_at, agent)
       VALUES (@id, @nonce, @request_hash, @action, 'started', 1, @approval_id, @created_at, @agent)`,
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
    this.bindDefinitionRow = db.prepare('UPDATE executions SET action_def_hash = ? WHERE id = ?');
    this.bindGrantRow = db.prepare('UPDATE executions SET grant_id = ?, grant_use = ? WHERE id = ?');
  }

  /** Records which use of which grant authorised a reserved execution. */
  bindGrant(id: string, grantId: string, use: number): void {
    this.bindGrantRow.run(grantId, use, id);
  }

  /** Records which definition a reserved execution runs under, for its receipts after a crash. */
  bindDefinition(id: string, definitionHash: string): void {
    this.bindDefinitionRow.run(definitionHash, id);
  }

  findByNonce(nonce: string): ExecutionRow | undefined {
    return this.byNonce.get(nonce) as ExecutionRow | undefined;
  }

  get(id: string): ExecutionRow | undefined {
    return this.byId.get(id) as ExecutionRow | undefined;
  }

  /** Spends the nonce (and the approval, by the caller) before the handler may run. */
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
}
