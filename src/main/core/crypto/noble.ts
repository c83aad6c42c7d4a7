/**
 * The independent, portable Ed25519 (@noble/ed25519, pure JS): what the sandboxed renderer and
 * offline verification use, and the cross-check for the OpenSSL path in ed25519.ts. Node-only
 * because the sync API needs a synchronous SHA-512, which we take from node:crypto; the async
 * verifier is the browser-safe one from src/shared.
 *
 * Verdicts match Ed25519Verifier exactly; the rules are explained in
 * src/shared/crypto/ed25519-verify.ts.
 */
import { createHash } from 'node:crypto';
import { hashes, sign, verify } from '@noble/ed25519';
import { ed25519RIsPrimeOrder, ed25519VerifyPrecheck, verifyEd25519 } from '../../../shared/crypto/ed25519-verify.ts';

// noble's sync API refuses to run until a SHA-512 is configured. This is process-global noble
// state; only fill it when nobody else has, and with a correct SHA-512 it cannot change results.
if (hashes.sha512 === undefined) {
  hashes.sha512 = (message) => new Uint8Array(createHash('sha512').update(message).digest());
}

export async function nobleVerify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): Promise<boolean> {
  return verifyEd25519(publicKey, message, signature);
}

export function nobleVerifySync(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  if (!ed25519VerifyPrecheck(publicKey, message, signature)) return false;
  try {
    if (!verify(signature, message, publicKey, { zip215: false })) return false;
  } catch {
    return false;
  }
  return ed25519RIsPrimeOrder(signature);
}

/** Signs with the RFC 8032 32-byte secret seed. Throws RangeError/TypeError for a bad seed. */
export function nobleSign(seed: Uint8Array, message: Uint8Array): Uint8Array {
  return sign(message, seed);
}
