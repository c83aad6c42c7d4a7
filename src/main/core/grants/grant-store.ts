import type { SqliteDatabase } from '../store/database.ts';

export type GrantEnding = 'revoked' | 'expired' | 'exhausted' | 'restart';

export interface GrantRow {
  id: string;
  action: string;
  /** The signed canonical terms, exactly as issued. */
  body: string;
  signature: string;
  key_id: string;
  /** The process run that issued it: an `until_restart` grant lives only in that run. */
  boot_id: string;
  uses_spent: number;
  created_at: string;
  ended_at: string | null;
  ended_reason: GrantEnding | null;
  ended_seq: number | null;
}

/** The grants table. Every write runs inside the caller's transaction. */
export class GrantStore {
  private readonly insertRow;
  private readonly byId;
  private readonly liveFor;
  private readonly allLive;
  private readonly recent;
  private readonly spendRow;
  private readonly endRow;

  constructor(db: SqliteDatabase) {
    this.insertRow = db.prepare(
      `INSERT INTO grants (id, action, body, signature, key_id, boot_id, created_at)
       VALUES (@id, @action, @body, @signature, @key_id, @boot_id, @created_at)`,
    );
    this.byId = db.prepare('SELECT * FROM grants WHERE id = ?');
    this.liveFor = db.prepare('SELECT * FROM grants WHERE action = ? AND ended_at IS NULL ORDER BY created_at, id');
    this.allLive = db.prepare('SELECT * FROM grants WHERE ended_at IS NULL ORDER BY created_at, id');
    this.recent = db.prepare('SELECT * FROM grants ORDER BY created_at DESC, id LIMIT ?');
    // Guarded by the count read: a use is spent once, by one decision.
    this.spendRow = db.prepare('UPDATE grants SET uses_spent = uses_spent + 1 WHERE id = ? AND uses_spent = ? AND ended_at IS NULL');
    this.endRow = db.prepare(
      'UPDATE grants SET ended_at = @at, ended_reason = @reason, ended_seq = @seq WHERE id = @id AND ended_at IS NULL',
    );
  }

  insert(row: Pick<GrantRow, 'id' | 'action' | 'body' | 'signature' | 'key_id' | 'boot_id' | 'created_at'>): void {
    this.insertRow.run(row);
  }

  get(id: string): GrantRow | undefined {
    return this.byId.get(id) as GrantRow | undefined;
  }

  live(action?: string): GrantRow[] {
    return (action === undefined ? this.allLive.all() : this.liveFor.all(action)) as GrantRow[];
  }

  /** The latest grants, live or ended, newest first. */
  latest(limit: number): GrantRow[] {
    return this.recent.all(limit) as GrantRow[];
  }

  spend(id: string, spentBefore: number): boolean {
    return this.spendRow.run(id, spentBefore).changes === 1;
  }

  end(id: string, reason: GrantEnding, at: string, seq: number): boolean {
    return this.endRow.run({ id, reason, at, seq }).changes === 1;
  }
}
