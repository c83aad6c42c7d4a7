/** Pinned tool definitions of upstream MCP servers, with the SQLite ToolPinTable's methods. */
import type { PinRow } from '../actions/tool-pin-table.ts';
import type { JoinsWitness } from './joins-witness.ts';

export type { PinRow };

export interface ToolPinRecords extends JoinsWitness<ToolPinRecords> {
  get(action: string): Promise<PinRow | undefined>;
  /** Every pin, those with a changed definition waiting first (then by name). */
  list(): Promise<PinRow[]>;
  /** Pins a definition seen for the first time; rejects with RecordConflict when `action` is pinned. */
  insert(action: string, hash: string, definition: string, pinnedAt: string): Promise<void>;
  /** Holds a changed definition for the operator; false when `action` is not pinned. */
  markPending(action: string, hash: string, definition: string): Promise<boolean>;
  /** Makes the pending definition the pinned one; false unless `pendingHash` is the one pending. */
  accept(action: string, pendingHash: string, at: string): Promise<boolean>;
}
