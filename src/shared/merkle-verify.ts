/**
 * RFC 9162 §2.1 proof verification, step by step as the RFC writes it, on WebCrypto's SHA-256:
 * the same code checks proofs in the CLI (Node) and in the sandboxed renderer. Proof
 * generation lives with the tree in the main process (src/main/core/ledger/merkle).
 */

export type MerkleHash = Uint8Array;

async function sha256(...parts: Uint8Array[]): Promise<MerkleHash> {
  const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    all.set(p, at);
    at += p.length;
  }
  return new Uint8Array(await globalThis.crypto.subtle.digest('SHA-256', all));
}

export const merkleLeafHash = (entry: Uint8Array): Promise<MerkleHash> => sha256(Uint8Array.of(0x00), entry);
export const merkleNodeHash = (left: MerkleHash, right: MerkleHash): Promise<MerkleHash> => sha256(Uint8Array.of(0x01), left, right);
/** The root of the empty tree: SHA-256 of nothing. */
export const merkleEmptyRoot = (): Promise<MerkleHash> => sha256();

function equal(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}

const wellFormed = (hashes: readonly Uint8Array[]) => hashes.every((h) => h instanceof Uint8Array && h.length === 32);
const half = (n: number) => Math.floor(n / 2);

/** RFC 9162 §2.1.3.2: leaf `index` of a tree of `size` leaves, by its audit path, to `root`. */
export async function verifyInclusion(
  index: number,
  size: number,
  leaf: MerkleHash,
  proof: readonly MerkleHash[],
  root: MerkleHash,
): Promise<boolean> {
  if (!(Number.isSafeInteger(index) && Number.isSafeInteger(size) && index >= 0 && index < size)) return false;
  if (!wellFormed([leaf, root, ...proof])) return false;
  let fn = index;
  let sn = size - 1;
  let r = leaf;
  for (const p of proof) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = await merkleNodeHash(p, r);
      while (fn % 2 === 0 && fn !== 0) {
        fn = half(fn);
        sn = half(sn);
      }
    } else {
      r = await merkleNodeHash(r, p);
    }
    fn = half(fn);
    sn = half(sn);
  }
  return sn === 0 && equal(r, root);
}

/**
 * RFC 9162 §2.1.4.2: the tree of `first` leaves is a prefix of the tree of `second`, with the
 * two cases the RFC leaves to the caller (first = 0: the empty root; first = second: equal roots).
 */
export async function verifyConsistency(
  first: number,
  second: number,
  firstRoot: MerkleHash,
  secondRoot: MerkleHash,
  proof: readonly MerkleHash[],
): Promise<boolean> {
  if (!(Number.isSafeInteger(first) && Number.isSafeInteger(second) && first >= 0 && first <= second)) return false;
  if (!wellFormed([firstRoot, secondRoot, ...proof])) return false;
  if (first === 0) {
    const empty = await merkleEmptyRoot();
    return proof.length === 0 && equal(firstRoot, empty) && (second > 0 || equal(secondRoot, empty));
  }
  if (first === second) return proof.length === 0 && equal(firstRoot, secondRoot);
  if (proof.length === 0) return false;
  const path = (first & (first - 1)) === 0 ? [firstRoot, ...proof] : [...proof];
  let fn = first - 1;
  let sn = second - 1;
  while (fn % 2 === 1) {
    fn = half(fn);
    sn = half(sn);
  }
  let fr = path[0]!;
  let sr = path[0]!;
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      fr = await merkleNodeHash(c, fr);
      sr = await merkleNodeHash(c, sr);
      while (fn % 2 === 0 && fn !== 0) {
        fn = half(fn);
        sn = half(sn);
      }
    } else {
      sr = await merkleNodeHash(sr, c);
    }
    fn = half(fn);
    sn = half(sn);
  }
  return sn === 0 && equal(fr, firstRoot) && equal(sr, secondRoot);
}
