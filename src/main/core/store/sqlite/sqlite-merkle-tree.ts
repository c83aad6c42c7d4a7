import type { Ledger } from '../../ledger/ledger.ts';
import type { MerkleTreeReads } from '../../ledger/merkle/merkle-tree-reads.ts';
import type { Hash } from '../../ledger/merkle/rfc9162.ts';

/**
 * The SQLite ledger's tree behind MerkleTreeReads. Each read is synchronous underneath and
 * settles at once, so it may be awaited inside a witnessed write (sqlite/within-turn.ts).
 */
export class SqliteMerkleTree implements MerkleTreeReads {
  constructor(private readonly ledger: Ledger) {}

  async size(): Promise<number> {
    return this.ledger.size();
  }

  async root(size: number): Promise<Hash> {
    return this.ledger.tree.root(size);
  }

  async inclusion(index: number, size: number): Promise<Hash[]> {
    return this.ledger.tree.inclusion(index, size);
  }

  async consistency(first: number, second: number): Promise<Hash[]> {
    return this.ledger.tree.consistency(first, second);
  }

  async receiptHashAt(index: number): Promise<Hash> {
    return this.ledger.tree.receiptHashAt(index);
  }

  async keyRegisteredAt(keyId: string): Promise<number | null> {
    // One receipt key signs the whole SQLite ledger (the core refuses any other at start-up).
    return keyId === this.ledger.keyId ? 0 : null;
  }
}
