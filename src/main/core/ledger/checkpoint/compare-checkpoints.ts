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
 * Recomputes the tree from the receipts' own hashes (never from the stored nodes) and checks
 * that the ledger extends every checkpoint a reviewer saved: a ledger shorter than one was
 * truncated; one whose root at that size differs was rewritten (a fork). Names the first
 * checkpoint it parts from and the last one it still agrees with.
 */
export function compareWithCheckpoints(db: SqliteDatabase, saved: readonly SavedCheckpoint[]): CheckpointVerdict {
  const ordered = [...saved].sort((a, b) => a.size - b.size);
  const ledgerSize = db.prepare('SELECT coalesce(max(seq), 0) FROM receipts').pluck().get() as number;
  const tree = new StreamingRoot();
  let next = 0;
  let agreesWith: SavedCheckpoint | null = null;
  const verdictAt = (c: SavedCheckpoint, problem: string): CheckpointVerdict => ({
    ok: false,
    ledgerSize,
    agreesWith,
    partsFrom: c,
    problem: `${problem}${agreesWith ? ` (it still agrees with the checkpoint of size ${agreesWith.size} from ${agreesWith.source})` : ''}`,
  });
  const settle = (): CheckpointVerdict | null => {
    for (let c = ordered[next]; c !== undefined && c.size === tree.size; c = ordered[++next]) {
      if (!hashesEqual(tree.root(), c.root)) {
        return verdictAt(
          c,
          `the ledger's first ${c.size} receipts are not the ones checkpoint ${c.source} covers: they were rewritten (a fork)`,
        );
      }
      agreesWith = c;
    }
    return null;
  };
  const early = settle();
  if (early) return early;
  for (const hex of db.prepare('SELECT hash FROM receipts ORDER BY seq').pluck().iterate() as IterableIterator<string>) {
    if (next >= ordered.length) break;
    tree.push(leafHash(Buffer.from(hex, 'hex')));
    const verdict = settle();
    if (verdict) return verdict;
  }
  const beyond = ordered[next];
  if (beyond !== undefined) {
    return verdictAt(
      beyond,
      `the ledger has ${ledgerSize} receipts, fewer than the ${beyond.size} that checkpoint ${beyond.source} covers: receipts were removed`,
    );
  }
  return { ok: true, ledgerSize, agreesWith, partsFrom: null, problem: null };
}
