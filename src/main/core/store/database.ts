import Database from 'better-sqlite3';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import { migrate } from './migrations.ts';

export type SqliteDatabase = Database.Database;
export type Synchronous = 'NORMAL' | 'FULL';

export interface OpenDatabaseOptions {
  /** FULL fsyncs every commit (power-loss durable); NORMAL in WAL survives process crashes. */
  synchronous: Synchronous;
}

export function openDatabase(path: string, options: OpenDatabaseOptions): SqliteDatabase {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  // Payloads and agents' context live here: created 0600, and SQLite gives its -wal and -shm
  // files the same mode.
  closeSync(openSync(path, 'a', 0o600));
  const db = new Database(path);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${options.synchronous}`);
    db.pragma('foreign_keys = ON');
    // Freed space is zeroed, so a purged body (and every copy a page split left behind) is gone
    // from the file, not merely unlinked (docs/receipts.md "Bodies and retention").
    db.pragma('secure_delete = ON');
    // Another process (the CLI's offline verifier) may hold a read lock for a moment.
    db.pragma('busy_timeout = 5000');
    migrate(db);
    return db;
  } catch (err) {
    db.close();
    throw err;
  }
}
