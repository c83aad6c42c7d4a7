import { afterAll, describe, expect, test } from 'vitest';
import { Ed25519Signer, Ed25519Verifier } from '../../src/main/core/crypto/ed25519.ts';
import { SignaturePool } from '../../src/main/core/crypto/signature-pool.ts';

const signers = [Ed25519Signer.generate(), Ed25519Signer.generate(), Ed25519Signer.generate()];
const verifiers = signers.map((s) => new Ed25519Verifier(s.publicKey));

/** Messages of every length up to 300 bytes, each signed by one key or by none, some signatures damaged. */
function cases() {
  return Array.from({ length: 300 }, (_, i) => {
    // A short Buffer is a view into Node's shared pool: the thread must see only its bytes.
    const message = Buffer.from(`message ${i} ${'x'.repeat(i)}`);
    const signer = signers[i % 4];
    let signature: Uint8Array = signer ? signer.sign(message) : Ed25519Signer.generate().sign(message);
    if (i % 7 === 0) signature = Uint8Array.from(signature, (b, j) => (j === i % 64 ? b ^ 1 : b));
    if (i % 11 === 0) signature = signature.subarray(0, 63);
    return { message, signature, keys: i % 5 === 0 ? verifiers.slice().reverse() : verifiers };
  });
}

describe('signature verification on worker threads', () => {
  const pool = new SignaturePool(2);
  afterAll(() => pool.close());

  test('every verdict is the one the verifiers give on this thread, for jobs submitted together', async () => {
    const all = cases();
    const expected = all.map((c) => c.keys.findIndex((v) => v.verify(c.message, c.signature)));
    // Both outcomes are present, or the comparison proves little.
    expect(expected.filter((i) => i === -1).length).toBeGreaterThan(50);
    expect(expected.filter((i) => i >= 0).length).toBeGreaterThan(100);
    const got = await Promise.all(all.map((c) => pool.firstSigner(c.message, c.signature, c.keys)));
    expect(got).toEqual(expected);
  });

  test('after close it verifies on the calling thread, with the same verdicts', async () => {
    const closed = new SignaturePool(1);
    await closed.close();
    const all = cases().slice(0, 40);
    const got = await Promise.all(all.map((c) => closed.firstSigner(c.message, c.signature, c.keys)));
    expect(got).toEqual(all.map((c) => c.keys.findIndex((v) => v.verify(c.message, c.signature))));
  });
});
