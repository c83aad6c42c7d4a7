import { isJsonObject, type JsonObject } from '../../json/json-value.ts';
import { parseJson } from '../../json/parse.ts';
import { GENESIS_PREV_HASH } from '../../ledger/receipt-body.ts';
import { checkSignedReceipt } from '../../ledger/verify-ledger.ts';
import type { ChainCheckDto, ReceiptDto } from '../../../../shared/console-dto.ts';
import type { LedgerStore } from '../ledger-store.ts';
import { LedgerKeys, type LedgerKey } from './pg-ledger-keys.ts';
import { BodyCheck } from './pg-verify-bodies.ts';

export type { LedgerKey };

const PAGE = 1000;

export interface StoreChainCheck extends ChainCheckDto {
  /** The keys registered up to the first failure, in registration order. */
  keys: LedgerKey[];
}

export interface VerifyStoreOptions {
  /**
   * Key ids the reviewer holds out of band (`--key-id`). When given, a registration of any
   * other key is a failure: the ledger may name only these. Without it the ledger's own
   * registrations are trusted, which whoever can insert receipts can extend.
   */
  pinnedKeyIds?: readonly string[];
}

export function parsedBody(body: string): JsonObject | null {
  try {
    const parsed = parseJson(body);
    return isJsonObject(parsed) ? parsed : null;
  } catch {
    return null;
  }
}

/**
 * Walks a store's whole chain in order with the ledger's own receipt check: gapless seq, each
 * link, each hash and each signature, and the bodies each receipt commits to (kept, or purged
 * by a purge receipt that covers them: pg-verify-bodies.ts). The accepted keys are those the ledger registered
 * (LedgerKeys), each from its registration on; a receipt signed by any other key, or by a key
 * before its registration, is a failure that names the key. `verifyPostgresLedger`
 * (pg-verify-ledger.ts) adds what only the database holds: the stored columns, the bodies,
 * the Merkle tree and the side tables.
 */
export async function verifyStoreChain(store: LedgerStore, options: VerifyStoreOptions = {}): Promise<StoreChainCheck> {
  const keys = new LedgerKeys(options.pinnedKeyIds);
  let checked = 0;
  let prevHash = GENESIS_PREV_HASH;
  const bad = (seq: number, problem: string): StoreChainCheck => ({ valid: false, checked, firstBadSeq: seq, problem, keys: keys.list() });
  const bodies = new BodyCheck();
  for (let from = 1; ; from += PAGE) {
    const page: ReceiptDto[] = await store.readRange(from, PAGE);
    for (const [i, r] of page.entries()) {
      if (r.seq !== from + i) return bad(from + i, `sequence gap: expected ${from + i}, found ${r.seq}`);
      if (r.prevHash !== prevHash) return bad(r.seq, "link broken: prev_hash is not the previous receipt's hash");
      const body = parsedBody(r.body);
      if (body === null) return bad(r.seq, 'body is not a JSON object');
      const signer = keys.signerOf(body);
      if (typeof signer === 'string') return bad(r.seq, signer);
      const check = checkSignedReceipt(
        { seq: r.seq, hash: r.hash, prev_hash: r.prevHash, body: r.body, signature: r.signature },
        signer.verifier,
        null,
      );
      if (check.problems.length > 0) return bad(r.seq, check.problems.join('; '));
      const failure = await bodies.problem(r, body);
      if (failure !== null) return bad(failure.seq, failure.problem);
      keys.accept(signer, r.seq);
      checked++;
      prevHash = r.hash;
    }
    if (page.length < PAGE) {
      const failure = bodies.unsettled();
      return failure === null
        ? { valid: true, checked, firstBadSeq: null, problem: null, keys: keys.list() }
        : bad(failure.seq, failure.problem);
    }
  }
}
