import type { SqliteDatabase } from '../store/database.ts';
import type { Ledger } from '../ledger/ledger.ts';

interface Pending<I, O> {
  item: I;
  resolve: (outcome: O) => void;
  reject: (err: unknown) => void;
}

/**
 * Group commit: the items submitted in one event-loop turn are decided in one write
 * transaction, each in its own savepoint (one item's failure cannot undo the others'), and
 * every promise settles only after the transaction holding its receipts has committed.
 * One fsync then covers many requests, which is what makes synchronous=FULL affordable.
 */
export class GroupCommit<I, O> {
  private queue: Pending<I, O>[] = [];
  private scheduled = false;

  constructor(
    private readonly db: SqliteDatabase,
    private readonly ledger: Ledger,
    private readonly decide: (item: I) => O,
    /** Turns an unexpected error in one item's savepoint into that item's outcome. */
    private readonly recover: (item: I, err: unknown) => O,
  ) {}

  submit(item: I): Promise<O> {
    return new Promise((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
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
    const outcomes: O[] = [];
    try {
      this.db.transaction(() => {
        for (const { item } of batch) outcomes.push(this.isolated(item));
      }).immediate();
    } catch (err) {
      this.ledger.discardUncommitted();
      for (const p of batch) p.reject(err);
      return;
    }
    this.ledger.publishCommitted();
    batch.forEach((p, i) => p.resolve(outcomes[i]!));
  }

  private isolated(item: I): O {
    const mark = this.ledger.uncommittedCount();
    try {
      return this.db.transaction(() => this.decide(item))();
    } catch (err) {
      this.ledger.forgetAfter(mark);
      return this.recover(item, err);
    }
  }
}
