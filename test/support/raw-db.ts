import type { SqliteDatabase } from '../../src/main/core/store/database.ts';
import type { OpenExecCore } from '../../src/main/core/openexec-core.ts';

/**
 * The core's own connection, for tests that look at rows directly or play an attacker with
 * write access to the file. Source code cannot reach it (the core's storage is private, the
 * SQLite ledger's connection too, and test/architecture/table-owners.test.ts holds every table
 * to its store); tests may. SQLite only: `core.ledger` refuses on PostgreSQL.
 */
export function rawDb(core: OpenExecCore): SqliteDatabase {
  const db = (core.ledger as unknown as { db?: SqliteDatabase }).db;
  if (db === undefined) throw new Error('OpenExecCore keeps its connection elsewhere now: update test/support/raw-db.ts');
  return db;
}
