import { createHash, createPublicKey, generateKeyPairSync, verify as opensslVerify } from 'node:crypto';
import { Point, utils, verify as nobleRawVerify } from '@noble/ed25519';
import { describe, expect, test } from 'vitest';
import {
  decodeSignatureBase64,
  Ed25519Signer,
  Ed25519Verifier,
  KeyFormatError,
  keyId,
  parsePublicKeyPem,
  publicKeyToPem,
} from '../../src/main/core/crypto/ed25519.ts';
import { nobleSign, nobleVerify, nobleVerifySync } from '../../src/main/core/crypto/noble.ts';
import { base64ToBytes, bytesToBase64, bytesToHex, hexToBytes, sha256Hex, verifyEd25519 } from '../../src/shared/crypto/ed25519-verify.ts';
import { conformance } from '../support/conformance.ts';

function h(hex: string): Uint8Array {
  const b = hexToBytes(hex);
  if (b === null) throw new Error(`bad hex in test: ${hex}`);
  return b;
}
const cat = (...parts: Uint8Array[]): Uint8Array => Uint8Array.from(Buffer.concat(parts));
const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
/** Deterministic test bytes, so a failure reproduces. */
function det(label: string, n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i += 32)
    out.set(
      createHash('sha256')
        .update(`${label}/${i}`)
        .digest()
        .subarray(0, Math.min(32, n - i)),
      i,
    );
  return out;
}
/** Node verdict through our class: a key it refuses verifies nothing. */
function nodeVerdict(pk: Uint8Array, msg: Uint8Array, sig: Uint8Array): boolean {
  try {
    return new Ed25519Verifier(pk).verify(msg, sig);
  } catch (err) {
    if (err instanceof KeyFormatError) return false;
    throw err;
  }
}

