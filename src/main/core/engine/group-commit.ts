import type { SqliteDatabase } from '../store/database.ts';
import type { Ledger } from '../ledger/ledger.ts';
import { isStorageFull } from '../store/storage-full.ts';

interface Pending {
  /** Runs inside the group transaction. */
  run: () => void;
  /** Called after COMMIT. */
  settle: () => void;
  /** Called when the group transaction itself failed. */
  reject: (err: unknown) => void;
}

/**
 * Group commit: the work submitted in one event-loop turn runs in one write transaction,
 * each piece in its own savepoint (one piece's failure cannot undo the others'), and every
 * promise settles only after the transaction holding its receipts has committed. One fsync
 * then covers many requests, which is what makes synchronous=FULL affordable.
 */
export class GroupCommit {
  private queue: Pending[] = [];
  private scheduled = false;

  constructor(
    private readonly db: SqliteDatabase,
    private readonly ledger: Ledger,
  ) {}

  /**
   * Runs `work` inside the next group transaction. If it throws, its savepoint is rolled back
   * and `recover` (in a savepoint of its own) gives the result instead. When storage is full
   * there is nothing to recover with: the promise rejects with the storage error.
   */
  submit<T>(work: () => T, recover: (err: unknown) => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      let outcome: T;
      let full: unknown = null;
      const run = () => {
        const mark = this.ledger.uncommittedCount();
        try {
          outcome = this.db.transaction(work)();
        } catch (err) {
          this.ledger.forgetAfter(mark);
          // SQLite may have rolled the whole group back on its own (it does on SQLITE_FULL):
          // then none of the group's work exists, and every piece must fail with it.
          if (!this.db.inTransaction) throw err;
          // With no room left nothing can be witnessed, recover's receipt included: this piece
          // fails alone and the rest of the group still commits.
          if (isStorageFull(err)) {
            full = err;
            return;
          }
          try {
            outcome = this.db.transaction(() => recover(err))();
          } catch (recoverErr) {
            this.ledger.forgetAfter(mark);
            if (!this.db.inTransaction || !isStorageFull(recoverErr)) throw recoverErr;
            full = recoverErr;
          }
        }
      };
      this.queue.push({ run, settle: () => (full === null ? resolve(outcome) : reject(full)), reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    const batch = this.queue;
    this.queue = [];
    this.scheduled = false;
    try {
      this.db
        .transaction(() => {
          for (const p of batch) p.run();
        })
        .immediate();
    } catch (err) {
      this.ledger.discardUncommitted();
      for (const p of batch) p.reject(err);
      return;
    }
    this.ledger.publishCommitted();
    for (const p of batch) p.settle();
  }
}
