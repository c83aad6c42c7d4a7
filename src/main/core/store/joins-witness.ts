import type { LedgerTransaction } from './ledger-store.ts';

/**
 * Records whose writes can join a witnessed write, so a state change commits together with
 * the receipts that witness it (LedgerStore.witness) or not at all.
 */
export interface JoinsWitness<R> {
  /**
   * These records on `tx`'s transaction: use it only inside that `witness` work. On SQLite every
   * store shares the ledger's one connection, so this is the same records; on PostgreSQL it is
   * bound to the connection that holds the group transaction.
   */
  within(tx: LedgerTransaction): R;
}