// RFC 8032 §7.1. TEST 1024's message (1023 bytes) is checked by length, digest and signature.
const TEST_1024_MSG = [
  '08b8b2b733424243760fe426a4b54908632110a66c2f6591eabd3345e3e4eb98fa6e264bf09efe12ee50f8f54e9f77b1',
  'e355f6c50544e23fb1433ddf73be84d879de7c0046dc4996d9e773f4bc9efe5738829adb26c81b37c93a1b270b20329d',
  '658675fc6ea534e0810a4432826bf58c941efb65d57a338bbd2e26640f89ffbc1a858efcb8550ee3a5e1998bd177e93a',
  '7363c344fe6b199ee5d02e82d522c4feba15452f80288a821a579116ec6dad2b3b310da903401aa62100ab5d1a36553e',
  '06203b33890cc9b832f79ef80560ccb9a39ce767967ed628c6ad573cb116dbefefd75499da96bd68a8a97b928a8bbc10',
  '3b6621fcde2beca1231d206be6cd9ec7aff6f6c94fcd7204ed3455c68c83f4a41da4af2b74ef5c53f1d8ac70bdcb7ed1',
  '85ce81bd84359d44254d95629e9855a94a7c1958d1f8ada5d0532ed8a5aa3fb2d17ba70eb6248e594e1a2297acbbb39d',
  '502f1a8c6eb6f1ce22b3de1a1f40cc24554119a831a9aad6079cad88425de6bde1a9187ebb6092cf67bf2b13fd65f270',
  '88d78b7e883c8759d2c4f5c65adb7553878ad575f9fad878e80a0c9ba63bcbcc2732e69485bbc9c90bfbd62481d9089b',
  'eccf80cfe2df16a2cf65bd92dd597b0707e0917af48bbb75fed413d238f5555a7a569d80c3414a8d0859dc65a46128ba',
  'b27af87a71314f318c782b23ebfe808b82b0ce26401d2e22f04d83d1255dc51addd3b75a2b1ae0784504df543af8969b',
  'e3ea7082ff7fc9888c144da2af58429ec96031dbcad3dad9af0dcbaaaf268cb8fcffead94f3c7ca495e056a9b47acdb7',
  '51fb73e666c6c655ade8297297d07ad1ba5e43f1bca32301651339e22904cc8c42f58c30c04aafdb038dda0847dd988d',
  'cda6f3bfd15c4b4c4525004aa06eeff8ca61783aacec57fb3d1f92b0fe2fd1a85f6724517b65e614ad6808d6f6ee34df',
  'f7310fdc82aebfd904b01e1dc54b2927094b2db68d6f903b68401adebf5a7e08d78ff4ef5d63653a65040cf9bfd4aca7',
  '984a74d37145986780fc0b16ac451649de6188a7dbdf191f64b5fc5e2ab47b57f7f7276cd419c17a3ca8e1b939ae49e4',
  '88acba6b965610b5480109c8b17b80e1b7b750dfc7598d5d5011fd2dcc5600a32ef5b52a1ecc820e308aa342721aac09',
  '43bf6686b64b2579376504ccc493d97e6aed3fb0f9cd71a43dd497f01f17c0e2cb3797aa2a2f256656168e6c496afc5f',
  'b93246f6b1116398a346f1a641f3b041e989f7914f90cc2c7fff357876e506b50d334ba77c225bc307ba537152f3f161',
  '0e4eafe595f6d9d90d11faa933a15ef1369546868a7f3a45a96768d40fd9d03412c091c6315cf4fde7cb68606937380d',
  'b2eaaa707b4c4185c32eddcdd306705e4dc1ffc872eeee475a64dfac86aba41c0618983f8741c5ef68d3a101e8a3b8ca',
  'c60c905c15fc910840b94c00a0b9d0',
].join('');
const RFC8032 = [
  {
    name: 'TEST 1',
    seed: '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60',
    pub: 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a',
    msg: '',
    sig: 'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b',
  },
  {
    name: 'TEST 2',
    seed: '4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb',
    pub: '3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c',
    msg: '72',
    sig: '92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00',
  },
  {
    name: 'TEST 3',
    seed: 'c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7',
    pub: 'fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025',
    msg: 'af82',
    sig: '6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a',
  },
  {
    name: 'TEST 1024',
    seed: 'f5e5767cf153319517630f226876b86c8160cc583bc013744c6bf255f5cc0ee5',
    pub: '278117fc144c72340f67d0f2316e8386ceffbf2b2428c9c51fef7c597f1d426e',
    msg: TEST_1024_MSG,
    sig: '0aab4c900501b3e24d7cdf4663326a3a87df5e4843b2cbdb67cbf6e460fec350aa5371b1508f9f4528ecea23c436d94b5e8fcd4f681e30a6ac00a9704a188a03',
  },
  {
    name: 'TEST SHA(abc)',
    seed: '833fe62409237b9d62ec77587520911e9a759cec1d19755b7da901b96dca3d42',
    pub: 'ec172b93ad5e563bf4932c70e1245034c35467ef2efd4d64ebf819683467e2bf',
    msg: createHash('sha512').update('abc').digest('hex'),
    sig: 'dc2a4459e7369633a52b1bf277839a00201009a3efbf3ecb69bea2186c26b58909351fc9ac90b3ecfdfbc7c66431e0303dca179c138ac17ad9bef1177331a704',
  },
];

describe('RFC 8032 §7.1 vectors', () => {
  test('the 1023-byte message is the RFC one', () => {
    expect(TEST_1024_MSG.length).toBe(2046);
    expect(createHash('sha256').update(h(TEST_1024_MSG)).digest('hex')).toBe(
      '358c67baee6b3e0265787951d1840a8468b9e9044852f1c67229a892b2cc0d22',
    );
  });
  test.each(RFC8032)('$name: node:crypto and noble derive, sign and verify', async (v) => {
    const [seed, pub, msg, sig] = [h(v.seed), h(v.pub), h(v.msg), h(v.sig)];
    const signer = Ed25519Signer.fromSeed(seed);
    expect(bytesToHex(signer.publicKey)).toBe(v.pub);
    expect(bytesToHex(signer.sign(msg))).toBe(v.sig);
    expect(bytesToHex(nobleSign(seed, msg))).toBe(v.sig);
    expect(new Ed25519Verifier(pub).verify(msg, sig)).toBe(true);
    expect(nobleVerifySync(pub, msg, sig)).toBe(true);
    expect(await nobleVerify(pub, msg, sig)).toBe(true);
    const other = cat(msg, Uint8Array.of(0));
    expect(new Ed25519Verifier(pub).verify(other, sig)).toBe(false);
    expect(nobleVerifySync(pub, other, sig)).toBe(false);
    expect(await verifyEd25519(pub, other, sig)).toBe(false);
  });
});

