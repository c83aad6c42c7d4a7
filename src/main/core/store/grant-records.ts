/**
 * Grants (docs/receipts.md "Grants"): the signed terms as issued, the uses spent and how each
 * ended, behind one asynchronous interface with the methods of the SQLite GrantStore.
 */
import type { GrantEnding, GrantRow } from '../grants/grant-store.ts';
import type { JoinsWitness } from './joins-witness.ts';

export type { GrantEnding, GrantRow };

export type NewGrant = Pick<GrantRow, 'id' | 'action' | 'body' | 'signature' | 'key_id' | 'boot_id' | 'created_at'>;

export interface GrantRecords extends JoinsWitness<GrantRecords> {
  /** Rejects with RecordConflict when the id is taken. */
  insert(row: NewGrant): Promise<void>;
  get(id: string): Promise<GrantRow | undefined>;
  /** Grants not yet ended (of one action), oldest first. */
  live(action?: string): Promise<GrantRow[]>;
  /** The latest grants, live or ended, newest first. */
  latest(limit: number): Promise<GrantRow[]>;
  /**
   * Spends one use of a live grant whose count is still `spentBefore`: true for the one caller
   * that moved it, false for every other (the count moved, or the grant ended, first).
   */
  spend(id: string, spentBefore: number): Promise<boolean>;
  /** Ends a live grant; false if it had ended already. */
  end(id: string, reason: GrantEnding, at: string, seq: number): Promise<boolean>;
}
