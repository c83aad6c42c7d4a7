/** Signed checkpoints of the receipts' Merkle tree, with the SQLite CheckpointTable's methods. */
import type { StoredCheckpoint } from '../ledger/checkpoint/checkpoint-table.ts';
import type { JoinsWitness } from './joins-witness.ts';

export type { StoredCheckpoint };

export interface CheckpointRecords extends JoinsWitness<CheckpointRecords> {
  /** The checkpoint of the largest tree, or null before the first. */
  latest(): Promise<StoredCheckpoint | null>;
  at(size: number): Promise<StoredCheckpoint | null>;
  /** Rejects with RecordConflict when a checkpoint of that size exists: one per size, never replaced. */
  insert(checkpoint: StoredCheckpoint): Promise<void>;
}
