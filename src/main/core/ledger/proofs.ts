import { Refusal } from '../errors.ts';
import type { MerkleTreeReads } from './merkle/merkle-tree-reads.ts';
import { leafHash } from './merkle/rfc9162.ts';
import { readCheckpointNote } from './checkpoint/checkpoint-note.ts';
import type { Checkpoints, StoredCheckpoint } from './checkpoint/checkpoints.ts';

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

/** A checkpoint as the API and the CLI give it: the signed note is what a reviewer keeps. */
export interface CheckpointView {
  origin: string;
  size: number;
  root_hash: string;
  created_at: string;
  note: string;
}

export interface InclusionView {
  seq: number;
  leaf_index: number;
  tree_size: number;
  /** SHA-256(0x00 ‖ receipt hash): the leaf the proof starts from. */
  leaf_hash: string;
  receipt_hash: string;
  proof: string[];
  root_hash: string;
}

export interface ConsistencyView {
  from: number;
  to: number;
  from_root: string;
  to_root: string;
  proof: string[];
}

/**
 * Inclusion and consistency proofs over the receipts' Merkle tree, on either engine, as plain
 * JSON-ready values for the API, the console and the CLI. Bad arguments are refusals with a
 * clear detail.
 */
export class LedgerProofs {
  constructor(
    private readonly tree: MerkleTreeReads,
    private readonly checkpoints: Checkpoints,
  ) {}

  /** The origin is read from the note: on a shared ledger another instance may have signed it. */
  checkpointView(c: StoredCheckpoint): CheckpointView {
    return { origin: readCheckpointNote(c.note).origin, size: c.size, root_hash: hex(c.root), created_at: c.createdAt, note: c.note };
  }

  /** The latest stored checkpoint; 404 before the first one is issued. */
  async latestCheckpoint(): Promise<CheckpointView> {
    const c = await this.checkpoints.latest();
    if (c === null) throw new Refusal('not_found', 'No checkpoint has been issued yet');
    return this.checkpointView(c);
  }

  /** Proof that receipt `seq` is in the tree of `size` (default: the latest checkpoint's size). */
  async inclusion(seq: number, size?: number): Promise<InclusionView> {
    const current = await this.tree.size();
    return this.proveInclusion(seq, size ?? (await this.checkpoints.latest())?.size ?? current, current);
  }

  /** Proof that receipt `seq` is in the tree of `treeSize`. */
  async inclusionIn(seq: number, treeSize: number): Promise<InclusionView> {
    return this.proveInclusion(seq, treeSize, await this.tree.size());
  }

  private async proveInclusion(seq: number, treeSize: number, current: number): Promise<InclusionView> {
    checkInclusionArgs(seq, treeSize, current);
    const [receiptHash, proof, root] = await Promise.all([
      this.tree.receiptHashAt(seq - 1),
      this.tree.inclusion(seq - 1, treeSize),
      this.tree.root(treeSize),
    ]);
    return {
      seq,
      leaf_index: seq - 1,
      tree_size: treeSize,
      leaf_hash: hex(leafHash(receiptHash)),
      receipt_hash: hex(receiptHash),
      proof: proof.map(hex),
      root_hash: hex(root),
    };
  }

  /** Proof that the tree of size `from` is a prefix of the tree of size `to` (default: now). */
  async consistency(from: number, to?: number): Promise<ConsistencyView> {
    const current = await this.tree.size();
    const toSize = to ?? current;
    checkConsistencyArgs(from, toSize, current);
    const [fromRoot, toRoot, proof] = await Promise.all([
      this.tree.root(from),
      this.tree.root(toSize),
      this.tree.consistency(from, toSize),
    ]);
    return { from, to: toSize, from_root: hex(fromRoot), to_root: hex(toRoot), proof: proof.map(hex) };
  }
}

function checkSize(size: number, name: string, current: number): void {
  if (!(Number.isSafeInteger(size) && size >= 0)) throw new Refusal('invalid_request', `${name} must be a whole number`);
  if (size > current) throw new Refusal('invalid_request', `${name} ${size} is larger than the ledger (${current} receipts)`);
}

/** Refuses an inclusion proof of `seq` in a tree of `treeSize` leaves, a ledger holding `current`. */
export function checkInclusionArgs(seq: number, treeSize: number, current: number): void {
  checkSize(treeSize, 'size', current);
  if (!(Number.isSafeInteger(seq) && seq >= 1 && seq <= treeSize)) {
    throw new Refusal('invalid_request', `Receipt ${seq} is not in a tree of size ${treeSize}`);
  }
}

/** Refuses a consistency proof from `from` leaves to `toSize`, a ledger holding `current`. */
export function checkConsistencyArgs(from: number, toSize: number, current: number): void {
  checkSize(toSize, 'to', current);
  if (!(Number.isSafeInteger(from) && from >= 0 && from <= toSize)) {
    throw new Refusal('invalid_request', `from must be a size from 0 to ${toSize}, got ${from}`);
  }
}
