import { base64ToBytes, verifyEd25519 } from './crypto/ed25519-verify';

/** What a verified checkpoint commits the ledger to. */
export interface CheckpointClaim {
  origin: string;
  size: number;
  root: Uint8Array;
}

export type CheckpointVerdict = { ok: true; checkpoint: CheckpointClaim } | { ok: false; problem: string };

/**
 * Checks a C2SP signed-note checkpoint in the renderer (WebCrypto SHA-256, noble Ed25519),
 * independently of the main process: its text is this ledger's origin, a size and a base64
 * root, and it carries the receipt key's signature under that origin (key hash = first 4 bytes
 * of SHA-256(name ‖ 0x0A ‖ 0x01 ‖ key)). docs/receipts.md gives the format.
 */
export async function verifyCheckpointNote(note: string, publicKey: Uint8Array, keyId: string): Promise<CheckpointVerdict> {
  const cut = note.lastIndexOf('\n\n');
  if (cut < 0 || !note.endsWith('\n')) return { ok: false, problem: 'not a signed note' };
  const text = note.slice(0, cut + 1);
  const [origin, sizeText, rootText, ...rest] = text.slice(0, -1).split('\n');
  const expected = `openexec.local/receipts/${keyId}`;
  if (origin !== expected) return { ok: false, problem: `checkpoint is for '${origin ?? ''}', not this ledger` };
  if (rest.length > 0 || sizeText === undefined || !/^(0|[1-9]\d{0,15})$/.test(sizeText))
    return { ok: false, problem: 'not a checkpoint body' };
  const root = rootText === undefined ? null : base64ToBytes(rootText);
  if (root === null || root.length !== 32) return { ok: false, problem: 'the root is not base64 of 32 bytes' };
  const encoder = new TextEncoder();
  const keyHashInput = new Uint8Array([...encoder.encode(`${origin}\n`), 0x01, ...publicKey]);
  const keyHash = new Uint8Array(await globalThis.crypto.subtle.digest('SHA-256', keyHashInput)).subarray(0, 4);
  const message = encoder.encode(text);
  for (const line of note.slice(cut + 2, -1).split('\n')) {
    const m = /^\u2014 (\S+) ([A-Za-z0-9+/]+={0,2})$/u.exec(line);
    if (!m || m[1] !== origin) continue;
    const blob = base64ToBytes(m[2]!);
    if (blob === null || blob.length !== 68 || !blob.subarray(0, 4).every((b, i) => b === keyHash[i])) continue;
    if (await verifyEd25519(publicKey, message, blob.subarray(4))) {
      return { ok: true, checkpoint: { origin, size: Number(sizeText), root } };
    }
  }
  return { ok: false, problem: 'no valid signature by the receipt key' };
}
