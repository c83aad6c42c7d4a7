import type pg from 'pg';
import type { LedgerTransaction } from '../ledger-store.ts';
import { RecordConflict } from '../record-conflict.ts';

/** Where a PostgreSQL record store sends its SQL: a pool, or the connection of a witnessed write. */
export interface PgSession {
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>>;
}

/** Each open group transaction's view, with the session its pieces' record writes run on. */
const sessions = new WeakMap<LedgerTransaction, PgSession>();

/** Called by the group transaction for each piece's view (see pg-transaction.ts). */
export function bindSession(tx: LedgerTransaction, session: PgSession): void {
  sessions.set(tx, session);
}

/**
 * The session of a PostgreSQL witnessed write: its queries run on the connection holding the
 * ledger lock, in order with the piece's receipts, inside its savepoint, and are refused once
 * the piece has ended. A transaction of another engine is refused rather than written around.
 */
export function sessionOf(tx: LedgerTransaction): PgSession {
  const session = sessions.get(tx);
  if (session === undefined) throw new Error('not a PostgreSQL witnessed write: records join only their own engine’s transaction');
  return session;
}

/** Runs `write`, reporting a broken PRIMARY KEY or UNIQUE constraint (SQLSTATE 23505) as RecordConflict. */
export async function unique<T>(table: string, write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (err) {
    if ((err as { code?: unknown }).code === '23505') throw new RecordConflict(table, (err as Error).message);
    throw err;
  }
}