describe('conformance approval-vectors.json (protocol §2)', () => {
  const file = conformance<{
    public_key_pem: string;
    private_key_seed_hex: string;
    cases: { name: string; artifact: Record<string, string> }[];
  }>('approval-vectors.json');
  test('the PEM is RFC 8032 key 1, and we write it back byte for byte', () => {
    const raw = parsePublicKeyPem(file.public_key_pem);
    expect(bytesToHex(raw)).toBe(RFC8032[0]?.pub);
    expect(publicKeyToPem(raw)).toBe(file.public_key_pem);
    expect(keyId(raw)).toBe(createHash('sha256').update(raw).digest('hex').slice(0, 16));
  });
  test.each(file.cases)('$name', async ({ name, artifact: a }) => {
    const signer = Ed25519Signer.fromSeed(h(file.private_key_seed_hex));
    const verifier = new Ed25519Verifier(parsePublicKeyPem(file.public_key_pem));
    const message = utf8(`${a['approval_id']}${a['tenant_id']}${a['action_hash']}${a['issued_at']}${a['expires_at']}`);
    const sig = decodeSignatureBase64(a['signature'] ?? '');
    expect(sig).not.toBeNull();
    if (sig === null) return;
    const authentic = name !== 'wrong-key';
    expect(bytesToBase64(signer.sign(message)) === a['signature']).toBe(authentic);
    expect(verifier.verify(message, sig)).toBe(authentic);
    expect(await nobleVerify(verifier.publicKey, message, sig)).toBe(authentic);
  });
});

test('200 random keys and messages: node:crypto and noble agree, valid and tampered', async () => {
  const disagreements: string[] = [];
  for (let i = 0; i < 200; i++) {
    const seed = det(`seed${i}`, 32);
    const msg = det(`msg${i}`, (det(`len${i}`, 1)[0] ?? 0) + (i % 3) * 200);
    const pos = det(`pos${i}`, 4);
    const signer = Ed25519Signer.fromSeed(seed);
    const pk = signer.publicKey;
    const sig = signer.sign(msg);
    expect(nobleSign(seed, msg)).toEqual(sig);
    const flip = (b: Uint8Array, at: number): Uint8Array => {
      const c = Uint8Array.from(b);
      c[at] = (c[at] ?? 0) ^ (1 << ((pos[3] ?? 0) % 8));
      return c;
    };
    const cases: [string, Uint8Array, Uint8Array, Uint8Array, boolean][] = [
      ['valid', pk, msg, sig, true],
      ['R', pk, msg, flip(sig, (pos[0] ?? 0) % 32), false],
      ['S', pk, msg, flip(sig, 32 + ((pos[1] ?? 0) % 32)), false],
      ['key', flip(pk, (pos[2] ?? 0) % 32), msg, sig, false],
    ];
    if (msg.length > 0) cases.push(['message', pk, flip(msg, (pos[0] ?? 0) % msg.length), sig, false]);
    for (const [what, k, m, s, expected] of cases) {
      const [n, b] = [nodeVerdict(k, m, s), nobleVerifySync(k, m, s)];
      if (n !== b) disagreements.push(`#${i} ${what}: node ${n}, noble ${b}`);
      expect([what, n, b]).toEqual([what, expected, expected]);
    }
    if (i % 20 === 0) expect(await verifyEd25519(pk, msg, sig)).toBe(true);
  }
  expect(disagreements).toEqual([]);
});

