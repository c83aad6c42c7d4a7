import type { SqliteDatabase } from '../../store/database.ts';
import { hashesEqual, leafHash, StreamingRoot } from '../merkle/rfc9162.ts';

export interface SavedCheckpoint {
  size: number;
  root: Uint8Array;
  /** Where it came from (a file), for the verdict. */
  source: string;
}

export interface CheckpointVerdict {
  ok: boolean;
  ledgerSize: number;
  /** The largest saved checkpoint the ledger still agrees with. */
  agreesWith: SavedCheckpoint | null;
  /** The first saved checkpoint it does not agree with, and how. */
  partsFrom: SavedCheckpoint | null;
  problem: string | null;
}

/**
 * Checks, as receipts' hashes stream past in seq order, that the ledger extends every
 * checkpoint a reviewer saved: a ledger shorter than one was truncated; one whose root at that
 * size differs was rewritten (a fork). Pure, so any store can feed it (compareWithCheckpoints
 * below for SQLite). Names the first checkpoint it parts from and the last one it still agrees with.
 */
export class CheckpointMatcher {
  private readonly ordered: SavedCheckpoint[];
  private readonly tree = new StreamingRoot();
  private next = 0;
  private agreesWith: SavedCheckpoint | null = null;
  private verdict: CheckpointVerdict | null = null;

  constructor(saved: readonly SavedCheckpoint[]) {
    this.ordered = [...saved].sort((a, b) => a.size - b.size);
    this.settle();
  }

  /** Whether it still needs receipts (a verdict is reached, or every checkpoint is passed, once it does not). */
  get wantsMore(): boolean {
    return this.verdict === null && this.next < this.ordered.length;
  }

  /** The next receipt's hash (lowercase hex). */
  push(receiptHash: string): void {
    if (!this.wantsMore) return;
    this.tree.push(leafHash(Buffer.from(receiptHash, 'hex')));
    this.settle();
  }

  /** The verdict once every receipt is pushed. */
  finish(ledgerSize: number): CheckpointVerdict {
    if (this.verdict) return { ...this.verdict, ledgerSize };
    const beyond = this.ordered[this.next];
    if (beyond !== undefined) {
      return this.partsAt(
        beyond,
        ledgerSize,
        `the ledger has ${ledgerSize} receipts, fewer than the ${beyond.size} that checkpoint ${beyond.source} covers: receipts were removed`,
      );
    }
    return { ok: true, ledgerSize, agreesWith: this.agreesWith, partsFrom: null, problem: null };
  }

  private partsAt(c: SavedCheckpoint, ledgerSize: number, problem: string): CheckpointVerdict {
    const agreesWith = this.agreesWith;
    return {
      ok: false,
      ledgerSize,
      agreesWith,
      partsFrom: c,
      problem: `${problem}${agreesWith ? ` (it still agrees with the checkpoint of size ${agreesWith.size} from ${agreesWith.source})` : ''}`,
    };
  }

  private settle(): void {
    for (let c = this.ordered[this.next]; c !== undefined && c.size === this.tree.size; c = this.ordered[++this.next]) {
      if (!hashesEqual(this.tree.root(), c.root)) {
        this.verdict = this.partsAt(
          c,
          0,
          `the ledger's first ${c.size} receipts are not the ones checkpoint ${c.source} covers: they were rewritten (a fork)`,
        );
        return;
      }
      this.agreesWith = c;
    }
  }
}

/** CheckpointMatcher over a SQLite ledger, recomputing the tree from the receipts' own hashes (never from the stored nodes). */
export function compareWithCheckpoints(db: SqliteDatabase, saved: readonly SavedCheckpoint[]): CheckpointVerdict {
  const ledgerSize = db.prepare('SELECT coalesce(max(seq), 0) FROM receipts').pluck().get() as number;
  const matcher = new CheckpointMatcher(saved);
  for (const hex of db.prepare('SELECT hash FROM receipts ORDER BY seq').pluck().iterate() as IterableIterator<string>) {
    if (!matcher.wantsMore) break;
    matcher.push(hex);
  }
  return matcher.finish(ledgerSize);
}
