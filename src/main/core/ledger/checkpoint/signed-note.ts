import { createHash } from 'node:crypto';
import type { Ed25519Signer, Ed25519Verifier } from '../../crypto/ed25519.ts';
import { base64ToBytes } from '../../../../shared/crypto/ed25519-verify.ts';

/**
 * C2SP signed-note: a UTF-8 text ending in a newline, a blank line, then one line per
 * signature: "— <key name> <base64(key hash ‖ signature)>". For Ed25519 the key hash is the
 * first 4 bytes of SHA-256(key name ‖ 0x0A ‖ 0x01 ‖ public key), and the signature covers the
 * text's bytes exactly (its final newline included, the blank line not).
 */

const EM_DASH = '\u2014';
const ED25519_ALG = 0x01;

export interface NoteSignature {
  name: string;
  keyHash: Uint8Array;
  signature: Uint8Array;
}

export interface ParsedNote {
  text: string;
  signatures: NoteSignature[];
}

export class NoteFormatError extends Error {
  readonly code = 'note_format';
}

/** A key name is non-empty and has no whitespace and no '+' (the vkey separator). */
export function isKeyName(name: string): boolean {
  return name.length > 0 && !/[\s+]/u.test(name);
}

export function ed25519KeyHash(name: string, publicKey: Uint8Array): Uint8Array {
  const digest = createHash('sha256').update(name, 'utf8').update(Uint8Array.of(0x0a, ED25519_ALG)).update(publicKey).digest();
  return new Uint8Array(digest.subarray(0, 4));
}

/** The verifier key string other note tools take: name+hex(key hash)+base64(0x01 ‖ key). */
export function verifierKey(name: string, publicKey: Uint8Array): string {
  const hash = Buffer.from(ed25519KeyHash(name, publicKey)).toString('hex');
  return `${name}+${hash}+${Buffer.concat([Uint8Array.of(ED25519_ALG), publicKey]).toString('base64')}`;
}

function signatureLine(text: string, name: string, signer: Ed25519Signer): string {
  if (!isKeyName(name)) throw new NoteFormatError(`'${name}' is not a valid note key name`);
  const sig = signer.sign(Buffer.from(text, 'utf8'));
  const blob = Buffer.concat([ed25519KeyHash(name, signer.publicKey), sig]).toString('base64');
  return `${EM_DASH} ${name} ${blob}\n`;
}

export function signNote(text: string, name: string, signer: Ed25519Signer): string {
  if (!text.endsWith('\n')) throw new NoteFormatError('a note text must end with a newline');
  return `${text}\n${signatureLine(text, name, signer)}`;
}

/** Adds a signature (a co-signer's, e.g. the operator witnessing a checkpoint) to a note. */
export function cosignNote(note: string, name: string, signer: Ed25519Signer): string {
  const { text } = parseNote(note);
  return `${note}${signatureLine(text, name, signer)}`;
}

export function parseNote(note: string): ParsedNote {
  const split = note.lastIndexOf('\n\n');
  if (split < 0 || !note.endsWith('\n')) throw new NoteFormatError('not a signed note: no blank line before the signatures');
  const text = note.slice(0, split + 1);
  const lines = note.slice(split + 2, -1).split('\n');
  const signatures = lines.map((line): NoteSignature => {
    const m = /^\u2014 (\S+) ([A-Za-z0-9+/]+={0,2})$/u.exec(line);
    if (!m) throw new NoteFormatError(`malformed signature line: ${JSON.stringify(line.slice(0, 80))}`);
    const blob = base64ToBytes(m[2]!);
    if (blob === null || blob.length < 5) throw new NoteFormatError('malformed signature: not base64 of a key hash and a signature');
    return { name: m[1]!, keyHash: blob.subarray(0, 4), signature: blob.subarray(4) };
  });
  if (signatures.length === 0) throw new NoteFormatError('a signed note has at least one signature');
  return { text, signatures };
}

/** True when `note` carries a valid signature by `verifier` under `name`. */
export function noteSignedBy(note: ParsedNote, name: string, verifier: Ed25519Verifier): boolean {
  const keyHash = ed25519KeyHash(name, verifier.publicKey);
  return note.signatures.some(
    (s) =>
      s.name === name &&
      Buffer.from(s.keyHash).equals(keyHash) &&
      s.signature.length === 64 &&
      verifier.verify(Buffer.from(note.text, 'utf8'), s.signature),
  );
}
