import { existsSync, readFileSync } from 'node:fs';
import type { SqliteDatabase } from '../../src/main/core/store/database.ts';
import type { OpenExecCore } from '../../src/main/core/openexec-core.ts';
import type { WalCheckpointer } from '../../src/main/core/store/wal-checkpointer.ts';
import { rawDb } from './raw-db.ts';

/** The WAL's frames since it was last reset: each page written, and how many commits. */
export interface WalFrames {
  pageSize: number;
  /** Page number of every valid frame, in order. */
  pages: number[];
  commits: number;
}

const HEADER = 32;
const FRAME_HEADER = 24;

/**
 * Stops the core's WAL checkpoints (its thread and SQLite's automatic one), so the WAL keeps
 * every frame written from now on; empties it first. Returns the core's connection.
 */
export function keepEveryWalFrame(core: OpenExecCore): SqliteDatabase {
  // The core's storage is private; on SQLite it holds the checkpoint thread (SqliteStorage).
  const checkpointer = (core as unknown as { storage?: { checkpointer?: WalCheckpointer } }).storage?.checkpointer;
  if (checkpointer === undefined)
    throw new Error('OpenExecCore keeps its WAL checkpointer elsewhere now: update test/support/wal-frames.ts');
  checkpointer.close();
  const db = rawDb(core);
  db.pragma('wal_autocheckpoint = 0');
  db.pragma('wal_checkpoint(TRUNCATE)');
  return db;
}

/**
 * Reads a WAL file as SQLite wrote it (https://sqlite.org/fileformat2.html#walformat): a frame
 * belongs to the current WAL when its salts are the header's; a frame with a non-zero "database
 * size" field ends a commit. SQLite writes a page once per commit (a page written again in the
 * same transaction overwrites its frame), so the frames are the pages each commit dirtied.
 */
export function readWalFrames(walPath: string): WalFrames {
  if (!existsSync(walPath)) return { pageSize: 0, pages: [], commits: 0 };
  const wal = readFileSync(walPath);
  if (wal.length < HEADER) return { pageSize: 0, pages: [], commits: 0 };
  const pageSize = wal.readUInt32BE(8);
  const salt1 = wal.readUInt32BE(16);
  const salt2 = wal.readUInt32BE(20);
  const pages: number[] = [];
  let commits = 0;
  for (let at = HEADER; at + FRAME_HEADER + pageSize <= wal.length; at += FRAME_HEADER + pageSize) {
    if (wal.readUInt32BE(at + 8) !== salt1 || wal.readUInt32BE(at + 12) !== salt2) break;
    pages.push(wal.readUInt32BE(at));
    if (wal.readUInt32BE(at + 4) !== 0) commits++;
  }
  return { pageSize, pages, commits };
}

/**
 * The b-tree (table or index, by name) each page of the database belongs to, from SQLite's
 * dbstat (which reads through the WAL); pages it does not list are free.
 */
export function btreeOfPages(db: SqliteDatabase): Map<number, string> {
  const rows = db.prepare('SELECT pageno, name FROM dbstat').all() as { pageno: number; name: string }[];
  return new Map(rows.map((r) => [r.pageno, r.name]));
}

/** How many frames each b-tree had, most first. */
export function framesByBtree(frames: WalFrames, owners: Map<number, string>): [string, number][] {
  const counts = new Map<string, number>();
  for (const page of frames.pages) {
    const name = owners.get(page) ?? '(free pages)';
    counts.set(name, (counts.get(name) ?? 0) + 1);
  }
  return [...counts.entries()].sort((a, b) => b[1] - a[1]);
}
