import type { Ed25519Verifier } from '../../crypto/ed25519.ts';
import { isJsonObject } from '../../json/json-value.ts';
import { parseJson } from '../../json/parse.ts';
import { GENESIS_PREV_HASH } from '../../ledger/receipt-body.ts';
import { checkSignedReceipt } from '../../ledger/verify-ledger.ts';
import type { ChainCheckDto, ReceiptDto } from '../../../../shared/console-dto.ts';
import type { LedgerStore } from '../ledger-store.ts';

const PAGE = 1000;

/** The receipt key id a body names, or null when it names none. */
function receiptKeyOf(body: string): string | null {
  try {
    const parsed = parseJson(body);
    const id = isJsonObject(parsed) ? parsed['receipt_key_id'] : undefined;
    return typeof id === 'string' ? id : null;
  } catch {
    return null;
  }
}

/**
 * Walks a store's whole chain in order with the ledger's own receipt check: gapless seq, each
 * link, each hash and each signature, by whichever of `keys` (the instances appending to one
 * database each sign with their own) the receipt names; any other key is a failure.
 */
export async function verifyStoreChain(store: LedgerStore, keys: readonly Ed25519Verifier[]): Promise<ChainCheckDto> {
  const byId = new Map(keys.map((k) => [k.keyId, k]));
  let checked = 0;
  let prevHash = GENESIS_PREV_HASH;
  const bad = (seq: number, problem: string): ChainCheckDto => ({ valid: false, checked, firstBadSeq: seq, problem });
  for (let from = 1; ; from += PAGE) {
    const page: ReceiptDto[] = await store.readRange(from, PAGE);
    for (const [i, r] of page.entries()) {
      if (r.seq !== from + i) return bad(from + i, `sequence gap: expected ${from + i}, found ${r.seq}`);
      if (r.prevHash !== prevHash) return bad(r.seq, "link broken: prev_hash is not the previous receipt's hash");
      const keyId = receiptKeyOf(r.body);
      const verifier = keyId === null ? undefined : byId.get(keyId);
      if (verifier === undefined) return bad(r.seq, `signed by a receipt key that is not registered (${keyId ?? 'none named'})`);
      const check = checkSignedReceipt(
        { seq: r.seq, hash: r.hash, prev_hash: r.prevHash, body: r.body, signature: r.signature },
        verifier,
        null,
      );
      if (check.problems.length > 0) return bad(r.seq, check.problems.join('; '));
      checked++;
      prevHash = r.hash;
    }
    if (page.length < PAGE) return { valid: true, checked, firstBadSeq: null, problem: null };
  }
}
