import type { SqliteDatabase } from '../store/database.ts';
import { isStorageFull } from '../store/storage-full.ts';
import { parseJson } from '../json/parse.ts';
import { searchableText } from './searchable-text.ts';

/** Receipts indexed per transaction when a search catches the index up before it runs. */
const STEP = 5000;
/**
 * Receipts a background step indexes before it yields the event loop: about a millisecond of
 * work here (17 µs a receipt), so catching up never holds the requests in flight for longer. A
 * step of 5,000 took 70 ms; at concurrency 16 the 250 ms between steps gather about 300 (5 ms).
 */
export const BACKGROUND_SLICE = 64;
/** The longest a committed receipt waits for the index when no search asks for it first. */
export const CATCH_UP_MS = 250;

/**
 * The full-text index (`receipts_fts`) kept behind the ledger rather than inside each receipt's
 * transaction: an append costs no index write, and the index is caught up in bulk, one
 * transaction (and one FTS5 segment) for thousands of receipts instead of one per group commit.
 * What it indexes of a receipt is read back from what the receipt commits to (its payload's
 * words, its context: in its signed body, or beside it for format 2), so a step lost in a crash
 * is simply done again by the next.
 *
 * How fresh: the ledger runs a step at most `CATCH_UP_MS` after a commit, and every full-text
 * search catches the index up before it runs, so a search sees every committed receipt.
 */
export class SearchIndex {
  private readonly newest;
  private readonly unindexed;
  private readonly insert;
  /** The background step to come: the timer after a commit, or the next slice of a backlog. */
  private next: NodeJS.Timeout | NodeJS.Immediate | null = null;

  constructor(private readonly db: SqliteDatabase) {
    // Contentless FTS5 walks its rowids in order: the newest indexed seq in one b-tree descent.
    this.newest = db.prepare('SELECT rowid FROM receipts_fts ORDER BY rowid DESC LIMIT 1').pluck();
    // A receipt of format 2 keeps its payload and context beside it (receipt_bodies, null once
    // purged); one of format 1 embeds them in its signed body.
    this.unindexed = db.prepare(
      `SELECT r.seq, r.action, r.reason,
         coalesce((SELECT b.body FROM receipt_bodies b WHERE b.seq = r.seq AND b.field = 'context'),
                  json_extract(r.body, '$.context')) AS context,
         coalesce((SELECT b.body FROM receipt_bodies b WHERE b.seq = r.seq AND b.field = 'payload'),
                  json_extract(r.body, '$.payload')) AS payload
       FROM receipts r WHERE r.seq > ? ORDER BY r.seq LIMIT ?`,
    );
    this.insert = db.prepare('INSERT INTO receipts_fts (rowid, action, reason, context, payload) VALUES (?, ?, ?, ?, ?)');
  }

  /**
   * Indexes up to `limit` receipts the index lacks, in one write transaction (a savepoint when
   * the caller is in one); how many it did.
   */
  step(limit = STEP): number {
    return this.db
      .transaction(() => {
        const from = (this.newest.get() as number | undefined) ?? 0;
        const rows = this.unindexed.all(from, limit) as {
          seq: number;
          action: string | null;
          reason: string | null;
          context: string | null;
          payload: string | null;
        }[];
        for (const r of rows) {
          // json_extract gives an object's JSON text as written (big integers exact); a string
          // context comes back as the string.
          const payload = r.payload === null ? '' : searchableText(parseJson(r.payload));
          this.insert.run(r.seq, r.action, r.reason, r.context, payload);
        }
        return rows.length;
      })
      .immediate();
  }

  /**
   * Indexes every receipt committed so far. With the disk full there is no room for the index:
   * a search then runs on what is indexed, and the next step after space returns catches up.
   */
  catchUp(): void {
    if (this.db.readonly) return;
    try {
      while (this.step() === STEP);
    } catch (err) {
      if (!isStorageFull(err)) throw err;
    }
  }

  /**
   * Runs steps off the request path, from a timer: the first within `CATCH_UP_MS`, then the rest
   * of a backlog a slice at a time, each its own short transaction, with the event loop's other
   * work (group commits, requests) between them.
   */
  schedule(): void {
    if (this.next !== null || this.db.readonly) return;
    this.next = setTimeout(() => this.background(), CATCH_UP_MS).unref();
  }

  private background(): void {
    this.next = null;
    if (!this.db.open) return;
    try {
      if (this.step(BACKGROUND_SLICE) === BACKGROUND_SLICE) this.next = setImmediate(() => this.background()).unref();
    } catch {
      // Full or busy: the next commit's step tries again, and a search catches up for itself
      // (and reports any other failure to whoever searched).
    }
  }
}

const indexes = new WeakMap<SqliteDatabase, SearchIndex>();

/** The search index of a database connection (one per connection, its statements prepared once). */
export function searchIndexOf(db: SqliteDatabase): SearchIndex {
  let index = indexes.get(db);
  if (!index) indexes.set(db, (index = new SearchIndex(db)));
  return index;
}
