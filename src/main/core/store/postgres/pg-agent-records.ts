import type { AgentRecords, AgentRow } from '../agent-records.ts';
import type { LedgerTransaction } from '../ledger-store.ts';
import { sessionOf, unique, type PgSession } from './pg-session.ts';

/** Registered agents on PostgreSQL: a name and a token hash each taken once, a revocation final. */
export class PostgresAgentRecords implements AgentRecords {
  constructor(private readonly db: PgSession) {}

  within(tx: LedgerTransaction): AgentRecords {
    return new PostgresAgentRecords(sessionOf(tx));
  }

  async liveNameOf(tokenHash: string): Promise<string | null> {
    const { rows } = await this.db.query<{ name: string }>('SELECT name FROM agents WHERE token_hash = $1 AND revoked_at IS NULL', [
      tokenHash,
    ]);
    return rows[0]?.name ?? null;
  }

  async get(name: string): Promise<AgentRow | undefined> {
    return (await this.db.query<AgentRow>('SELECT * FROM agents WHERE name = $1', [name])).rows[0];
  }

  async list(): Promise<AgentRow[]> {
    return (await this.db.query<AgentRow>('SELECT * FROM agents ORDER BY name')).rows;
  }

  async insert(name: string, tokenHash: string, createdAt: string): Promise<void> {
    await unique(this.db, 'agents', 'INSERT INTO agents (name, token_hash, created_at) VALUES ($1, $2, $3)', [name, tokenHash, createdAt]);
  }

  async revoke(name: string, at: string): Promise<boolean> {
    return (await this.db.query('UPDATE agents SET revoked_at = $2 WHERE name = $1 AND revoked_at IS NULL', [name, at])).rowCount === 1;
  }
}
