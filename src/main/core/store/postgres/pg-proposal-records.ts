import type { PreviousApprovedDto, QuorumDto } from '../../../../shared/console-dto.ts';
import type { LedgerTransaction } from '../ledger-store.ts';
import type { NewProposal, ProposalDecision, ProposalRecords, ProposalRow } from '../proposal-records.ts';
import { sessionOf, unique, type PgSession } from './pg-session.ts';

type PgProposalRow = Omit<ProposalRow, 'receipt_seq'> & { receipt_seq: string | null };

const row = (r: PgProposalRow): ProposalRow => ({ ...r, receipt_seq: r.receipt_seq === null ? null : Number(r.receipt_seq) });

const INSERT = `INSERT INTO proposals (id, nonce, action, payload, request_hash, context, status, created_at, expires_at, action_def_hash, agent)
  VALUES ($1, $2, $3, $4, $5, $6, 'pending', $7, $8, $9, $10)`;

// Under READ COMMITTED a second decision waits for the first's row lock, then finds the row no
// longer pending: one decision per proposal. A claimed proposal is closed only by its execution.
const DECIDE = `UPDATE proposals SET status = $2, decided_at = $3, reason = $4, result = $5, exec_id = $6, approval_id = $7, receipt_seq = $8
  WHERE id = $1 AND status = 'pending' AND (exec_id IS NULL OR exec_id = $6)`;

const CLAIM = `UPDATE proposals SET exec_id = $2, approval_id = $3 WHERE id = $1 AND status = 'pending' AND exec_id IS NULL`;

// Only the expiry the caller read is moved, so an extension never races a decision or another extension.
const EXTEND = `UPDATE proposals SET expires_at = $3 WHERE id = $1 AND status = 'pending' AND exec_id IS NULL AND expires_at = $2`;

/** The proposals and their quorum approvals on PostgreSQL (README "PostgreSQL"). */
export class PostgresProposalRecords implements ProposalRecords {
  constructor(private readonly db: PgSession) {}

  within(tx: LedgerTransaction): ProposalRecords {
    return new PostgresProposalRecords(sessionOf(tx));
  }

  private async rows(sql: string, values: unknown[] = []): Promise<ProposalRow[]> {
    return (await this.db.query<PgProposalRow>(sql, values)).rows.map(row);
  }

  async get(id: string): Promise<ProposalRow | undefined> {
    return (await this.rows('SELECT * FROM proposals WHERE id = $1', [id]))[0];
  }

  async findByNonce(nonce: string): Promise<ProposalRow | undefined> {
    return (await this.rows('SELECT * FROM proposals WHERE nonce = $1', [nonce]))[0];
  }

  async insert(p: NewProposal): Promise<void> {
    const values = [p.id, p.nonce, p.action, p.payload, p.request_hash, p.context, p.created_at, p.expires_at, p.action_def_hash, p.agent];
    await unique(this.db, 'proposals', INSERT, values);
  }

  async decide(id: string, d: ProposalDecision): Promise<boolean> {
    const { rowCount } = await this.db.query(DECIDE, [id, d.status, d.decidedAt, d.reason, d.result, d.execId, d.approvalId, d.receiptSeq]);
    return rowCount === 1;
  }

  async approvalKeys(id: string): Promise<string[]> {
    const { rows } = await this.db.query<{ key_id: string }>(
      'SELECT key_id FROM proposal_approvals WHERE proposal_id = $1 ORDER BY receipt_seq',
      [id],
    );
    return rows.map((r) => r.key_id);
  }

  async approvalsOf(id: string): Promise<QuorumDto['approvals']> {
    const { rows } = await this.db.query<QuorumDto['approvals'][number]>(
      'SELECT operator, key_id AS "keyId", approved_at AS "approvedAt" FROM proposal_approvals WHERE proposal_id = $1 ORDER BY receipt_seq',
      [id],
    );
    return rows;
  }

  async recordApproval(id: string, keyId: string, operator: string, at: string, receiptSeq: number): Promise<void> {
    await unique(
      this.db,
      'proposal_approvals',
      'INSERT INTO proposal_approvals (proposal_id, key_id, operator, approved_at, receipt_seq) VALUES ($1, $2, $3, $4, $5)',
      [id, keyId, operator, at, receiptSeq],
    );
  }

  async claim(id: string, execId: string, approvalId: string | null): Promise<boolean> {
    return (await this.db.query(CLAIM, [id, execId, approvalId])).rowCount === 1;
  }

  listClaimedPending(): Promise<ProposalRow[]> {
    return this.rows("SELECT * FROM proposals WHERE status = 'pending' AND exec_id IS NOT NULL ORDER BY created_at, id");
  }

  listPending(): Promise<ProposalRow[]> {
    return this.rows("SELECT * FROM proposals WHERE status = 'pending' ORDER BY created_at, id");
  }

  dueForExpiry(nowIso: string): Promise<ProposalRow[]> {
    return this.rows("SELECT * FROM proposals WHERE status = 'pending' AND exec_id IS NULL AND expires_at <= $1 ORDER BY expires_at", [
      nowIso,
    ]);
  }

  async extend(id: string, before: string, expiresAt: string): Promise<boolean> {
    return (await this.db.query(EXTEND, [id, before, expiresAt])).rowCount === 1;
  }

  async lastExecuted(action: string, exceptId: string): Promise<PreviousApprovedDto | null> {
    const { rows } = await this.db.query<{ id: string; payload: string; decided_at: string }>(
      `SELECT id, payload, decided_at FROM proposals
       WHERE action = $1 AND status = 'executed' AND id <> $2 ORDER BY decided_at DESC LIMIT 1`,
      [action, exceptId],
    );
    const last = rows[0];
    return last ? { id: last.id, payload: last.payload, decidedAt: last.decided_at } : null;
  }

  async countPending(): Promise<number> {
    const { rows } = await this.db.query<{ n: number }>("SELECT count(*)::integer AS n FROM proposals WHERE status = 'pending'");
    return rows[0]?.n ?? 0;
  }
}
