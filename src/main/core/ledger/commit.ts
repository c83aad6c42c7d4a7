import type { SqliteDatabase } from '../store/database.ts';
import type { Ledger } from './ledger.ts';

/**
 * One write transaction; its receipts are announced only once it has committed, and forgotten
 * if it rolls back (the error is rethrown).
 */
export function commitWithReceipts(db: SqliteDatabase, ledger: Ledger, work: () => void): void {
  try {
    db.transaction(work).immediate();
  } catch (err) {
    ledger.discardUncommitted();
    throw err;
  }
  ledger.publishCommitted();
}
