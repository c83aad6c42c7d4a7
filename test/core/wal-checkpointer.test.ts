import { afterEach, expect, test } from 'vitest';
import { existsSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../support/harness.ts';
import { openDatabase, type SqliteDatabase } from '../../src/main/core/store/database.ts';
import { WalCheckpointer } from '../../src/main/core/store/wal-checkpointer.ts';

let dir = '';
let db: SqliteDatabase | null = null;
afterEach(() => {
  db?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Pages of the main database file: in WAL mode only a checkpoint writes them. */
const filePages = (path: string) => statSync(path).size / 4096;

test('commits leave checkpointing to the thread, which moves every committed page into the database file; closed, it has let go of the files and commits checkpoint again', async () => {
  dir = tempDir('openexec-wal-');
  const path = join(dir, 'openexec.db');
  db = openDatabase(path, { synchronous: 'NORMAL' });
  const checkpointer = new WalCheckpointer(db, 10);
  db.exec('CREATE TABLE t (x TEXT)');
  const insert = db.prepare('INSERT INTO t VALUES (?)');
  const before = filePages(path);
  // 3,000 pages: three times SQLite's default threshold, where a commit would checkpoint itself.
  for (let i = 0; i < 300; i++) db.transaction(() => insert.run('x'.repeat(40_000))).immediate();
  expect(db.pragma('wal_autocheckpoint', { simple: true })).toBeGreaterThan(3000);
  const deadline = Date.now() + 20_000;
  while (filePages(path) < before + 2900 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  expect(filePages(path)).toBeGreaterThanOrEqual(before + 2900);
  checkpointer.close();
  expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(1000);
  // Its connection is closed by then: the writer's close is the last, which removes the WAL.
  db.close();
  db = null;
  expect(existsSync(`${path}-wal`)).toBe(false);
});
