import { isoUtc, type Clock } from '../../clock.ts';
import { Ed25519Verifier, parsePublicKeyPem, type Ed25519Signer } from '../../crypto/ed25519.ts';
import {
  CheckpointError,
  ledgerOrigin,
  readCheckpointNote,
  signCheckpoint,
  verifyCheckpointNote,
  type VerifiedCheckpoint,
} from '../../ledger/checkpoint/checkpoint-note.ts';
import { Refusal } from '../../errors.ts';
import type { CheckpointRecords, StoredCheckpoint } from '../checkpoint-records.ts';
import { RecordConflict } from '../record-conflict.ts';
import type { LedgerKey } from './pg-ledger-keys.ts';
import type { PostgresMerkleTree } from './pg-merkle-tree.ts';
import { registrationSeq } from './pg-receipt-keys.ts';
import type { PgSession } from './pg-session.ts';

const ORIGIN = /^openexec\.local\/receipts\/([0-9a-f]{16})$/;

/**
 * A checkpoint of the shared ledger, signed by the instance that issues it: the note's origin
 * names that instance's receipt key (`openexec.local/receipts/<key id>`, as on SQLite) and the
 * key signs under it. Issued only once the ledger's first `size` receipts hold the key's
 * registration, so the checkpoint covers the receipt that makes its signer verifiable. One per
 * size: an instance that loses the race to another returns the other's checkpoint.
 */
export async function issuePostgresCheckpoint(
  db: PgSession,
  tree: PostgresMerkleTree,
  records: CheckpointRecords,
  signer: Ed25519Signer,
  clock: Clock,
): Promise<StoredCheckpoint> {
  const size = await tree.size();
  const existing = await records.at(size);
  if (existing) return existing;
  const registered = await registrationSeq(db, signer.keyId);
  if (registered === null || registered > size) {
    throw new Refusal(
      'conflict',
      `receipt key ${signer.keyId} is not registered in the ledger's first ${size} receipts: an instance signs checkpoints once it has appended a receipt`,
    );
  }
  const root = await tree.root(size);
  const note = signCheckpoint({ origin: ledgerOrigin(signer.keyId), size, root }, signer);
  const issued: StoredCheckpoint = { size, root, note, createdAt: isoUtc(clock.now()) };
  try {
    await records.insert(issued);
  } catch (err) {
    if (!(err instanceof RecordConflict)) throw err;
    const theirs = await records.at(size);
    if (theirs === null) throw err;
    return theirs;
  }
  return issued;
}

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
