import { Worker } from 'node:worker_threads';
import { createRequire } from 'node:module';
import type { SqliteDatabase } from './database.ts';

/**
 * The thread's whole program, given to the Worker as text so it runs the same under tsx and in
 * the bundled Electron main process; better-sqlite3 is loaded from the path the main thread
 * resolved. A PASSIVE checkpoint never takes the write lock and never waits: it copies what the
 * WAL holds into the database file as far as readers allow, and fsyncs both.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.sqlite);
const db = new Database(workerData.path, { fileMustExist: true });
db.pragma('busy_timeout = 0');
const checkpoint = () => { try { db.pragma('wal_checkpoint(PASSIVE)'); } catch {} };
const timer = setInterval(checkpoint, workerData.everyMs);
parentPort.on('message', () => {
  clearInterval(timer);
  checkpoint();
  db.close();
  Atomics.store(workerData.closed, 0, 1);
  Atomics.notify(workerData.closed, 0);
  parentPort.close();
});
`;

/** The WAL size at which a commit on the event loop checkpoints anyway (the thread has fallen behind). */
const FALLBACK_PAGES = 16_384;

/**
 * WAL checkpoints on a thread of their own. SQLite's automatic checkpoint runs inside the
 * COMMIT that crosses 1,000 WAL pages, on the writer's thread, copying pages and fsyncing the
 * database file while every request in that group commit waits; on the event loop that was a
 * large share of each execution's cost. Here a second connection checkpoints every `everyMs`,
 * and the writer's own automatic checkpoint is kept only as a backstop at 64 MiB of WAL.
 * Durability is unchanged: a commit is durable in the WAL (FULL) or survives a crash of the
 * process (NORMAL) exactly as before; checkpoints only move committed pages into the main file.
 */
export class WalCheckpointer {
  private readonly worker: Worker | null;
  /** Set to 1 by the thread once its connection is closed. */
  private readonly closed = new Int32Array(new SharedArrayBuffer(4));

  constructor(
    private readonly db: SqliteDatabase,
    everyMs = 100,
  ) {
    // An in-memory or read-only database has no WAL to share with another connection.
    if (db.memory || db.readonly || db.pragma('journal_mode', { simple: true }) !== 'wal') {
      this.worker = null;
      return;
    }
    db.pragma(`wal_autocheckpoint = ${FALLBACK_PAGES}`);
    const sqlite = createRequire(import.meta.url).resolve('better-sqlite3');
    this.worker = new Worker(WORKER_SOURCE, {
      eval: true,
      execArgv: [],
      workerData: { sqlite, path: db.name, everyMs, closed: this.closed },
    });
    // It never holds the process open; close() ends it with one last checkpoint.
    this.worker.unref();
    this.worker.on('error', () => this.selfCheckpointing());
    // A thread that has stopped holds no connection: close() then has nothing to wait for.
    this.worker.on('exit', () => Atomics.store(this.closed, 0, 1));
  }

  /** SQLite's default: a commit that takes the WAL past 1,000 pages checkpoints it. */
  private selfCheckpointing(): void {
    if (this.db.open) this.db.pragma('wal_autocheckpoint = 1000');
  }

  /**
   * Stops the thread after a last checkpoint and waits (blocking, at most 10 s) until its
   * connection is closed, so that when the caller then closes its own, the database's files are
   * as they always were after a close: nothing else holds them, or writes them afterwards.
   * The writer checkpoints for itself again.
   */
  close(): void {
    if (this.worker && this.closed[0] === 0) {
      this.worker.postMessage('close');
      Atomics.wait(this.closed, 0, 0, 10_000);
      void this.worker.terminate();
    }
    this.selfCheckpointing();
  }
}
