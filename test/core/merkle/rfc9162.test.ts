import { describe, expect, test } from 'vitest';
import { createHash } from 'node:crypto';
import { verifyConsistency, verifyInclusion } from '../../../src/shared/merkle-verify.ts';
import {
  consistencyProof,
  EMPTY_ROOT,
  inclusionProof,
  leafHash,
  nodeHash,
  StreamingRoot,
  subtreeFromPerfect,
  type Hash,
} from '../../../src/main/core/ledger/merkle/rfc9162.ts';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const unhex = (h: string) => new Uint8Array(Buffer.from(h, 'hex'));

/**
 * Known answers from the Certificate Transparency reference tree (RFC 6962's test data, the
 * same eight leaves every CT implementation checks): roots of sizes 0..8 and the published
 * inclusion and consistency proofs.
 */
const CT_LEAVES = ['', '00', '10', '2021', '3031', '40414243', '5051525354555657', '606162636465666768696a6b6c6d6e6f'].map(unhex);
const CT_ROOTS = [
  'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
  'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
];
const CT_INCLUSION = [
  {
    index: 0,
    size: 8,
    proof: [
      '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
    ],
  },
  {
    index: 5,
    size: 8,
    proof: [
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
      'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ],
  },
];
const CT_CONSISTENCY = [
  {
    first: 2,
    second: 8,
    proof: [
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
    ],
  },
  {
    first: 6,
    second: 8,
    proof: [
      '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
      'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ],
  },
];

/** MTH straight from RFC 6962's definition, with no stored nodes: the second implementation. */
function naiveMth(leaves: readonly Hash[]): Hash {
  if (leaves.length === 0) return new Uint8Array(createHash('sha256').digest());
  if (leaves.length === 1) return leaves[0]!;
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return nodeHash(naiveMth(leaves.slice(0, k)), naiveMth(leaves.slice(k)));
}

/** Our generator over an in-memory tree, through the same perfect-subtree path the store uses. */
function generatorOver(leaves: readonly Hash[]) {
  return subtreeFromPerfect((level, index) => naiveMth(leaves.slice(index * 2 ** level, (index + 1) * 2 ** level)));
}

const ctLeafHashes = CT_LEAVES.map(leafHash);

describe('RFC 9162 Merkle tree', async () => {
  test('roots of the CT reference tree, sizes 0..8, three ways', async () => {
    expect(hex(EMPTY_ROOT)).toBe(CT_ROOTS[0]);
    const streaming = new StreamingRoot();
    expect(hex(streaming.root())).toBe(CT_ROOTS[0]);
    for (let n = 1; n <= 8; n++) {
      streaming.push(ctLeafHashes[n - 1]!);
      expect(hex(streaming.root()), `streaming ${n}`).toBe(CT_ROOTS[n]);
      expect(hex(naiveMth(ctLeafHashes.slice(0, n))), `naive ${n}`).toBe(CT_ROOTS[n]);
      expect(hex(generatorOver(ctLeafHashes)(0, n)), `perfect subtrees ${n}`).toBe(CT_ROOTS[n]);
    }
  });

  test('the published inclusion proofs, generated and verified', async () => {
    const mth = generatorOver(ctLeafHashes);
    for (const v of CT_INCLUSION) {
      expect(inclusionProof(v.index, v.size, mth).map(hex)).toEqual(v.proof);
      expect(await verifyInclusion(v.index, v.size, ctLeafHashes[v.index]!, v.proof.map(unhex), unhex(CT_ROOTS[v.size]!))).toBe(true);
    }
  });

  test('the published consistency proofs, generated and verified', async () => {
    const mth = generatorOver(ctLeafHashes);
    for (const v of CT_CONSISTENCY) {
      expect(consistencyProof(v.first, v.second, mth).map(hex)).toEqual(v.proof);
      expect(await verifyConsistency(v.first, v.second, unhex(CT_ROOTS[v.first]!), unhex(CT_ROOTS[v.second]!), v.proof.map(unhex))).toBe(
        true,
      );
    }
  });

  const leaves = Array.from({ length: 40 }, (_, i) => leafHash(Uint8Array.of(i, i * 3)));
  const roots = Array.from({ length: 41 }, (_, n) => naiveMth(leaves.slice(0, n)));
  const mth = generatorOver(leaves);

  test('every inclusion proof of every size up to 40 verifies; a mangled one never does', async () => {
    for (let n = 1; n <= 40; n++) {
      for (let i = 0; i < n; i++) {
        const proof = inclusionProof(i, n, mth);
        expect(await verifyInclusion(i, n, leaves[i]!, proof, roots[n]!), `${i}/${n}`).toBe(true);
        if (proof.length > 0) {
          const flipped = proof.map((p) => Uint8Array.from(p));
          flipped[0]![0]! ^= 1;
          expect(await verifyInclusion(i, n, leaves[i]!, flipped, roots[n]!)).toBe(false);
          expect(await verifyInclusion(i, n, leaves[i]!, proof.slice(1), roots[n]!)).toBe(false);
        }
        expect(await verifyInclusion(i, n, leaves[i]!, [...proof, leaves[0]!], roots[n]!)).toBe(false);
        if (n > 1) expect(await verifyInclusion((i + 1) % n, n, leaves[i]!, proof, roots[n]!)).toBe(false);
      }
    }
  });

  test('every consistency proof between sizes up to 40 verifies; a mangled one never does', async () => {
    for (let n = 0; n <= 40; n++) {
      for (let m = 0; m <= n; m++) {
        const proof = consistencyProof(m, n, mth);
        expect(await verifyConsistency(m, n, roots[m]!, roots[n]!, proof), `${m}→${n}`).toBe(true);
        if (m > 0 && m < n) {
          const flipped = proof.map((p) => Uint8Array.from(p));
          flipped.at(-1)![5]! ^= 1;
          expect(await verifyConsistency(m, n, roots[m]!, roots[n]!, flipped)).toBe(false);
          expect(await verifyConsistency(m, n, roots[m]!, roots[n]!, proof.slice(0, -1))).toBe(false);
          // A different history of the same length: the old root no longer fits.
          expect(await verifyConsistency(m, n, roots[m - 1] ?? EMPTY_ROOT, roots[n]!, proof)).toBe(false);
        }
      }
    }
    expect(await verifyConsistency(0, 8, unhex(CT_ROOTS[1]!), unhex(CT_ROOTS[8]!), [])).toBe(false);
    expect(await verifyConsistency(4, 4, roots[4]!, roots[5]!, [])).toBe(false);
    expect(await verifyConsistency(5, 4, roots[5]!, roots[4]!, [])).toBe(false);
  });
});
