import type { SqliteDatabase } from '../../store/database.ts';
import {
  consistencyProof,
  EMPTY_ROOT,
  inclusionProof,
  leafHash,
  nodeHash,
  subtreeFromPerfect,
  type Hash,
  type SubtreeHash,
} from './rfc9162.ts';

/**
 * The ledger's Merkle tree (RFC 9162) in the database, owner of `merkle_nodes`. Leaf i is the
 * receipt with seq i + 1, and its entry is that receipt's 32-byte hash (SHA-256 of the body):
 * leaf hash = SHA-256(0x00 ‖ receipt hash). Every perfect, aligned subtree of two or more
 * leaves is stored once, when its last leaf is appended (about one row per receipt), so any
 * root or proof costs O(log n) primary-key reads; level 0 is read from `receipts.hash`.
 */
export class MerkleStore {
  private readonly node;
  private readonly leaf;
  private readonly insert;

  constructor(db: SqliteDatabase) {
    this.node = db.prepare('SELECT hash FROM merkle_nodes WHERE level = ? AND idx = ?').pluck();
    this.leaf = db.prepare('SELECT hash FROM receipts WHERE seq = ?').pluck();
    this.insert = db.prepare('INSERT INTO merkle_nodes (level, idx, hash) VALUES (?, ?, ?)');
  }

  /**
   * Adds leaf `index` (its receipt just inserted, in the same transaction). `previousReceiptHash`
   * is the hash of receipt `index` (seq), which the caller already holds as the chain's tip.
   */
  append(index: number, receiptHash: Hash, previousReceiptHash: Hash | null): void {
    let node = leafHash(receiptHash);
    let level = 0;
    let i = index;
    while (i % 2 === 1) {
      const left = level === 0 ? leafHash(previousReceiptHash ?? this.leafEntry(i - 1)) : this.stored(level, i - 1);
      node = nodeHash(left, node);
      level++;
      i = (i - 1) / 2;
      this.insert.run(level, i, node);
    }
  }

  root(size: number): Hash {
    return size === 0 ? EMPTY_ROOT : this.subtree(0, size);
  }

  inclusion(index: number, size: number): Hash[] {
    return inclusionProof(index, size, this.subtree);
  }

  consistency(first: number, second: number): Hash[] {
    return consistencyProof(first, second, this.subtree);
  }

  leafHashAt(index: number): Hash {
    return leafHash(this.leafEntry(index));
  }

  /** Leaf `index`'s entry: the hash of receipt seq index + 1. */
  receiptHashAt(index: number): Hash {
    return this.leafEntry(index);
  }

  private readonly subtree: SubtreeHash = subtreeFromPerfect((level, index) =>
    level === 0 ? this.leafHashAt(index) : this.stored(level, index),
  );

  private leafEntry(index: number): Hash {
    const hex = this.leaf.get(index + 1) as string | undefined;
    if (hex === undefined) throw new Error(`no receipt ${index + 1} in the ledger`);
    return Buffer.from(hex, 'hex');
  }

  private stored(level: number, index: number): Hash {
    const hash = this.node.get(level, index) as Buffer | undefined;
    if (hash === undefined) throw new Error(`Merkle node ${level}/${index} is missing`);
    return hash;
  }
}

/** Builds the stored nodes for a ledger that predates the tree (migration). */
export function backfillMerkleNodes(db: SqliteDatabase): void {
  const store = new MerkleStore(db);
  // Pages, not one open cursor: the connection cannot write while a statement iterates.
  const page = db.prepare('SELECT hash FROM receipts WHERE seq > ? ORDER BY seq LIMIT 10000').pluck();
  let previous: Hash | null = null;
  let index = 0;
  for (let rows = page.all(0) as string[]; rows.length > 0; rows = page.all(index) as string[]) {
    for (const hex of rows) {
      const hash = Buffer.from(hex, 'hex');
      store.append(index++, hash, previous);
      previous = hash;
    }
  }
}
