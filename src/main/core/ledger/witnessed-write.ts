import type { SqliteDatabase } from '../store/database.ts';
import type { Ledger } from './ledger.ts';

/**
 * One write transaction whose receipts are announced only once it has committed; on failure
 * nothing it appended exists. Returns what `work` returns.
 */
export function witnessedWrite<T>(db: SqliteDatabase, ledger: Ledger, work: () => T): T {
  let result: T;
  try {
    result = db.transaction(work).immediate();
  } catch (err) {
    ledger.discardUncommitted();
    throw err;
  }
  ledger.publishCommitted();
  return result;
}
