/**
 * Ed25519 on node:crypto (OpenSSL): the hot path for approval artifacts (protocol §2) and receipts.
 *
 * Keys are checked once, at construction, with the same rules as the portable verifier in
 * src/shared/crypto/ed25519-verify.ts: OpenSSL imports any 32 bytes and verifies with the
 * cofactorless equation, so on its own it accepts universal forgeries under a small-order key
 * (A = identity, R = identity, S = 0 verifies for every message) and disagrees with noble on
 * keys with a torsion component. Refusing those keys up front makes both verifiers agree.
 */
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign as nodeSign,
  verify as nodeVerify,
  type KeyObject,
} from 'node:crypto';
import { base64ToBytes, decodeSignatureBase64, ed25519PublicKeyProblem } from '../../../shared/crypto/ed25519-verify.ts';

export class KeyFormatError extends Error {
  readonly code = 'key_format';
  override name = 'KeyFormatError';
}

/** DER of an Ed25519 SubjectPublicKeyInfo (RFC 8410) up to the 32 key bytes. */
const SPKI_PREFIX = Uint8Array.from([0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00]);
/** DER of an Ed25519 PKCS#8 PrivateKeyInfo (RFC 8410) up to the 32 seed bytes. */
const PKCS8_PREFIX = Uint8Array.from([0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20]);
const ED25519_OID = [0x2b, 0x65, 0x70];

const KEY_PROBLEM_MESSAGES = {
  length: 'Ed25519 public key must be 32 bytes',
  not_canonical_point: 'Ed25519 public key is not a canonical encoding of a curve point',
  small_order: 'Ed25519 public key has small order (it would accept forged signatures)',
  mixed_order: 'Ed25519 public key is not in the prime-order subgroup (has a small-order component)',
} as const;

function assertUsablePublicKey(raw: Uint8Array): void {
  const problem = ed25519PublicKeyProblem(raw);
  if (problem !== null) throw new KeyFormatError(KEY_PROBLEM_MESSAGES[problem]);
}

