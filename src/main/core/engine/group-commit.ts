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
 * Group commit: the work submitted in one event-loop turn runs in one witnessed write
 * (`Ledger.witness`), each piece in its own savepoint (`Ledger.savepoint`: one piece's failure
 * cannot undo the others'), and every promise settles only after the transaction holding its
 * receipts has committed. One fsync then covers many requests, which is what makes
 * synchronous=FULL affordable.
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
        try {
          outcome = this.ledger.savepoint(work);
        } catch (err) {
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
            outcome = this.ledger.savepoint(() => recover(err));
          } catch (recoverErr) {
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
      this.ledger.witness(() => {
        for (const p of batch) p.run();
      });
    } catch (err) {
      for (const p of batch) p.reject(err);
      return;
    }
    for (const p of batch) p.settle();
  }
}
