import type { SqliteDatabase } from '../store/database.ts';
import type { PreviousApprovedDto, ProposalDto, ProposalStatus } from '../../../shared/console-dto.ts';
import { canonicalRequest } from '../json/request-hash.ts';
import { parseJson } from '../json/parse.ts';
import type { JsonObject } from '../json/json-value.ts';

export interface ProposalRow {
  id: string;
  nonce: string;
  action: string;
  payload: string;
  request_hash: string;
  context: string | null;
  status: ProposalStatus;
  created_at: string;
  expires_at: string;
  decided_at: string | null;
  reason: string | null;
  result: string | null;
  exec_id: string | null;
  approval_id: string | null;
  receipt_seq: number | null;
  /** The declared action's definition hash when proposed; null for a built-in. */
  action_def_hash: string | null;
  /** The verified agent that proposed it; null when no token was presented. */
  agent: string | null;
  /** When retention purged its payload, context and result (payload is then ''). */
  purged_at: string | null;
}

export interface ProposalDecision {
  status: Exclude<ProposalStatus, 'pending'>;
  decidedAt: string;
  reason: string | null;
  result: string | null;
  execId: string | null;
  approvalId: string | null;
  receiptSeq: number;
}

/** The proposals table. Writes happen inside the caller's transaction. */
export class ProposalStore {
  private readonly byId;
  private readonly byNonce;
  private readonly insertRow;
  private readonly decideRow;
  private readonly claimRow;
  private readonly pending;
  private readonly claimedPending;
  private readonly due;
  private readonly pendingCount;
  private readonly extendRow;
  private readonly lastExecutedOf;
  private readonly approvalKeyIds;
  private readonly approvalsBy;
  private readonly purgeableCount;
  private readonly purgeRows;
  private readonly insertApproval;

  constructor(db: SqliteDatabase) {
    this.purgeableCount = db
      .prepare("SELECT count(*) FROM proposals WHERE purged_at IS NULL AND status != 'pending' AND created_at < ?")
      .pluck();
    this.purgeRows = db.prepare(
      `UPDATE proposals SET payload = '', context = NULL, result = NULL, purged_at = @at
       WHERE purged_at IS NULL AND status != 'pending' AND created_at < @cutoff`,
    );
    this.approvalsBy = db.prepare(
      'SELECT operator, key_id AS keyId, approved_at AS approvedAt FROM proposal_approvals WHERE proposal_id = ? ORDER BY receipt_seq',
    );
    this.approvalKeyIds = db.prepare('SELECT key_id FROM proposal_approvals WHERE proposal_id = ? ORDER BY receipt_seq').pluck();
    this.insertApproval = db.prepare(
      'INSERT INTO proposal_approvals (proposal_id, key_id, operator, approved_at, receipt_seq) VALUES (?, ?, ?, ?, ?)',
    );
    this.byId = db.prepare('SELECT * FROM proposals WHERE id = ?');
    this.byNonce = db.prepare('SELECT * FROM proposals WHERE nonce = ?');
    this.insertRow = db.prepare(
      `INSERT INTO proposals (id, nonce, action, payload, request_hash, context, status, created_at, expires_at, action_def_hash, agent)
       VALUES (@id, @nonce, @action, @payload, @request_hash, @context, 'pending', @created_at, @expires_at, @action_def_hash, @agent)`,
    );
    // A proposal claimed by a running execution is closed only by that execution's ending.
    this.decideRow = db.prepare(
      `UPDATE proposals SET status = @status, decided_at = @decidedAt, reason = @reason, result = @result,
         exec_id = @execId, approval_id = @approvalId, receipt_seq = @receiptSeq
       WHERE id = @id AND status = 'pending' AND (exec_id IS NULL OR exec_id = @execId)`,
    );
    this.claimRow = db.prepare(
      `UPDATE proposals SET exec_id = @execId, approval_id = @approvalId
       WHERE id = @id AND status = 'pending' AND exec_id IS NULL`,
    );
    this.pending = db.prepare("SELECT * FROM proposals WHERE status = 'pending' ORDER BY created_at, id");
    this.due = db.prepare("SELECT * FROM proposals WHERE status = 'pending' AND exec_id IS NULL AND expires_at <= ? ORDER BY expires_at");
    this.pendingCount = db.prepare("SELECT count(*) FROM proposals WHERE status = 'pending'").pluck();
    this.claimedPending = db.prepare("SELECT * FROM proposals WHERE status = 'pending' AND exec_id IS NOT NULL ORDER BY created_at, id");
    // Only the expiry the caller read is moved, so an extension never races a decision or another extension.
    this.extendRow = db.prepare(
      `UPDATE proposals SET expires_at = @expiresAt
       WHERE id = @id AND status = 'pending' AND exec_id IS NULL AND expires_at = @before`,
    );
    this.lastExecutedOf = db.prepare(
      `SELECT id, payload, decided_at FROM proposals
       WHERE action = ? AND status = 'executed' AND id != ? AND purged_at IS NULL ORDER BY decided_at DESC LIMIT 1`,
    );
  }

