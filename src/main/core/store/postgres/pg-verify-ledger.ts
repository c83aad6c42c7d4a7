import type pg from 'pg';
import { PG_SCHEMA_VERSION, schemaVersion } from './pg-migrations.ts';
import { checkout, describeServer, openPool, PostgresStoreError } from './pg-pool.ts';
import { walkPostgresLedger, type WalkOptions, type WalkResult } from './pg-ledger-walk.ts';
import { postgresSideTableProblems } from './pg-side-tables.ts';

export interface PostgresLedgerVerdict extends WalkResult {
  /** `user@host:port/database`: never the password. */
  server: string;
  /** Bodies against their receipts, then the side tables against the receipts. */
  sideTableProblems: string[];
  /** The hash the ledger holds at `expectHeadSeq` (null: no such receipt); absent when none was asked. */
  headHash?: string | null;
}

export interface VerifyPostgresOptions extends WalkOptions {
  /** A receipt the reviewer recorded: its hash is read in the same snapshot. */
  expectHeadSeq?: number | undefined;
}

/**
 * `verify-ledger` for a PostgreSQL ledger: the walk (pg-ledger-walk.ts), the side tables and
 * the recorded head, all in one read-only REPEATABLE READ transaction, so instances appending
 * meanwhile neither stop it nor show it half a group. Needs only SELECT on the tables (a
 * reviewer's read-only role will do). Every error names the server without its password.
 */
export async function verifyPostgresLedger(url: string, options: VerifyPostgresOptions = {}): Promise<PostgresLedgerVerdict> {
  const server = describeServer(url);
  // The walk checks signatures between reads; the server must not end the session for that.
  const pool = await openPool(url, { max: 1, idleInTransactionMs: 600_000 });
  let client: pg.PoolClient | undefined;
  try {
    client = await checkout(pool);
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    await requireSchema(client, server);
    const walk = await walkPostgresLedger(client, options);
    const limit = options.problemLimit ?? 20;
    const sideTables = [...walk.bodyProblems, ...(await postgresSideTableProblems(client, Math.max(0, limit - walk.bodyProblems.length)))];
    const head = options.expectHeadSeq === undefined ? {} : { headHash: await hashAt(client, options.expectHeadSeq) };
    await client.query('COMMIT');
    return { ...walk, server, sideTableProblems: sideTables, ...head };
  } catch (err) {
    if (err instanceof PostgresStoreError) throw err;
    throw PostgresStoreError.from('unavailable', `cannot read the ledger at ${server}`, err);
  } finally {
    client?.release(true);
    await pool.end().catch(() => undefined);
  }
}

async function requireSchema(client: pg.PoolClient, server: string): Promise<void> {
  const version = await schemaVersion(client);
  if (version !== PG_SCHEMA_VERSION) {
    throw new PostgresStoreError(
      'schema',
      `PostgreSQL at ${server} has schema version ${version}, this OpenExec reads version ${PG_SCHEMA_VERSION}` +
        (version === 0 ? ' (is this an OpenExec ledger?)' : ''),
    );
  }
}

async function hashAt(client: pg.PoolClient, seq: number): Promise<string | null> {
  const { rows } = await client.query<{ hash: string }>('SELECT hash FROM receipts WHERE seq = $1', [seq]);
  return rows[0]?.hash ?? null;
}
