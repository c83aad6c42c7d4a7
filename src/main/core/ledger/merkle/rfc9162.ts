import { createHash } from 'node:crypto';

/**
 * The Merkle tree of RFC 9162 (Certificate Transparency v2) §2.1, as pure functions: hashing
 * and proof generation over any source of subtree hashes. Verification is the RFC's own
 * algorithms in src/shared/merkle-verify.ts, shared with the renderer. Sizes and indexes are
 * plain numbers: a ledger stays far below 2^53 receipts.
 */

export type Hash = Uint8Array;

/** What a proof generator needs: MTH over leaves [lo, hi), hi > lo. */
export type SubtreeHash = (lo: number, hi: number) => Hash;

const LEAF_PREFIX = Uint8Array.of(0x00);
const NODE_PREFIX = Uint8Array.of(0x01);

/** MTH({}) = SHA-256 of the empty string. */
export const EMPTY_ROOT: Hash = sha256();

function sha256(...parts: Uint8Array[]): Hash {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
}

export function leafHash(entry: Uint8Array): Hash {
  return sha256(LEAF_PREFIX, entry);
}

export function nodeHash(left: Hash, right: Hash): Hash {
  return sha256(NODE_PREFIX, left, right);
}

/** The largest power of two strictly smaller than n (n ≥ 2). */
export function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

export function isPowerOfTwo(n: number): boolean {
  return n > 0 && (n & (n - 1)) === 0;
}

/** MTH over [lo, hi) built from perfect, aligned subtrees: O(log n) calls to `perfect`. */
export function subtreeFromPerfect(perfect: (level: number, index: number) => Hash): SubtreeHash {
  const mth = (lo: number, hi: number): Hash => {
    const n = hi - lo;
    if (isPowerOfTwo(n) && lo % n === 0) return perfect(Math.log2(n), lo / n);
    const k = splitPoint(n);
    return nodeHash(mth(lo, lo + k), mth(lo + k, hi));
  };
  return mth;
}

/** RFC 9162 §2.1.3.1: the audit path of leaf `index` in the tree of the first `size` leaves. */
export function inclusionProof(index: number, size: number, mth: SubtreeHash): Hash[] {
  if (!(index >= 0 && index < size)) throw new RangeError(`leaf ${index} is not in a tree of size ${size}`);
  const path: Hash[] = [];
  const walk = (m: number, lo: number, hi: number): void => {
    const n = hi - lo;
    if (n === 1) return;
    const k = splitPoint(n);
    if (m < k) {
      walk(m, lo, lo + k);
      path.push(mth(lo + k, hi));
    } else {
      walk(m - k, lo + k, hi);
      path.push(mth(lo, lo + k));
    }
  };
  walk(index, 0, size);
  return path;
}

/** RFC 9162 §2.1.4.1: proof that the tree of size `first` is a prefix of the tree of size `second`. */
export function consistencyProof(first: number, second: number, mth: SubtreeHash): Hash[] {
  if (!(first >= 0 && first <= second)) throw new RangeError(`no consistency proof from size ${first} to ${second}`);
  if (first === 0 || first === second) return [];
  const proof: Hash[] = [];
  const sub = (m: number, lo: number, hi: number, whole: boolean): void => {
    const n = hi - lo;
    if (m === n) {
      if (!whole) proof.push(mth(lo, hi));
      return;
    }
    const k = splitPoint(n);
    if (m <= k) {
      sub(m, lo, lo + k, whole);
      proof.push(mth(lo + k, hi));
    } else {
      sub(m - k, lo + k, hi, false);
      proof.push(mth(lo, lo + k));
    }
  };
  sub(first, 0, second, true);
  return proof;
}

export function hashesEqual(a: Hash, b: Hash): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}

/** A perfect, aligned subtree: leaves [index · 2^level, (index + 1) · 2^level). */
export interface PerfectNode {
  level: number;
  index: number;
  hash: Hash;
}

/**
 * The root of a tree grown one leaf at a time, keeping only the right frontier (at most
 * log2(n) perfect subtrees): how `verify-ledger` recomputes roots while it streams receipts,
 * independently of the nodes stored in the database.
 */
export class StreamingRoot {
  /** Perfect subtree roots, largest first; stack[i] covers 2^levels[i] leaves. */
  private readonly stack: { level: number; hash: Hash }[] = [];
  size = 0;

  /**
   * Adds the next leaf; returns the perfect subtrees of two or more leaves it completes, each
   * named as MerkleStore stores it (level, index at that level), smallest first.
   */
  push(leaf: Hash): PerfectNode[] {
    const completed: PerfectNode[] = [];
    let node = { level: 0, hash: leaf };
    for (let top = this.stack.at(-1); top !== undefined && top.level === node.level; top = this.stack.at(-1)) {
      this.stack.pop();
      node = { level: node.level + 1, hash: nodeHash(top.hash, node.hash) };
      completed.push({ level: node.level, index: (this.size + 1) / 2 ** node.level - 1, hash: node.hash });
    }
    this.stack.push(node);
    this.size++;
    return completed;
  }

  root(): Hash {
    if (this.stack.length === 0) return EMPTY_ROOT;
    let r = this.stack.at(-1)!.hash;
    for (let i = this.stack.length - 2; i >= 0; i--) r = nodeHash(this.stack[i]!.hash, r);
    return r;
  }
}