describe('edge cases where raw OpenSSL and raw noble differ, and what our verifiers do', () => {
  const { n: L, p: P } = Point.CURVE();
  const le = (n: bigint): Uint8Array => h(n.toString(16).padStart(64, '0')).reverse();
  const leNum = (b: Uint8Array): bigint => BigInt(`0x${bytesToHex(Uint8Array.from(b).reverse()) || '0'}`);
  const challenge = (r: Uint8Array, a: Uint8Array, m: Uint8Array): bigint =>
    leNum(
      createHash('sha512')
        .update(cat(r, a, m))
        .digest(),
    ) % L;
  const rawOpenssl = (pk: Uint8Array, m: Uint8Array, s: Uint8Array): boolean =>
    opensslVerify(null, m, createPublicKey({ key: Buffer.from(cat(h('302a300506032b6570032100'), pk)), format: 'der', type: 'spki' }), s);
  const rawNoble = (pk: Uint8Array, m: Uint8Array, s: Uint8Array): boolean => {
    try {
      return nobleRawVerify(s, m, pk, { zip215: false });
    } catch {
      return false;
    }
  };
  // A point of order 8, found as the torsion part ([L]X) of a deterministic curve point.
  let t8 = Point.ZERO;
  for (let i = 0; t8.double().double().is0(); i++) {
    try {
      const x = Point.fromBytes(det(`torsion${i}`, 32));
      t8 = x.multiply(L - 1n, false).add(x);
    } catch {
      // not a curve point; try the next
    }
  }
  const torsion = Array.from({ length: 8 }, (_, j) => (j === 0 ? Point.ZERO : t8.multiply(BigInt(j), false)));
  const ext = utils.getExtendedPublicKey(det('edge-seed', 32));
  const a = ext.scalar;
  const A = ext.pointBytes;
  /** An honest-shaped signature with nonce r, except that R may carry a torsion point. */
  const signWithR = (pk: Uint8Array, m: Uint8Array, r: bigint, tR: Point = Point.ZERO): Uint8Array => {
    const R = Point.BASE.multiply(r).add(tR).toBytes();
    return cat(R, le((r + challenge(R, pk, m) * a) % L));
  };
  const forged = cat(Point.ZERO.toBytes(), new Uint8Array(32)); // R = identity, S = 0
  const msg = utf8('any message at all');
  const table: Record<string, { openssl: boolean | string; noble: boolean | string }> = {};

  test('small-order keys: OpenSSL accepts a universal forgery, noble refuses, we refuse the key', () => {
    const encodings = {
      ...Object.fromEntries(torsion.map((t, j) => [`order-${j === 0 ? 1 : 8 / (j & -j)} #${j}`, t.toBytes()])),
      'identity as y = p + 1': le(P + 1n),
      'identity with x sign bit (-0)': le(1n + (1n << 255n)),
    };
    for (const [name, pk] of Object.entries(encodings)) {
      table[`forgery under ${name}`] = { openssl: rawOpenssl(pk, msg, forged), noble: rawNoble(pk, msg, forged) };
      expect(() => new Ed25519Verifier(pk)).toThrow(KeyFormatError);
      expect(nobleVerifySync(pk, msg, forged)).toBe(false);
    }
    expect(table['forgery under order-1 #0']).toEqual({ openssl: true, noble: false });
    expect(table['forgery under identity as y = p + 1']).toEqual({ openssl: true, noble: false });
    expect(() => new Ed25519Verifier(torsion[0]?.toBytes() ?? A)).toThrow(/small order/);
    expect(() => parsePublicKeyPem(publicKeyToPem(le(P + 1n)))).toThrow(/not a canonical/);
  });

  test('mixed-order key: OpenSSL accepts ~1/8 of honest signatures, noble all; we refuse the key', () => {
    const pk = Point.fromBytes(A).add(t8).toBytes();
    let opensslOk = 0;
    let nobleOk = 0;
    for (let i = 0; i < 32; i++) {
      const m = utf8(`mixed ${i}`);
      const s = signWithR(pk, m, 1000n + BigInt(i));
      if (rawOpenssl(pk, m, s)) opensslOk++;
      if (rawNoble(pk, m, s)) nobleOk++;
      expect(nobleVerifySync(pk, m, s)).toBe(false);
    }
    table['honest signatures under a mixed-order key'] = { openssl: `${opensslOk}/32`, noble: `${nobleOk}/32` };
    expect(nobleOk).toBe(32);
    expect(opensslOk).toBeLessThan(32);
    expect(() => new Ed25519Verifier(pk)).toThrow(/prime-order subgroup/);
  });

  test('R with a torsion component: OpenSSL refuses, raw noble accepts, all our verifiers refuse', async () => {
    for (let j = 1; j < 8; j++) {
      const s = signWithR(A, msg, 77n, torsion[j]);
      expect([rawOpenssl(A, msg, s), rawNoble(A, msg, s)]).toEqual([false, true]);
      expect([nodeVerdict(A, msg, s), nobleVerifySync(A, msg, s), await verifyEd25519(A, msg, s)]).toEqual([false, false, false]);
    }
    table['R = [r]B + small-order point'] = { openssl: false, noble: true };
    expect(nodeVerdict(A, msg, signWithR(A, msg, 77n))).toBe(true); // the same path without torsion is valid
  });

  test('non-canonical S (S + L) and non-canonical R encoding: refused by both', () => {
    const good = signWithR(A, msg, 5n);
    const sPlusL = cat(good.subarray(0, 32), le(leNum(good.subarray(32)) + L));
    const rNonCanonical = cat(le(P + 1n), le((challenge(le(P + 1n), A, msg) * a) % L)); // R = identity as y = p + 1
    for (const [name, s] of [
      ['S + L', sPlusL],
      ['R identity as y = p + 1', rNonCanonical],
    ] as const) {
      table[name] = { openssl: rawOpenssl(A, msg, s), noble: rawNoble(A, msg, s) };
      expect(table[name]).toEqual({ openssl: false, noble: false });
      expect([nodeVerdict(A, msg, s), nobleVerifySync(A, msg, s)]).toEqual([false, false]);
    }
    console.info('raw OpenSSL vs raw noble (zip215: false) verdicts:', table);
  });
});

