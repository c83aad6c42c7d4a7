import type { Ed25519Signer, Ed25519Verifier } from '../../crypto/ed25519.ts';
import { base64ToBytes } from '../../../../shared/crypto/ed25519-verify.ts';
import { noteSignedBy, NoteFormatError, parseNote, signNote, type ParsedNote } from './signed-note.ts';

/**
 * C2SP tlog-checkpoint inside a signed note: the origin line, the tree size in decimal, the
 * base64 root hash, each ending in a newline. The origin names this ledger by its receipt key,
 * and the receipt key signs under the origin as its key name.
 */

export interface CheckpointBody {
  origin: string;
  size: number;
  root: Uint8Array;
}

export interface VerifiedCheckpoint extends CheckpointBody {
  /** The whole signed note, as issued (possibly with co-signatures). */
  note: string;
}

export function ledgerOrigin(receiptKeyId: string): string {
  return `openexec.local/receipts/${receiptKeyId}`;
}

export function operatorWitnessName(operatorKeyId: string): string {
  return `openexec.local/operator/${operatorKeyId}`;
}

export function checkpointText(body: CheckpointBody): string {
  return `${body.origin}\n${body.size}\n${Buffer.from(body.root).toString('base64')}\n`;
}

export function signCheckpoint(body: CheckpointBody, receiptSigner: Ed25519Signer): string {
  return signNote(checkpointText(body), body.origin, receiptSigner);
}

export class CheckpointError extends Error {
  readonly code = 'checkpoint';
}

/** A checkpoint note's body, read but not yet trusted: its signatures are checked by verifyCheckpointNote. */
export function readCheckpointNote(note: string): CheckpointBody & { parsed: ParsedNote } {
  let parsed;
  try {
    parsed = parseNote(note);
  } catch (err) {
    throw new CheckpointError(err instanceof NoteFormatError ? err.message : String(err));
  }
  const lines = parsed.text.split('\n');
  const [origin, sizeText, rootText] = lines;
  if (origin === undefined || sizeText === undefined || rootText === undefined)
    throw new CheckpointError('not a checkpoint: fewer than three lines');
  if (!/^(0|[1-9]\d{0,15})$/.test(sizeText)) throw new CheckpointError(`not a checkpoint: tree size '${sizeText}' is not a decimal number`);
  const root = base64ToBytes(rootText);
  if (root === null || root.length !== 32) throw new CheckpointError('not a checkpoint: the root is not base64 of 32 bytes');
  return { origin, size: Number(sizeText), root, parsed };
}

/**
 * Parses a checkpoint note and checks the receipt key's signature on it. Refuses a note for
 * another ledger (origin), a malformed body, or a missing or bad signature.
 */
export function verifyCheckpointNote(note: string, receiptVerifier: Ed25519Verifier): VerifiedCheckpoint {
  const { origin, size, root, parsed } = readCheckpointNote(note);
  const expected = ledgerOrigin(receiptVerifier.keyId);
  if (origin !== expected) throw new CheckpointError(`checkpoint is for '${origin}', not this ledger ('${expected}')`);
  if (!noteSignedBy(parsed, origin, receiptVerifier))
    throw new CheckpointError('checkpoint signature does not verify with the receipt key');
  return { origin, size, root, note };
}
