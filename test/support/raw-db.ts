import type { SqliteDatabase } from '../../src/main/core/store/database.ts';
import type { OpenExecCore } from '../../src/main/core/openexec-core.ts';

/**
 * The core's own connection, for tests that look at rows directly or play an attacker with
 * write access to the file. Source code cannot reach it (OpenExecCore.db is private, and
 * test/architecture/table-owners.test.ts holds every table to its store); tests may.
 */
export function rawDb(core: OpenExecCore): SqliteDatabase {
  const db = (core as unknown as { db?: SqliteDatabase }).db;
  if (db === undefined) throw new Error('OpenExecCore keeps its connection elsewhere now: update test/support/raw-db.ts');
  return db;
}