function view(buf: Buffer): Uint8Array {
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

/** One DER TLV at `pos`: its tag and the bounds of its contents, or null when truncated. */
function readTlv(der: Uint8Array, pos: number): { tag: number; start: number; end: number } | null {
  const tag = der[pos];
  let len = der[pos + 1];
  if (tag === undefined || len === undefined) return null;
  let start = pos + 2;
  if (len & 0x80) {
    const octets = len & 0x7f;
    if (octets < 1 || octets > 2) return null;
    len = 0;
    for (let i = 0; i < octets; i++) len = (len << 8) | (der[start + i] ?? 0);
    start += octets;
  }
  const end = start + len;
  return end <= der.length ? { tag, start, end } : null;
}

/** The algorithm OID and BIT STRING contents of a SubjectPublicKeyInfo, or null if it is not one. */
function spkiParts(der: Uint8Array): { oid: Uint8Array; bits: Uint8Array } | null {
  const outer = readTlv(der, 0);
  if (outer?.tag !== 0x30 || outer.end !== der.length) return null;
  const alg = readTlv(der, outer.start);
  if (alg?.tag !== 0x30) return null;
  const oid = readTlv(der, alg.start);
  const bits = readTlv(der, alg.end);
  if (oid?.tag !== 0x06 || bits?.tag !== 0x03 || bits.end !== outer.end) return null;
  return { oid: der.subarray(oid.start, oid.end), bits: der.subarray(bits.start, bits.end) };
}

/**
 * Raw 32-byte Ed25519 key from a PEM `PUBLIC KEY` (SubjectPublicKeyInfo).
 * Tolerated: surrounding whitespace, CRLF, and the two characters `\n` in place of line breaks,
 * because keys pasted into env vars or .env files often arrive that way; a backslash can never
 * occur in base64, so this cannot change the meaning of a valid key. Everything else is strict:
 * one block, standard padded canonical base64, exactly the RFC 8410 DER.
 */
export function parsePublicKeyPem(pem: string): Uint8Array {
  if (typeof pem !== 'string') throw new KeyFormatError('not a PEM PUBLIC KEY block');
  const text = pem.replace(/\\r\\n|\\n/g, '\n').trim();
  const m = /^-----BEGIN PUBLIC KEY-----([^-]*)-----END PUBLIC KEY-----$/.exec(text);
  if (!m) throw new KeyFormatError('not a PEM PUBLIC KEY block');
  const der = base64ToBytes((m[1] ?? '').replace(/[ \t\r\n]+/g, ''));
  if (der === null || der.length === 0) throw new KeyFormatError('PEM PUBLIC KEY body is not valid base64');
  const parts = spkiParts(der);
  if (parts === null) throw new KeyFormatError('PEM PUBLIC KEY body is not a SubjectPublicKeyInfo');
  if (parts.oid.length !== 3 || ED25519_OID.some((b, i) => parts.oid[i] !== b)) {
    throw new KeyFormatError('PEM key is not Ed25519 (OID 1.3.101.112)');
  }
  if (parts.bits.length !== 33 || parts.bits[0] !== 0) throw new KeyFormatError(KEY_PROBLEM_MESSAGES.length);
  if (der.length !== SPKI_PREFIX.length + 32 || SPKI_PREFIX.some((b, i) => der[i] !== b)) {
    throw new KeyFormatError('Ed25519 SubjectPublicKeyInfo is not in the RFC 8410 form (unexpected parameters)');
  }
  const raw = der.slice(SPKI_PREFIX.length);
  assertUsablePublicKey(raw);
  return raw;
}

function spkiDer(raw: Uint8Array): Buffer {
  if (!(raw instanceof Uint8Array) || raw.length !== 32) throw new KeyFormatError(KEY_PROBLEM_MESSAGES.length);
  return Buffer.concat([SPKI_PREFIX, raw]);
}

/** PEM `PUBLIC KEY` with LF line endings, the form the conformance vectors and OpenSSL write. */
export function publicKeyToPem(raw: Uint8Array): string {
  const lines =
    spkiDer(raw)
      .toString('base64')
      .match(/.{1,64}/g) ?? [];
  return `-----BEGIN PUBLIC KEY-----\n${lines.join('\n')}\n-----END PUBLIC KEY-----\n`;
}

/**
 * The key id shown to operators and written into receipts and approvals: the first 16 hex
 * characters (64 bits) of sha256 over the raw 32-byte public key. Short enough to read out and
 * compare by eye; it names a key, it does not authenticate one.
 */
export function keyId(raw: Uint8Array): string {
  if (!(raw instanceof Uint8Array) || raw.length !== 32) throw new KeyFormatError(KEY_PROBLEM_MESSAGES.length);
  return createHash('sha256').update(raw).digest('hex').slice(0, 16);
}

/** The one signature rule (strict base64 of 64 bytes) lives beside the portable verifier. */
export { decodeSignatureBase64 };

export class Ed25519Verifier {
  readonly publicKey: Uint8Array;
  readonly keyId: string;
  readonly #key: KeyObject;

  /** Throws KeyFormatError for anything but a canonical prime-order Ed25519 point. */
  constructor(publicKey: Uint8Array) {
    const der = spkiDer(publicKey);
    assertUsablePublicKey(publicKey);
    this.publicKey = Uint8Array.from(publicKey);
    this.keyId = keyId(this.publicKey);
    this.#key = createPublicKey({ key: der, format: 'der', type: 'spki' });
  }

  /** Never throws: a signature of the wrong length or type is simply not valid. */
  verify(message: Uint8Array, signature: Uint8Array): boolean {
    if (!(signature instanceof Uint8Array) || signature.length !== 64 || !(message instanceof Uint8Array)) return false;
    try {
      return nodeVerify(null, message, this.#key, signature);
    } catch {
      return false;
    }
  }
}

export class Ed25519Signer {
  readonly publicKey: Uint8Array;
  readonly keyId: string;
  readonly #key: KeyObject;

  private constructor(privateKey: KeyObject) {
    if (privateKey.asymmetricKeyType !== 'ed25519') throw new KeyFormatError('not an Ed25519 private key');
    this.#key = privateKey;
    const spki = createPublicKey(privateKey).export({ format: 'der', type: 'spki' });
    this.publicKey = Uint8Array.from(spki.subarray(SPKI_PREFIX.length));
    this.keyId = keyId(this.publicKey);
  }

  static generate(): Ed25519Signer {
    return new Ed25519Signer(generateKeyPairSync('ed25519').privateKey);
  }

  /** From the RFC 8032 32-byte secret seed. */
  static fromSeed(seed: Uint8Array): Ed25519Signer {
    if (!(seed instanceof Uint8Array) || seed.length !== 32) throw new KeyFormatError('Ed25519 seed must be 32 bytes');
    const der = Buffer.concat([PKCS8_PREFIX, seed]);
    try {
      return new Ed25519Signer(createPrivateKey({ key: der, format: 'der', type: 'pkcs8' }));
    } finally {
      der.fill(0);
    }
  }

  /** From an unencrypted PEM `PRIVATE KEY` (PKCS#8) holding an Ed25519 key. */
  static fromPkcs8Pem(pem: string): Ed25519Signer {
    const text = typeof pem === 'string' ? pem.trim() : '';
    if (!text.startsWith('-----BEGIN PRIVATE KEY-----') || !text.endsWith('-----END PRIVATE KEY-----')) {
      throw new KeyFormatError('not a PEM PRIVATE KEY (PKCS#8) block');
    }
    let key: KeyObject;
    try {
      key = createPrivateKey({ key: text, format: 'pem' });
    } catch {
      throw new KeyFormatError('PEM PRIVATE KEY does not parse');
    }
    if (key.asymmetricKeyType !== 'ed25519') throw new KeyFormatError('PEM private key is not Ed25519 (OID 1.3.101.112)');
    return new Ed25519Signer(key);
  }

  toPkcs8Pem(): string {
    return this.#key.export({ format: 'pem', type: 'pkcs8' }).toString();
  }

  sign(message: Uint8Array): Uint8Array {
    return view(nodeSign(null, message, this.#key));
  }
}
