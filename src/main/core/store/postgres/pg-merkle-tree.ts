import {
  consistencyProof,
  EMPTY_ROOT,
  inclusionProof,
  leafHash,
  subtreeFromPerfect,
  type Hash,
  type SubtreeHash,
} from '../../ledger/merkle/rfc9162.ts';
import type { MerkleTreeReads } from '../../ledger/merkle/merkle-tree-reads.ts';
import type { PgSession } from './pg-session.ts';
import { registrationSeq } from './pg-receipt-keys.ts';

const key = (level: number, index: number) => `${level}/${index}`;
const PLACEHOLDER: Hash = new Uint8Array(32);

/**
 * The receipts' RFC 9162 tree as the PostgreSQL store keeps it (`merkle_nodes`, written in each
 * append's transaction, pg-transaction.ts; level 0 is `receipts.hash`), read with the pure
 * proof code of src/main/core/ledger/merkle. A proof's shape depends only on the sizes, so each
 * answer is computed twice: once to learn which stored subtrees it needs, then again over
 * those, fetched in one query: O(log n) rows per root or proof. What it reads for a size no
 * larger than the ledger's never changes (receipts and nodes are append-only, committed together).
 */
export class PostgresMerkleTree implements MerkleTreeReads {
  constructor(private readonly db: PgSession) {}

  /** How many receipts (leaves) the ledger holds now. */
  async size(): Promise<number> {
    const { rows } = await this.db.query<{ n: string }>('SELECT coalesce(max(seq), 0) AS n FROM receipts');
    return Number(rows[0]!.n);
  }

  async root(size: number): Promise<Hash> {
    return size === 0 ? EMPTY_ROOT : this.evaluate((mth) => mth(0, size));
  }

  inclusion(index: number, size: number): Promise<Hash[]> {
    return this.evaluate((mth) => inclusionProof(index, size, mth));
  }

  consistency(first: number, second: number): Promise<Hash[]> {
    return this.evaluate((mth) => consistencyProof(first, second, mth));
  }

  /** Leaf `index`'s entry: the hash of receipt seq index + 1. */
  async receiptHashAt(index: number): Promise<Hash> {
    const { rows } = await this.db.query<{ hash: string }>('SELECT hash FROM receipts WHERE seq = $1', [index + 1]);
    if (rows[0] === undefined) throw new Error(`no receipt ${index + 1} in the ledger`);
    return Buffer.from(rows[0].hash, 'hex');
  }

  /** Each instance's key is registered by a `config` receipt when it first appends (pg-receipt-keys.ts). */
  keyRegisteredAt(keyId: string): Promise<number | null> {
    return registrationSeq(this.db, keyId);
  }

  private async evaluate<T>(compute: (mth: SubtreeHash) => T): Promise<T> {
    const needed = new Map<string, { level: number; index: number }>();
    compute(
      subtreeFromPerfect((level, index) => {
        needed.set(key(level, index), { level, index });
        return PLACEHOLDER;
      }),
    );
    const stored = await this.perfect([...needed.values()]);
    return compute(subtreeFromPerfect((level, index) => stored.get(key(level, index))!));
  }

  /** The perfect subtrees asked for: leaves from `receipts`, larger ones from `merkle_nodes`. */
  private async perfect(nodes: { level: number; index: number }[]): Promise<Map<string, Hash>> {
    const { rows } = await this.db.query<{ level: number; idx: string; hash: Buffer | string | null }>(
      `SELECT k.level, k.idx, CASE WHEN k.level = 0 THEN r.hash ELSE encode(n.hash, 'hex') END AS hash
       FROM unnest($1::integer[], $2::bigint[]) AS k (level, idx)
       LEFT JOIN merkle_nodes n ON k.level > 0 AND n.level = k.level AND n.idx = k.idx
       LEFT JOIN receipts r ON k.level = 0 AND r.seq = k.idx + 1`,
      [nodes.map((n) => n.level), nodes.map((n) => n.index)],
    );
    const found = new Map<string, Hash>();
    for (const r of rows) {
      if (typeof r.hash !== 'string') throw new Error(`Merkle node ${r.level}/${r.idx} is missing`);
      const hash = Buffer.from(r.hash, 'hex');
      found.set(key(r.level, Number(r.idx)), r.level === 0 ? leafHash(hash) : hash);
    }
    return found;
  }
}
