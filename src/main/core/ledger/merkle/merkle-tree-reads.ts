import type { Hash } from './rfc9162.ts';

/**
 * The receipts' RFC 9162 tree as proofs and checkpoints read it, on either engine: SQLite's
 * MerkleStore (store/sqlite/sqlite-merkle-tree.ts) or PostgreSQL's stored nodes
 * (store/postgres/pg-merkle-tree.ts). Leaf i is receipt seq i + 1. What a size no larger than
 * `size()` reads never changes: receipts and their nodes are append-only and commit together.
 */
export interface MerkleTreeReads {
  /** How many receipts (leaves) the ledger holds now. */
  size(): Promise<number>;
  root(size: number): Promise<Hash>;
  inclusion(index: number, size: number): Promise<Hash[]>;
  consistency(first: number, second: number): Promise<Hash[]>;
  /** Leaf `index`'s entry: the hash of receipt seq index + 1. */
  receiptHashAt(index: number): Promise<Hash>;
  /**
   * The seq of the receipt that registered receipt key `keyId` in this ledger (a checkpoint it
   * signs must cover it), or null when the ledger does not register it. SQLite's ledger has one
   * receipt key, which signs it from its first receipt: 0.
   */
  keyRegisteredAt(keyId: string): Promise<number | null>;
}
