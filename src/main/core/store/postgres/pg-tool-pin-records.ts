import type { LedgerTransaction } from '../ledger-store.ts';
import type { PinRow, ToolPinRecords } from '../tool-pin-records.ts';
import { sessionOf, unique, type PgSession } from './pg-session.ts';

// Only the pending definition the operator saw is accepted.
const ACCEPT = `UPDATE mcp_tool_pins SET definition_hash = pending_hash, definition = pending_definition,
    pending_hash = NULL, pending_definition = NULL, pinned_at = $3
  WHERE action = $1 AND pending_hash = $2`;

/** Pinned MCP tool definitions on PostgreSQL. */
export class PostgresToolPinRecords implements ToolPinRecords {
  constructor(private readonly db: PgSession) {}

  within(tx: LedgerTransaction): ToolPinRecords {
    return new PostgresToolPinRecords(sessionOf(tx));
  }

  async get(action: string): Promise<PinRow | undefined> {
    return (await this.db.query<PinRow>('SELECT * FROM mcp_tool_pins WHERE action = $1', [action])).rows[0];
  }

  async list(): Promise<PinRow[]> {
    // COLLATE "C": the byte order SQLite sorts names in.
    const sql = 'SELECT * FROM mcp_tool_pins ORDER BY pending_hash IS NULL, action COLLATE "C"';
    return (await this.db.query<PinRow>(sql)).rows;
  }

  async insert(action: string, hash: string, definition: string, pinnedAt: string): Promise<void> {
    await unique(
      this.db,
      'mcp_tool_pins',
      'INSERT INTO mcp_tool_pins (action, definition_hash, definition, pinned_at) VALUES ($1, $2, $3, $4)',
      [action, hash, definition, pinnedAt],
    );
  }

  async markPending(action: string, hash: string, definition: string): Promise<boolean> {
    const sql = 'UPDATE mcp_tool_pins SET pending_hash = $2, pending_definition = $3 WHERE action = $1';
    return (await this.db.query(sql, [action, hash, definition])).rowCount === 1;
  }

  async accept(action: string, pendingHash: string, at: string): Promise<boolean> {
    return (await this.db.query(ACCEPT, [action, pendingHash, at])).rowCount === 1;
  }
}
