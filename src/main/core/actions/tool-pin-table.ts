import type { SqliteDatabase } from '../store/database.ts';

export interface PinRow {
  action: string;
  definition_hash: string;
  /** The canonical JSON of the pinned definition. */
  definition: string;
  pending_hash: string | null;
  pending_definition: string | null;
  pinned_at: string;
}

/** The mcp_tool_pins table. Pinning and accepting run inside the caller's witnessed transaction. */
export class ToolPinTable {
  private readonly byAction;
  private readonly everyRow;
  private readonly insertRow;
  private readonly markPendingRow;
  private readonly acceptRow;

  constructor(db: SqliteDatabase) {
    this.byAction = db.prepare('SELECT * FROM mcp_tool_pins WHERE action = ?');
    this.everyRow = db.prepare('SELECT * FROM mcp_tool_pins ORDER BY pending_hash IS NULL, action');
    this.insertRow = db.prepare('INSERT INTO mcp_tool_pins (action, definition_hash, definition, pinned_at) VALUES (?, ?, ?, ?)');
    this.markPendingRow = db.prepare('UPDATE mcp_tool_pins SET pending_hash = ?, pending_definition = ? WHERE action = ?');
    // Only the pending definition the operator saw is accepted.
    this.acceptRow = db.prepare(
      'UPDATE mcp_tool_pins SET definition_hash = pending_hash, definition = pending_definition, pending_hash = NULL, pending_definition = NULL, pinned_at = ? WHERE action = ? AND pending_hash = ?',
    );
  }

  get(action: string): PinRow | undefined {
    return this.byAction.get(action) as PinRow | undefined;
  }

  /** Every pin, those with a changed definition waiting first (then by name). */
  list(): PinRow[] {
    return this.everyRow.all() as PinRow[];
  }

  /** Pins a definition seen for the first time. */
  insert(action: string, hash: string, definition: string, pinnedAt: string): void {
    this.insertRow.run(action, hash, definition, pinnedAt);
  }

  /** Holds a changed definition for the operator; false when `action` is not pinned. */
  markPending(action: string, hash: string, definition: string): boolean {
    return this.markPendingRow.run(hash, definition, action).changes === 1;
  }

  /** Makes the pending definition the pinned one; false unless `pendingHash` is the one pending. */
  accept(action: string, pendingHash: string, at: string): boolean {
    return this.acceptRow.run(at, action, pendingHash).changes === 1;
  }
}
