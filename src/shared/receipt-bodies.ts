/**
 * Receipt bodies (docs/receipts.md "Bodies and retention"): a receipt of format 2 carries, for
 * its payload, context, preview and result, `salted_hashes[field] = sha256(salt ‖ UTF-8 text)`
 * and keeps the text and its salt beside it until retention purges both. Pure: the renderer's
 * Verify, the bundle verifier and the ledger's own check judge a body the same way.
 */
import { bytesToHex, hexToBytes } from './crypto/ed25519-verify';

export const BODY_FIELDS = ['payload', 'context', 'preview', 'result'] as const;
export type BodyField = (typeof BODY_FIELDS)[number];

/** One body a receipt commits to, as the console and bundles carry it. */
export interface ReceiptBodyDto {
  field: BodyField;
  /** Hex salt (at least 128 bits); null once purged. */
  salt: string | null;
  /** The body's text (canonical JSON for payload, preview and result); null once purged. */
  text: string | null;
  /** When retention purged it (the purge receipt's time); null while kept. */
  purgedAt: string | null;
  /** The `config` receipt that records the purge. */
  purgeSeq: number | null;
}

/** What stands in a purged body's place, in the console, the CLI and bundles. */
export function purgedLabel(purgedAt: string): string {
  return `purged on ${purgedAt.slice(0, 10)} by retention`;
}

/** The body's salted hash, recomputed: sha256 of the salt's bytes then the text's UTF-8 bytes. */
export async function saltedHashOf(saltHex: string, text: string): Promise<string | null> {
  const salt = hexToBytes(saltHex);
  if (salt === null) return null;
  const textBytes = new TextEncoder().encode(text);
  const joined = new Uint8Array(salt.length + textBytes.length);
  joined.set(salt);
  joined.set(textBytes, salt.length);
  return bytesToHex(new Uint8Array(await globalThis.crypto.subtle.digest('SHA-256', joined)));
}

/** The minimum salt: 128 bits, as hex. */
const MIN_SALT_HEX = 32;

/**
 * Everything wrong between a receipt body's `salted_hashes` and the bodies shown beside it:
 * each committed field has exactly one body, kept (its salt and text hash to the committed
 * value) or purged (no salt, no text, a purge time); nothing extra is shown.
 */
export async function bodyProblems(
  signed: Record<string, unknown>,
  bodies: readonly Pick<ReceiptBodyDto, 'field' | 'salt' | 'text' | 'purgedAt'>[],
): Promise<string[]> {
  const committed = signed['salted_hashes'];
  const hashes: Record<string, unknown> = committed !== null && typeof committed === 'object' ? (committed as Record<string, unknown>) : {};
  if (committed !== undefined && (committed === null || typeof committed !== 'object' || Array.isArray(committed))) {
    return ['salted_hashes is not an object'];
  }
  const problems: string[] = [];
  for (const b of bodies) {
    if (!(b.field in hashes)) problems.push(`a ${b.field} body is kept that the receipt does not commit to`);
  }
  for (const [field, hash] of Object.entries(hashes)) {
    const matching = bodies.filter((b) => b.field === field);
    if (matching.length !== 1) {
      problems.push(`the ${field} body the receipt commits to is ${matching.length === 0 ? 'missing' : 'kept more than once'}`);
      continue;
    }
    const b = matching[0]!;
    if (b.purgedAt !== null) {
      if (b.salt !== null || b.text !== null) problems.push(`the ${field} body is marked purged but still kept`);
      continue;
    }
    if (b.salt === null || b.text === null) {
      problems.push(`the ${field} body has no ${b.salt === null ? 'salt' : 'text'} and no purge`);
      continue;
    }
    if (b.salt.length < MIN_SALT_HEX) problems.push(`the ${field} body's salt is shorter than 128 bits`);
    if ((await saltedHashOf(b.salt, b.text)) !== hash) problems.push(`the ${field} body does not hash to its salted hash`);
  }
  return problems;
}
