import type { SqliteDatabase } from '../store/database.ts';

export interface AgentRow {
  name: string;
  /** sha256 of the token: the token itself is never stored. */
  token_hash: string;
  created_at: string;
  revoked_at: string | null;
}

/** The agents table. Writes run inside the caller's transaction (the registry witnesses each). */
export class AgentTable {
  private readonly byHash;
  private readonly byName;
  private readonly all;
  private readonly insertRow;
  private readonly revokeRow;

  constructor(db: SqliteDatabase) {
    this.byHash = db.prepare('SELECT name FROM agents WHERE token_hash = ? AND revoked_at IS NULL').pluck();
    this.byName = db.prepare('SELECT * FROM agents WHERE name = ?');
    this.all = db.prepare('SELECT * FROM agents ORDER BY name');
    this.insertRow = db.prepare('INSERT INTO agents (name, token_hash, created_at) VALUES (?, ?, ?)');
    this.revokeRow = db.prepare('UPDATE agents SET revoked_at = ? WHERE name = ? AND revoked_at IS NULL');
  }

  /** The name of the live (not revoked) agent whose token hashes to `tokenHash`, or null. */
  liveNameOf(tokenHash: string): string | null {
    return (this.byHash.get(tokenHash) as string | undefined) ?? null;
  }

  get(name: string): AgentRow | undefined {
    return this.byName.get(name) as AgentRow | undefined;
  }

  list(): AgentRow[] {
    return this.all.all() as AgentRow[];
  }

  insert(name: string, tokenHash: string, createdAt: string): void {
    this.insertRow.run(name, tokenHash, createdAt);
  }

  /** Revokes a live agent; false if there is none by that name or it was revoked already. */
  revoke(name: string, at: string): boolean {
    return this.revokeRow.run(at, name).changes === 1;
  }
}