  get(id: string): ProposalRow | undefined {
    return this.byId.get(id) as ProposalRow | undefined;
  }

  findByNonce(nonce: string): ProposalRow | undefined {
    return this.byNonce.get(nonce) as ProposalRow | undefined;
  }

  insert(
    row: Omit<ProposalRow, 'status' | 'decided_at' | 'reason' | 'result' | 'exec_id' | 'approval_id' | 'receipt_seq' | 'purged_at'>,
  ): void {
    this.insertRow.run(row);
  }

  /** Closes a pending proposal; false when it was no longer pending. */
  decide(id: string, decision: ProposalDecision): boolean {
    return this.decideRow.run({ id, ...decision }).changes === 1;
  }

  /** Marks a pending proposal as being executed; false if it was decided or claimed already. */
  /** The operator keys whose approvals of a quorum proposal are recorded, in order. */
  /** Decided proposals older than `cutoffIso` whose payloads retention has not purged yet. */
  countPurgeable(cutoffIso: string): number {
    return this.purgeableCount.get(cutoffIso) as number;
  }

  /** Retention: a decided proposal older than `cutoffIso` keeps its decision, not its payload, context or result. */
  purgeOlderThan(cutoffIso: string, at: string): void {
    this.purgeRows.run({ at, cutoff: cutoffIso });
  }

  /** Each operator approval of a quorum proposal, in the order they were given. */
  approvalsOf(id: string): { operator: string; keyId: string; approvedAt: string }[] {
    return this.approvalsBy.all(id) as { operator: string; keyId: string; approvedAt: string }[];
  }

  approvalKeys(id: string): string[] {
    return this.approvalKeyIds.all(id) as string[];
  }

  /** Records one operator key's approval of a quorum proposal (once per key: the primary key says so). */
  recordApproval(id: string, keyId: string, operator: string, at: string, receiptSeq: number): void {
    this.insertApproval.run(id, keyId, operator, at, receiptSeq);
  }

  claim(id: string, execId: string, approvalId: string | null): boolean {
    return this.claimRow.run({ id, execId, approvalId }).changes === 1;
  }

  /** Pending proposals an execution has claimed: after a restart, those whose execution ended are settled. */
  listClaimedPending(): ProposalRow[] {
    return this.claimedPending.all() as ProposalRow[];
  }

  listPending(): ProposalRow[] {
    return this.pending.all() as ProposalRow[];
  }

  dueForExpiry(nowIso: string): ProposalRow[] {
    return this.due.all(nowIso) as ProposalRow[];
  }

  /** Moves a pending proposal's expiry from `before` to `expiresAt`; false if anything changed meanwhile. */
  extend(id: string, before: string, expiresAt: string): boolean {
    return this.extendRow.run({ id, before, expiresAt }).changes === 1;
  }

  /** The most recently executed proposal of `action` other than `exceptId`. */
  lastExecuted(action: string, exceptId: string): PreviousApprovedDto | null {
    const row = this.lastExecutedOf.get(action, exceptId) as { id: string; payload: string; decided_at: string } | undefined;
    return row ? { id: row.id, payload: row.payload, decidedAt: row.decided_at } : null;
  }

  countPending(): number {
    return this.pendingCount.get() as number;
  }
}

export function payloadOf(row: ProposalRow): JsonObject {
  return parseJson(row.payload) as JsonObject;
}

export function proposalDto(row: ProposalRow): ProposalDto {
  return {
    id: row.id,
    action: row.action,
    nonce: row.nonce,
    payloadCanonical: row.payload,
    requestCanonical: row.purged_at === null ? canonicalRequest(row.action, payloadOf(row)) : '',
    requestHash: row.request_hash,
    context: row.context,
    agent: row.agent,
    status: row.status,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    decidedAt: row.decided_at,
    reason: row.reason,
    resultCanonical: row.result,
    execId: row.exec_id,
    receiptSeq: row.receipt_seq,
    approvalId: row.approval_id,
    purgedAt: row.purged_at,
  };
}
