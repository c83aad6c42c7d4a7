/**
 * One receipt key per instance, registered in the ledger by a `config` receipt, against a real
 * throwaway cluster: each key registered once (also when instances start together), and the
 * verifier accepting exactly the registered (and, when given, pinned) keys.
 */
import { describe, expect, test } from 'vitest';
import type pg from 'pg';
import { Ed25519Signer } from '../../../src/main/core/crypto/ed25519.ts';
import type { ReceiptDraft } from '../../../src/main/core/ledger/receipt-body.ts';
import { sealReceipt } from '../../../src/main/core/ledger/seal-receipt.ts';
import { registrationDraft } from '../../../src/main/core/store/postgres/pg-receipt-keys.ts';
import { verifyStoreChain } from '../../../src/main/core/store/postgres/pg-verify.ts';
import type { PostgresLedgerStore } from '../../../src/main/core/store/postgres/pg-ledger-store.ts';
import { postgresAvailability } from '../../support/postgres.ts';
import { usePostgres } from '../../support/postgres-suite.ts';
import { newReservation } from '../../support/record-fixtures.ts';

/** Appends a receipt signed by `signer` straight into the table, as a writer that skips OpenExec would. */
async function insertDirectly(owner: pg.Pool, store: PostgresLedgerStore, draft: ReceiptDraft, signer: Ed25519Signer) {
  const head = await store.head();
  const { row } = sealReceipt(draft, head.seq + 1, head.hash, new Date().toISOString(), signer);
  await owner.query(
    `INSERT INTO receipts (seq, event, time, action, hash, prev_hash, body, signature, reason)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
    [row.seq, row.event, row.time, row.action, row.hash, row.prev_hash, row.body, row.signature, row.reason],
  );
  return row.seq;
}

const registrations = async (owner: pg.Pool) =>
  (
    await owner.query<{ reason: string }>(
      "SELECT reason FROM receipts WHERE event = 'config' AND reason LIKE 'receipt key registered:%' ORDER BY seq",
    )
  ).rows.map((r) => r.reason);

describe.skipIf(!postgresAvailability().ok)('receipt keys registered in the PostgreSQL ledger (real throwaway cluster)', () => {
  const pgs = usePostgres('keys');

  test('two instances register once each, before their first receipt; a reopened instance does not register again', async () => {
    const db = await pgs.fresh();
    const [ka, kb] = [Ed25519Signer.generate(), Ed25519Signer.generate()];
    const a = await pgs.openStore(db, { signer: ka });
    // Nothing is registered by a write that appends no receipt.
    await a.witness((tx) => tx.reserveNonce(newReservation('n1', { id: 'e1' })));
    expect((await a.head()).seq).toBe(0);
    const first = await a.witness((tx) => tx.append({ event: 'config', reason: 'a 1' }));
    expect(first.seq).toBe(2);
    const b = await pgs.openStore(db, { signer: kb });
    await b.witness((tx) => tx.append({ event: 'config', reason: 'b 1' }));
    await a.witness((tx) => tx.append({ event: 'config', reason: 'a 2' }));
    const again = await pgs.openStore(db, { signer: ka });
    await again.witness((tx) => tx.append({ event: 'config', reason: 'a 3' }));

    const receipts = await a.readRange(1, 100);
    expect(receipts.map((r) => r.reason)).toEqual([
      `receipt key registered: ${ka.keyId}`,
      'a 1',
      `receipt key registered: ${kb.keyId}`,
      'b 1',
      'a 2',
      'a 3',
    ]);
    const registration = JSON.parse(receipts[0]!.body) as { receipt_key_id: string; details: unknown };
    expect(registration.receipt_key_id).toBe(ka.keyId);
    expect(registration.details).toEqual(registrationDraft(ka).details);
    expect(await verifyStoreChain(a, { pinnedKeyIds: [ka.keyId, kb.keyId] })).toEqual({
      valid: true,
      checked: 6,
      firstBadSeq: null,
      problem: null,
      keys: [
        { keyId: ka.keyId, seq: 1, pinned: true },
        { keyId: kb.keyId, seq: 3, pinned: true },
      ],
    });
    // The store's index of registrations says the same, and nobody can add a second row for a key.
    const owner = pgs.pool(db.ownerUrl);
    const { rows } = await owner.query<{ key_id: string; seq: string }>('SELECT key_id, seq FROM receipt_keys ORDER BY seq');
    expect(rows.map((r) => [r.key_id, Number(r.seq)])).toEqual([
      [ka.keyId, 1],
      [kb.keyId, 3],
    ]);
    await expect(
      pgs.pool(db.appUrl).query('INSERT INTO receipt_keys (key_id, public_key_pem, seq) VALUES ($1, $2, 2)', [ka.keyId, 'x']),
    ).rejects.toMatchObject({ code: '23505' });
  });

  test('a receipt signed by a third, unregistered key, inserted directly with a valid chain, is refused and its key named', async () => {
    const db = await pgs.fresh();
    const [ka, kb, stranger] = [Ed25519Signer.generate(), Ed25519Signer.generate(), Ed25519Signer.generate()];
    const a = await pgs.openStore(db, { signer: ka });
    const b = await pgs.openStore(db, { signer: kb });
    await a.witness((tx) => tx.append({ event: 'config', reason: 'a' }));
    await b.witness((tx) => tx.append({ event: 'config', reason: 'b' }));
    expect(await verifyStoreChain(a)).toMatchObject({ valid: true, checked: 4 });

    const owner = pgs.pool(db.ownerUrl);
    const forged = await insertDirectly(owner, a, { event: 'executed', action: 'greet', reason: 'not ours' }, stranger);
    expect(forged).toBe(5);
    // The chain links (the database took it); the key is what gives it away.
    expect(await verifyStoreChain(a)).toEqual({
      valid: false,
      checked: 4,
      firstBadSeq: 5,
      problem: `signed by a receipt key that is not registered (${stranger.keyId})`,
      keys: [
        { keyId: ka.keyId, seq: 1, pinned: false },
        { keyId: kb.keyId, seq: 3, pinned: false },
      ],
    });
  });

  test('a registration must be signed by the key it registers, and a pinned reviewer refuses any key it did not pin', async () => {
    const db = await pgs.fresh();
    const [ka, stranger] = [Ed25519Signer.generate(), Ed25519Signer.generate()];
    const a = await pgs.openStore(db, { signer: ka });
    await a.witness((tx) => tx.append({ event: 'config', reason: 'a' }));
    const owner = pgs.pool(db.ownerUrl);
    // The stranger claims to register the instance's key with its own signature.
    const claimed = { ...registrationDraft(ka) };
    await insertDirectly(owner, a, claimed, stranger);
    expect(await verifyStoreChain(a)).toMatchObject({
      valid: false,
      firstBadSeq: 3,
      problem: `a registration of ${ka.keyId} signed by another key (${stranger.keyId})`,
    });

    // A well-formed self-signed registration by a writer that skips OpenExec: the ledger's word
    // accepts it; a reviewer who pinned the instances' keys does not.
    const db2 = await pgs.fresh();
    const a2 = await pgs.openStore(db2, { signer: ka });
    await a2.witness((tx) => tx.append({ event: 'config', reason: 'a' }));
    const owner2 = pgs.pool(db2.ownerUrl);
    await insertDirectly(owner2, a2, registrationDraft(stranger), stranger);
    await insertDirectly(owner2, a2, { event: 'executed', action: 'greet' }, stranger);
    expect(await verifyStoreChain(a2)).toMatchObject({ valid: true, checked: 4 });
    expect(await verifyStoreChain(a2, { pinnedKeyIds: [ka.keyId] })).toMatchObject({
      valid: false,
      firstBadSeq: 3,
      problem: `registers receipt key ${stranger.keyId}, which is not pinned`,
    });
  });

  test('instances starting together register each key once, also two instances sharing one key', async () => {
    const db = await pgs.fresh();
    const keys = Array.from({ length: 6 }, () => Ed25519Signer.generate());
    // Six keys, the last one used by two instances at once (a restart overlapping the old process).
    const signers = [...keys, keys[5]!];
    const stores = await Promise.all(signers.map((signer) => pgs.openStore(db, { signer })));
    await Promise.all(
      stores.flatMap((store, i) =>
        Array.from({ length: 8 }, (_, n) => store.witness((tx) => tx.append({ event: 'config', reason: `${i} ${n}` }))),
      ),
    );
    const owner = pgs.pool(db.ownerUrl);
    expect((await registrations(owner)).sort()).toEqual(keys.map((k) => `receipt key registered: ${k.keyId}`).sort());
    const verdict = await verifyStoreChain(stores[0]!, { pinnedKeyIds: keys.map((k) => k.keyId) });
    expect(verdict).toMatchObject({ valid: true, checked: 7 * 8 + 6, problem: null });
    expect(verdict.keys.map((k) => k.keyId).sort()).toEqual(keys.map((k) => k.keyId).sort());
  });
});
