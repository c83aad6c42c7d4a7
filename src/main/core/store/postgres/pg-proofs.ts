import type { Clock } from '../../clock.ts';
import type { Ed25519Signer } from '../../crypto/ed25519.ts';
import { Refusal } from '../../errors.ts';
import { readCheckpointNote } from '../../ledger/checkpoint/checkpoint-note.ts';
import { leafHash } from '../../ledger/merkle/rfc9162.ts';
import {
  checkConsistencyArgs,
  checkInclusionArgs,
  type CheckpointView,
  type ConsistencyView,
  type InclusionView,
} from '../../ledger/proofs.ts';
import type { CheckpointRecords, StoredCheckpoint } from '../checkpoint-records.ts';
import { issuePostgresCheckpoint } from './pg-checkpoints.ts';
import { PostgresMerkleTree } from './pg-merkle-tree.ts';
import type { PgSession } from './pg-session.ts';

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

/**
 * Checkpoints and proofs over a PostgreSQL ledger, as LedgerProofs gives them on SQLite (the
 * same JSON-ready views, the same refusals), for the core once it runs on PostgreSQL. Each
 * checkpoint is signed by this instance's receipt key and names it in its origin; a reviewer
 * verifies it against the keys the ledger registered (verifyRegisteredCheckpoint).
 */
export class PostgresLedgerProofs {
  readonly tree: PostgresMerkleTree;

  constructor(
    private readonly db: PgSession,
    private readonly checkpoints: CheckpointRecords,
    private readonly signer: Ed25519Signer,
    private readonly clock: Clock,
  ) {
    this.tree = new PostgresMerkleTree(db);
  }

  /** A checkpoint of the ledger as it is now (the stored one when nothing was added since). */
  issueCheckpoint(): Promise<StoredCheckpoint> {
    return issuePostgresCheckpoint(this.db, this.tree, this.checkpoints, this.signer, this.clock);
  }

  checkpointView(c: StoredCheckpoint): CheckpointView {
    return { origin: readCheckpointNote(c.note).origin, size: c.size, root_hash: hex(c.root), created_at: c.createdAt, note: c.note };
  }

  /** The latest stored checkpoint, whichever instance signed it; 404 before the first one is issued. */
  async latestCheckpoint(): Promise<CheckpointView> {
    const c = await this.checkpoints.latest();
    if (c === null) throw new Refusal('not_found', 'No checkpoint has been issued yet');
    return this.checkpointView(c);
  }

  /** Proof that receipt `seq` is in the tree of `size` (default: the latest checkpoint's size). */
  async inclusion(seq: number, size?: number): Promise<InclusionView> {
    const current = await this.tree.size();
    const treeSize = size ?? (await this.checkpoints.latest())?.size ?? current;
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
