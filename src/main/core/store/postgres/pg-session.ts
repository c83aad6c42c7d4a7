import type pg from 'pg';
import type { LedgerTransaction } from '../ledger-store.ts';
import { RecordConflict } from '../record-conflict.ts';
import type { Prepared } from './pg-prepared.ts';

/** Where a PostgreSQL record store sends its SQL: a pool, or the connection of a witnessed write. */
export interface PgSession {
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string | Prepared, values?: unknown[]): Promise<pg.QueryResult<R>>;
  /**
   * Inside a transaction, runs one statement in a savepoint of its own, so its failure (a
   * unique key taken) leaves the transaction usable, as a failed statement does on SQLite;
   * absent on a pool, where each statement commits alone.
   */
  attempt?(text: string, values?: unknown[]): Promise<pg.QueryResult>;
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
  if (session === undefined) throw new Error('not a PostgreSQL witnessed write: records join only a transaction of their own engine');
  return session;
}

/**
 * Runs a write that a unique key may refuse, reporting a broken PRIMARY KEY or UNIQUE constraint
 * (SQLSTATE 23505) as RecordConflict; the caller may catch it and go on in the same transaction.
 */
export async function unique(db: PgSession, table: string, text: string, values: unknown[]): Promise<void> {
  try {
    await (db.attempt ? db.attempt(text, values) : db.query(text, values));
  } catch (err) {
    if ((err as { code?: unknown }).code === '23505') throw new RecordConflict(table, (err as Error).message);
    throw err;
  }
}
