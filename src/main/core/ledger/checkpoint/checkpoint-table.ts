import type { SqliteDatabase } from '../../store/database.ts';

export interface StoredCheckpoint {
  size: number;
  root: Uint8Array;
  note: string;
  createdAt: string;
}

/** The checkpoints table: one signed checkpoint per tree size, never changed once written. */
export class CheckpointTable {
  private readonly insertRow;
  private readonly latestRow;
  private readonly atSize;

  constructor(db: SqliteDatabase) {
    this.insertRow = db.prepare('INSERT INTO checkpoints (size, root, note, created_at) VALUES (?, ?, ?, ?)');
    this.latestRow = db.prepare('SELECT size, root, note, created_at AS createdAt FROM checkpoints ORDER BY size DESC LIMIT 1');
    this.atSize = db.prepare('SELECT size, root, note, created_at AS createdAt FROM checkpoints WHERE size = ?');
  }

  latest(): StoredCheckpoint | null {
    return (this.latestRow.get() as StoredCheckpoint | undefined) ?? null;
  }

  at(size: number): StoredCheckpoint | null {
    return (this.atSize.get(size) as StoredCheckpoint | undefined) ?? null;
  }

  insert(checkpoint: StoredCheckpoint): void {
    this.insertRow.run(checkpoint.size, checkpoint.root, checkpoint.note, checkpoint.createdAt);
  }
}
