import type pg from 'pg';
import { PG_SCHEMA_VERSION, schemaVersion } from './pg-migrations.ts';
import { checkout, describeServer, openPool, PostgresStoreError } from './pg-pool.ts';
import { walkPostgresLedger, type WalkOptions, type WalkResult } from './pg-ledger-walk.ts';
import { postgresSideTableProblems } from './pg-side-tables.ts';
import { verifyRegisteredCheckpoint } from './pg-checkpoints.ts';
import type { LedgerKey } from './pg-ledger-keys.ts';
import { hashesEqual } from '../../ledger/merkle/rfc9162.ts';
import type { SavedCheckpoint } from '../../ledger/checkpoint/compare-checkpoints.ts';

export interface PostgresLedgerVerdict extends WalkResult {
  /** `user@host:port/database`: never the password. */
  server: string;
  /** Bodies against their receipts, then the side tables against the receipts. */
  sideTableProblems: string[];
  /**
   * The checkpoints the instances stored: how many, and the first problem (signed by a key the
   * ledger does not register, a root other than the table's, or a tree the ledger does not extend).
   */
  stored: { count: number; problem: string | null };
  /** The hash the ledger holds at `expectHeadSeq` (null: no such receipt); absent when none was asked. */
  headHash?: string | null;
}

export interface VerifyPostgresOptions extends WalkOptions {
  /** A receipt the reviewer recorded: its hash is read in the same snapshot. */
  expectHeadSeq?: number | undefined;
}

/**
 * `verify-ledger` for a PostgreSQL ledger: the walk (pg-ledger-walk.ts), the side tables, the
 * checkpoints the instances stored (each signed by a registered key, each extended by the
 * ledger) and the recorded head, all in one read-only REPEATABLE READ transaction, so instances appending
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
    const stored = await storedCheckpoints(client);
    const walk = await walkPostgresLedger(client, { ...options, stored });
    const limit = options.problemLimit ?? 20;
    const sideTables = [...walk.bodyProblems, ...(await postgresSideTableProblems(client, Math.max(0, limit - walk.bodyProblems.length)))];
    const head = options.expectHeadSeq === undefined ? {} : { headHash: await hashAt(client, options.expectHeadSeq) };
    await client.query('COMMIT');
    const storedProblem = stored.map((c) => storedCheckpointProblem(c, walk.chain.keys)).find((p) => p !== null) ?? null;
    const problem = storedProblem ?? (walk.storedCheckpoints?.ok === false ? walk.storedCheckpoints.problem : null);
    return { ...walk, server, sideTableProblems: sideTables, stored: { count: stored.length, problem }, ...head };
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

type StoredNote = SavedCheckpoint & { note: string };

async function storedCheckpoints(client: pg.PoolClient): Promise<StoredNote[]> {
  const { rows } = await client.query<{ size: string; root: Buffer; note: string }>(
    'SELECT size, root, note FROM checkpoints ORDER BY size',
  );
  return rows.map((r) => ({ size: Number(r.size), root: r.root, note: r.note, source: `of size ${r.size} in the checkpoints table` }));
}

/** A stored checkpoint must be signed by a registered key, for the size and root its row says. */
function storedCheckpointProblem(c: StoredNote, keys: readonly LedgerKey[]): string | null {
  try {
    const note = verifyRegisteredCheckpoint(c.note, keys);
    if (note.size !== c.size || !hashesEqual(note.root, c.root)) return `the checkpoint ${c.source} signs another tree than its row says`;
    return null;
  } catch (err) {
    return `the checkpoint ${c.source}: ${(err as Error).message}`;
  }
}

async function hashAt(client: pg.PoolClient, seq: number): Promise<string | null> {
  const { rows } = await client.query<{ hash: string }>('SELECT hash FROM receipts WHERE seq = $1', [seq]);
  return rows[0]?.hash ?? null;
}
