/**
 * Browser-safe Ed25519 verification and byte helpers: no Node imports, no `Buffer`, so the same
 * code runs in the sandboxed renderer and in Node 22. SHA-512/256 come from
 * `globalThis.crypto.subtle` (through @noble/ed25519's async API for SHA-512).
 *
 * Verification semantics are deliberately the same as the main process's OpenSSL verifier
 * (src/main/core/crypto/ed25519.ts), so a signature is never "valid here, invalid there":
 * - noble's strict branch (`zip215: false`): canonical encodings of A and R, S < L, small-order A
 *   refused;
 * - additionally A and R must lie in the prime-order subgroup. OpenSSL checks the cofactorless
 *   equation [S]B = R + [k]A while noble checks the cofactored one [8][S]B = [8]R + [8][k]A; the
 *   two only differ when A or R carries a small-order (torsion) component, which no honest
 *   signer produces. Refusing those here makes the two equations equivalent.
 */
import { Point, verifyAsync } from '@noble/ed25519';

export type Ed25519KeyProblem = 'length' | 'not_canonical_point' | 'small_order' | 'mixed_order';

/** Strictly decodes a point; null when not a canonical RFC 8032 encoding of a curve point. */
function decodePoint(bytes: Uint8Array): Point | null {
  if (bytes.length !== 32) return null;
  try {
    return Point.fromBytes(bytes, false);
  } catch {
    return null;
  }
}

/** Why a 32-byte string is not an acceptable Ed25519 public key, or null when it is. */
export function ed25519PublicKeyProblem(publicKey: Uint8Array): Ed25519KeyProblem | null {
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== 32) return 'length';
  const point = decodePoint(publicKey);
  if (point === null) return 'not_canonical_point';
  if (point.isSmallOrder()) return 'small_order';
  if (!point.isTorsionFree()) return 'mixed_order';
  return null;
}

// The key check costs a scalar multiplication and the same few keys are checked over and over.
const goodKeys = new Set<string>();
function isAcceptableKey(publicKey: Uint8Array): boolean {
  const hex = bytesToHex(publicKey);
  if (goodKeys.has(hex)) return true;
  if (ed25519PublicKeyProblem(publicKey) !== null) return false;
  if (goodKeys.size >= 256) goodKeys.clear();
  goodKeys.add(hex);
  return true;
}

/** Shared pre- and post-conditions of both verification paths (see the module comment). */
export function ed25519VerifyPrecheck(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  return (
    message instanceof Uint8Array &&
    signature instanceof Uint8Array &&
    signature.length === 64 &&
    publicKey instanceof Uint8Array &&
    isAcceptableKey(publicKey)
  );
}

/** True when R (the first half of a signature that already verified) has no torsion component. */
export function ed25519RIsPrimeOrder(signature: Uint8Array): boolean {
  const r = decodePoint(signature.subarray(0, 32));
  return r !== null && r.isTorsionFree();
}

/** Ed25519 verification that never throws: malformed keys or signatures are simply false. */
export async function verifyEd25519(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): Promise<boolean> {
  if (!ed25519VerifyPrecheck(publicKey, message, signature)) return false;
  try {
    if (!(await verifyAsync(signature, message, publicKey, { zip215: false }))) return false;
  } catch {
    return false;
  }
  return ed25519RIsPrimeOrder(signature);
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const B64_VALUE = new Int8Array(128).fill(-1);
for (let i = 0; i < B64.length; i++) B64_VALUE[B64.charCodeAt(i)] = i;

function b64Value(s: string, i: number): number {
  const c = s.charCodeAt(i);
  return c < 128 ? (B64_VALUE[c] ?? -1) : -1;
}

/**
 * Strict RFC 4648 base64: standard alphabet, `=` padding required, no whitespace or other
 * characters, and canonical (unused trailing bits zero), so exactly one string encodes given
 * bytes. Python's b64decode silently skips junk; this returns null instead.
 */
export function base64ToBytes(s: string): Uint8Array | null {
  if (typeof s !== 'string' || s.length % 4 !== 0) return null;
  const pad = s.endsWith('==') ? 2 : s.endsWith('=') ? 1 : 0;
  const out = new Uint8Array((s.length / 4) * 3 - pad);
  let o = 0;
  for (let i = 0; i < s.length; i += 4) {
    const last = i + 4 === s.length;
    const a = b64Value(s, i);
    const b = b64Value(s, i + 1);
    const c = last && pad === 2 ? 0 : b64Value(s, i + 2);
    const d = last && pad >= 1 ? 0 : b64Value(s, i + 3);
    if ((a | b | c | d) < 0) return null;
    const n = (a << 18) | (b << 12) | (c << 6) | d;
    out[o++] = n >> 16;
    if (last && pad === 2) {
      if ((b & 0x0f) !== 0) return null;
      break;
    }
    out[o++] = (n >> 8) & 0xff;
    if (last && pad === 1) {
      if ((c & 0x03) !== 0) return null;
      break;
    }
    out[o++] = n & 0xff;
  }
  return out;
}

/**
 * An Ed25519 signature as stored or sent: strict canonical padded base64 of exactly 64 bytes,
 * else null. The one rule for every verifier (artifacts, the ledger walk, the console's checks
 * and the renderer's), so a signature is never valid in one place and refused in another.
 */
export function decodeSignatureBase64(s: string): Uint8Array | null {
  const bytes = base64ToBytes(s);
  return bytes !== null && bytes.length === 64 ? bytes : null;
}

/** Standard padded base64 (the form `base64ToBytes` accepts). */
export function bytesToBase64(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const n = ((bytes[i] ?? 0) << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
    s += B64.charAt(n >> 18) + B64.charAt((n >> 12) & 63);
    s += i + 1 < bytes.length ? B64.charAt((n >> 6) & 63) : '=';
    s += i + 2 < bytes.length ? B64.charAt(n & 63) : '=';
  }
  return s;
}

/** Lower-case hex. */
export function bytesToHex(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += b.toString(16).padStart(2, '0');
  return s;
}

/** Hex (either case) to bytes; null for an odd length or a non-hex character. */
export function hexToBytes(hex: string): Uint8Array | null {
  if (typeof hex !== 'string' || hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) return null;
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** sha256 of the UTF-8 encoding of `text`, as lower-case hex. */
export async function sha256Hex(text: string): Promise<string> {
  const digest = await globalThis.crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
  return bytesToHex(new Uint8Array(digest));
}
