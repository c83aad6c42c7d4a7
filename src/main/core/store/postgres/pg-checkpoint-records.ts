import type { CheckpointRecords, StoredCheckpoint } from '../checkpoint-records.ts';
import type { LedgerTransaction } from '../ledger-store.ts';
import { sessionOf, unique, type PgSession } from './pg-session.ts';

const SELECT = 'SELECT size, root, note, created_at FROM checkpoints';

interface PgCheckpointRow {
  size: string;
  root: Buffer;
  note: string;
  created_at: string;
}

const stored = (r: PgCheckpointRow | undefined): StoredCheckpoint | null =>
  r === undefined ? null : { size: Number(r.size), root: r.root, note: r.note, createdAt: r.created_at };

/** Signed checkpoints on PostgreSQL: one per tree size, never changed (a trigger refuses it). */
export class PostgresCheckpointRecords implements CheckpointRecords {
  constructor(private readonly db: PgSession) {}

  within(tx: LedgerTransaction): CheckpointRecords {
    return new PostgresCheckpointRecords(sessionOf(tx));
  }

  async latest(): Promise<StoredCheckpoint | null> {
    return stored((await this.db.query<PgCheckpointRow>(`${SELECT} ORDER BY size DESC LIMIT 1`)).rows[0]);
  }

  async at(size: number): Promise<StoredCheckpoint | null> {
    return stored((await this.db.query<PgCheckpointRow>(`${SELECT} WHERE size = $1`, [size])).rows[0]);
  }

  async insert(c: StoredCheckpoint): Promise<void> {
    await unique(this.db, 'checkpoints', 'INSERT INTO checkpoints (size, root, note, created_at) VALUES ($1, $2, $3, $4)', [
      c.size,
      Buffer.from(c.root),
      c.note,
      c.createdAt,
    ]);
  }
}
