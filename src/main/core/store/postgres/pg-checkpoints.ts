import { Ed25519Verifier, parsePublicKeyPem } from '../../crypto/ed25519.ts';
import {
  CheckpointError,
  readCheckpointNote,
  verifyCheckpointNote,
  type VerifiedCheckpoint,
} from '../../ledger/checkpoint/checkpoint-note.ts';
import type { LedgerKey } from './pg-ledger-keys.ts';

const ORIGIN = /^openexec\.local\/receipts\/([0-9a-f]{16})$/;

export interface RegisteredCheckpoint extends VerifiedCheckpoint {
  /** The registered receipt key that signed it. */
  keyId: string;
}

/**
 * Verifies a checkpoint of a PostgreSQL ledger against the keys the ledger registered (as
 * verifyStoreChain or verifyPostgresLedger return them, pinned or not): its origin must name
 * one of them, registered within the receipts the checkpoint covers, and that key must sign it.
 * Throws CheckpointError naming what is wrong.
 */
export function verifyRegisteredCheckpoint(note: string, keys: readonly LedgerKey[]): RegisteredCheckpoint {
  const { origin, size } = readCheckpointNote(note);
  const keyId = ORIGIN.exec(origin)?.[1];
  if (keyId === undefined) throw new CheckpointError(`checkpoint is for '${origin}', not an OpenExec ledger`);
  const key = keys.find((k) => k.keyId === keyId);
  if (key === undefined) throw new CheckpointError(`checkpoint is signed for receipt key ${keyId}, which the ledger does not register`);
  if (key.seq > size) {
    throw new CheckpointError(`checkpoint of ${size} receipts is signed by receipt key ${keyId}, registered only at receipt ${key.seq}`);
  }
  return { ...verifyCheckpointNote(note, new Ed25519Verifier(parsePublicKeyPem(key.publicKeyPem))), keyId };
}
