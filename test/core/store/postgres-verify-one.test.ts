/**
 * One receipt verified on PostgreSQL (LedgerStore.reads.verifyOne), where each instance signs
 * with its own key: every receipt by the key its instance registered, whichever instance asks;
 * a receipt signed by a key the ledger never registered, and a column only PostgreSQL keeps,
 * changed by the owner, are caught. Real throwaway cluster.
 */
import { describe, expect, test } from 'vitest';
import { Ed25519Signer } from '../../../src/main/core/crypto/ed25519.ts';
import { postgresAvailability } from '../../support/postgres.ts';
import { usePostgres } from '../../support/postgres-suite.ts';
import { asOwnerWithoutTriggers, insertSignedBy, twoInstanceLedger } from '../../support/pg-ledger-fixture.ts';

describe.skipIf(!postgresAvailability().ok)('one receipt verified on PostgreSQL (real throwaway cluster)', () => {
  const pgs = usePostgres('verify_one');

  test('every receipt of two instances verifies with its own instance key, asked of either', async () => {
    const { a, b, size } = await twoInstanceLedger(pgs);
    for (let seq = 1; seq <= size; seq++) {
      for (const store of [a, b]) {
        expect(await store.reads.verifyOne(seq, null), `receipt ${seq}`).toMatchObject({ seq, valid: true, problems: [] });
      }
    }
  });

  test('a receipt by a key the ledger never registered, or with its agent column changed, does not verify', async () => {
    const { db, a, size } = await twoInstanceLedger(pgs);
    const owner = pgs.pool(db.ownerUrl);
    const stranger = Ed25519Signer.generate();
    const forged = await insertSignedBy(owner, a, { event: 'config', reason: 'not ours' }, stranger);
    expect(forged).toBe(size + 1);
    expect(await a.reads.verifyOne(forged, null)).toEqual({
      seq: forged,
      hashValid: true,
      signatureValid: false,
      linkValid: true,
      inLedger: true,
      valid: false,
      problems: [`signed by a receipt key that is not registered (${stranger.keyId})`],
    });

    // Receipt 2 is instance A's proposal by agent-a (pg-ledger-fixture.ts).
    await asOwnerWithoutTriggers(owner, ['receipts'], "UPDATE receipts SET agent = 'agent-b' WHERE seq = 2");
    expect(await a.reads.verifyOne(2, null)).toMatchObject({
      hashValid: true,
      signatureValid: true,
      valid: false,
      problems: ['stored agent differs from the signed body'],
    });
  });
});