describe('malformed input', () => {
  const signer = Ed25519Signer.fromSeed(det('malformed', 32));
  const pk = signer.publicKey;
  const msg = utf8('m');
  const spki = (raw: Uint8Array): string => publicKeyToPem(raw);

  test('signatures of 63/65 bytes and all zeros are false, never thrown', async () => {
    for (const s of [new Uint8Array(63), new Uint8Array(65), new Uint8Array(64), new Uint8Array(0)]) {
      expect([new Ed25519Verifier(pk).verify(msg, s), nobleVerifySync(pk, msg, s), await verifyEd25519(pk, msg, s)]).toEqual([
        false,
        false,
        false,
      ]);
    }
  });
  test('keys: wrong length, off-curve, other algorithms, garbage, wrong header', () => {
    const err = (f: () => unknown): KeyFormatError => {
      try {
        f();
      } catch (e) {
        if (e instanceof KeyFormatError) return e;
        throw e;
      }
      throw new Error('did not throw');
    };
    expect(err(() => new Ed25519Verifier(new Uint8Array(31))).message).toBe('Ed25519 public key must be 32 bytes');
    expect(err(() => new Ed25519Verifier(new Uint8Array(31))).code).toBe('key_format');
    expect(err(() => new Ed25519Verifier(le2(2))).message).toMatch(/not a canonical encoding of a curve point/);
    const short = `-----BEGIN PUBLIC KEY-----\n${Buffer.from(cat(h('3029300506032b6570032000'), new Uint8Array(31))).toString('base64')}\n-----END PUBLIC KEY-----`;
    expect(err(() => parsePublicKeyPem(short)).message).toBe('Ed25519 public key must be 32 bytes');
    const x25519 = generateKeyPairSync('x25519').publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const p256 = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
    expect(err(() => parsePublicKeyPem(x25519)).message).toBe('PEM key is not Ed25519 (OID 1.3.101.112)');
    expect(err(() => parsePublicKeyPem(p256)).message).toBe('PEM key is not Ed25519 (OID 1.3.101.112)');
    expect(err(() => parsePublicKeyPem('-----BEGIN PUBLIC KEY-----\nMCow!BQYDK2VwAyEA\n-----END PUBLIC KEY-----')).message).toMatch(
      /not valid base64/,
    );
    expect(err(() => parsePublicKeyPem(spki(pk).replace(/PUBLIC KEY/g, 'RSA PUBLIC KEY'))).message).toBe('not a PEM PUBLIC KEY block');
    expect(err(() => parsePublicKeyPem(signer.toPkcs8Pem())).message).toBe('not a PEM PUBLIC KEY block');
    expect(err(() => parsePublicKeyPem(spki(pk) + spki(pk))).message).toBe('not a PEM PUBLIC KEY block');
    expect(err(() => parsePublicKeyPem('hello')).message).toBe('not a PEM PUBLIC KEY block');
    const withNull = Buffer.from(cat(h('302c300706032b65700500032100'), pk)).toString('base64');
    expect(err(() => parsePublicKeyPem(`-----BEGIN PUBLIC KEY-----\n${withNull}\n-----END PUBLIC KEY-----`)).message).toMatch(/RFC 8410/);
    const xPriv = generateKeyPairSync('x25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    expect(err(() => Ed25519Signer.fromPkcs8Pem(xPriv)).message).toMatch(/not Ed25519/);
    expect(err(() => Ed25519Signer.fromPkcs8Pem('-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----')).message).toMatch(
      /does not parse/,
    );
    expect(err(() => Ed25519Signer.fromSeed(new Uint8Array(31))).message).toMatch(/seed must be 32 bytes/);
  });
  test('PEM tolerance: CRLF, surrounding whitespace, literal \\n from env vars, one line', () => {
    const pem = spki(pk);
    for (const variant of [pem, pem.replace(/\n/g, '\r\n'), `  \n\t${pem}\n\n  `, pem.replace(/\n/g, '\\n'), pem.replace(/\n/g, '')]) {
      expect(parsePublicKeyPem(variant)).toEqual(pk);
    }
  });
  test('signer round trip through PKCS#8 PEM; generate gives distinct keys', () => {
    const again = Ed25519Signer.fromPkcs8Pem(signer.toPkcs8Pem());
    expect([again.publicKey, again.keyId]).toEqual([pk, signer.keyId]);
    expect(new Ed25519Verifier(pk).verify(msg, again.sign(msg))).toBe(true);
    expect(Ed25519Signer.generate().keyId).not.toBe(Ed25519Signer.generate().keyId);
    expect(signer.keyId).toMatch(/^[0-9a-f]{16}$/);
  });
});
function le2(n: number): Uint8Array {
  const b = new Uint8Array(32);
  b[0] = n;
  return b;
}

describe('strict base64 and hex helpers', () => {
  const sig = 'AocZSuD1+GzSw/CAZo0uykBztHyAiz98fr1w/wP3fy8ll0rZtSkxf2R2XBDBHzkv4ObNqVzoSGwVVOK/TYdnAw==';
  test('signature decoding refuses everything but canonical padded standard base64 of 64 bytes', () => {
    expect(decodeSignatureBase64(sig)?.length).toBe(64);
    const lastData = sig.charAt(85); // the character before '==' carries 4 unused bits
    for (const bad of [
      sig.slice(0, 10) + '!' + sig.slice(10),
      sig.slice(0, 10) + '*' + sig.slice(11),
      sig.slice(0, -2),
      sig.slice(0, -1),
      ` ${sig}`,
      `${sig}\n`,
      sig.slice(0, 44) + '\n' + sig.slice(44),
      sig.replace(/\+/g, '-').replace(/\//g, '_'),
      sig.slice(0, 85) + String.fromCharCode(lastData.charCodeAt(0) + 1) + '==',
      Buffer.alloc(63).toString('base64'),
      Buffer.alloc(65).toString('base64'),
      '',
      sig + 'AAAA',
    ]) {
      expect(decodeSignatureBase64(bad)).toBeNull();
    }
  });
  test('base64 round trip against Buffer, and canonical form only', () => {
    for (let n = 0; n < 70; n++) {
      const b = det(`b64-${n}`, n);
      const s = Buffer.from(b).toString('base64');
      expect(bytesToBase64(b)).toBe(s);
      expect(base64ToBytes(s)).toEqual(b);
    }
    for (const bad of ['Zh==', 'Zm9=', 'Zg', 'Zg=', 'Z===', '=Zg=', 'Zg==Zg==', 'Zm9v\u00e9===', 'Zm 9'])
      expect(base64ToBytes(bad)).toBeNull();
    expect(base64ToBytes('Zm9v')).toEqual(utf8('foo'));
  });
  test('hex and sha256Hex', async () => {
    expect(bytesToHex(Uint8Array.of(0, 15, 255))).toBe('000fff');
    expect(hexToBytes('000FfF')).toEqual(Uint8Array.of(0, 15, 255));
    for (const bad of ['abc', 'zz', '0x00', ' 00']) expect(hexToBytes(bad)).toBeNull();
    expect(await sha256Hex('')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(await sha256Hex('héllo — 中文')).toBe(createHash('sha256').update('héllo — 中文', 'utf8').digest('hex'));
  });
});
