/**
 * Retention's purge on PostgreSQL, against a real throwaway cluster: what goes (bodies,
 * executions' results, decided proposals' payloads, the words in the search index), what stays
 * verifiable, what a second instance sees, and what the database refuses.
 */
import { describe, expect, test } from 'vitest';
import type pg from 'pg';
import { Ed25519Signer } from '../../../src/main/core/crypto/ed25519.ts';
import type { ReceiptDraft } from '../../../src/main/core/ledger/receipt-body.ts';
import { migratePostgres, PG_SCHEMA_VERSION } from '../../../src/main/core/store/postgres/pg-migrations.ts';
import { PostgresProposalRecords } from '../../../src/main/core/store/postgres/pg-proposal-records.ts';
import { verifyStoreChain } from '../../../src/main/core/store/postgres/pg-verify.ts';
import type { PostgresLedgerStore } from '../../../src/main/core/store/postgres/pg-ledger-store.ts';
import { payload } from '../../support/declared.ts';
import { postgresAvailability, type TestDatabase } from '../../support/postgres.ts';
import { usePostgres, type PostgresSuite } from '../../support/postgres-suite.ts';
import { newProposal, newReservation } from '../../support/record-fixtures.ts';

const HOUR = 3_600_000;
const START = Date.UTC(2026, 0, 1, 12, 0, 0);

/** A clock the test moves: receipts written before `later()` are older than the cut-off. */
function movableClock() {
  let t = START;
  return { clock: { now: () => (t += 1000) }, later: (ms: number) => (t += ms) };
}

const old = (i: number): ReceiptDraft => ({
  event: 'executed',
  action: 'greet',
  reason: `kept reason ${i}`,
  payload: payload({ note: `zebrafinch ${i}`, city: 'Köln' }),
  context: `quokka context ${i}`,
  result: `{"sum":${i}}`,
});

interface Ledger {
  db: TestDatabase;
  store: PostgresLedgerStore;
  owner: pg.Pool;
  app: pg.Pool;
  execIds: string[];
  proposalIds: string[];
  later: (ms: number) => number;
}

/** Four old receipts with bodies, two finished executions and a decided and a pending proposal; then one new receipt. */
async function ledger(pgs: PostgresSuite): Promise<Ledger> {
  const db = await pgs.fresh();
  const { clock, later } = movableClock();
  const store = await pgs.openStore(db, { signer: Ed25519Signer.generate(), clock });
  const app = pgs.pool(db.appUrl);
  const created = new Date(START).toISOString();
  const execIds: string[] = [];
  for (const nonce of ['n1', 'n2']) {
    const r = newReservation(nonce, { created_at: created });
    await store.witness((tx) => tx.reserveNonce(r));
    await app.query("UPDATE executions SET status = 'executed', result = $2, result_legacy_json = $2 WHERE id = $1", [r.id, '{"sum":5}']);
    execIds.push(r.id);
  }
  const proposals = new PostgresProposalRecords(app);
  const decided = newProposal({ payload: '{"secret":"wombat"}', context: 'wombat context', created_at: created });
  const pending = newProposal({ payload: '{"open":"pending"}', created_at: created, expires_at: '2027-01-01T00:00:00.000Z' });
  await proposals.insert(decided);
  await proposals.insert(pending);
  for (let i = 0; i < 4; i++) await store.witness((tx) => tx.append(old(i)));
  const decision = await store.witness((tx) => tx.append({ event: 'denied', action: 'greet', proposal_id: decided.id }));
  await proposals.decide(decided.id, {
    status: 'denied',
    decidedAt: decision.time,
    reason: 'no',
    result: '{"why":"no"}',
    execId: null,
    approvalId: null,
    receiptSeq: decision.seq,
  });
  later(48 * HOUR);
  await store.witness((tx) => tx.append({ ...old(9), payload: payload({ note: 'zebrafinch fresh' }) }));
  return { db, store, owner: pgs.pool(db.ownerUrl), app, execIds, proposalIds: [decided.id, pending.id], later };
}

const seqs = async (store: PostgresLedgerStore, text: string) => (await store.search({ text, count: true })).items.map((r) => r.seq);

describe.skipIf(!postgresAvailability().ok)('retention purge on PostgreSQL (real throwaway cluster)', () => {
  const pgs = usePostgres('purge');

  test('removes bodies, results and decided payloads older than the cut-off under one purge receipt; the chain still verifies', async () => {
    const l = await ledger(pgs);
    // Receipt 1 registers the key; 2–5 are old, 6 the denial, 7 the fresh one.
    expect(await seqs(l.store, 'zebrafinch')).toEqual([7, 5, 4, 3, 2]);
    expect(await seqs(l.store, 'quokka')).toEqual([7, 5, 4, 3, 2]);
    const cutoff = START + 24 * HOUR;

    const dto = await l.store.purgeOlderThan(cutoff, 'operator');
    expect(dto).toEqual({
      cutoff: new Date(cutoff).toISOString(),
      trigger: 'operator',
      receiptSeq: 8,
      purgedAt: expect.any(String),
      fromSeq: 2,
      toSeq: 5,
      receipts: 4,
      bodies: 12,
      executions: 2,
      proposals: 1,
      walTruncated: false,
      freelistPages: 0,
    });

    // Search no longer finds the purged words; what is kept still is.
    expect(await seqs(l.store, 'zebrafinch')).toEqual([7]);
    expect(await seqs(l.store, 'quokka')).toEqual([7]);
    expect(await seqs(l.store, 'koln')).toEqual([]);
    expect(await seqs(l.store, 'kept reason')).toEqual([7, 5, 4, 3, 2]);
    expect((await l.store.search({ text: 'zebrafinch', events: ['executed'], count: true })).total).toEqual({ count: 1, exact: true });
    // Nor does any row of the search index hold them.
    const { rows: words } = await l.owner.query<{ n: string }>(
      "SELECT count(*) AS n FROM receipt_search WHERE search @@ 'zebrafinch | quokka | koln'::tsquery",
    );
    expect(Number(words[0]!.n)).toBe(1);

    // The purge receipt records it; the bodies say so, and name it.
    const [purge] = await l.store.readRange(8, 1);
    expect(purge).toMatchObject({ event: 'config', reason: expect.stringMatching(/^purge: bodies of 4 receipts \(#2–#5\), 2 execution/) });
    const [purged] = await l.store.readRange(2, 1);
    expect(purged!.bodies).toEqual(
      ['payload', 'context', 'result'].map((field) => ({ field, salt: null, text: null, purgedAt: dto.purgedAt, purgeSeq: 8 })),
    );
    const [fresh] = await l.store.readRange(7, 1);
    expect(fresh!.bodies!.every((b) => b.text !== null && b.purgedAt === null)).toBe(true);
    const { rows: executions } = await l.owner.query('SELECT result, result_legacy_json, purged_at FROM executions ORDER BY id');
    expect(executions).toEqual([0, 1].map(() => ({ result: null, result_legacy_json: null, purged_at: dto.purgedAt })));
    const proposals = new PostgresProposalRecords(l.app);
    expect(await proposals.get(l.proposalIds[0]!)).toMatchObject({ payload: '', context: null, result: null, purged_at: dto.purgedAt });
    expect(await proposals.get(l.proposalIds[1]!)).toMatchObject({ payload: '{"open":"pending"}', purged_at: null });

    expect(await verifyStoreChain(l.store)).toMatchObject({ valid: true, checked: 8 });
    // Nothing left to purge: nothing is written.
    expect(await l.store.purgeOlderThan(cutoff, 'retention')).toMatchObject({ receiptSeq: null, purgedAt: null, bodies: 0, receipts: 0 });
    expect((await l.store.head()).seq).toBe(8);

    // A second instance on the same database sees the purge.
    const other = await pgs.openStore(l.db);
    expect((await other.search({ text: 'zebrafinch' })).items.map((r) => r.seq)).toEqual([7]);
    expect((await other.readRange(3, 1))[0]!.bodies!.map((b) => b.purgeSeq)).toEqual([8, 8, 8]);
    expect(await verifyStoreChain(other)).toMatchObject({ valid: true, checked: 8 });
  });

  test('verification still catches a dropped, altered or falsely purged body', async () => {
    const l = await ledger(pgs);
    await l.store.purgeOlderThan(START + 24 * HOUR, 'retention');
    expect(await verifyStoreChain(l.store)).toMatchObject({ valid: true });
    const tamper = async (sql: string, check: (r: Awaited<ReturnType<typeof verifyStoreChain>>) => void) => {
      const client = await l.owner.connect();
      try {
        await client.query('BEGIN');
        // As a superuser or a writer that bypasses the triggers would.
        await client.query('ALTER TABLE receipt_bodies DISABLE TRIGGER USER');
        await client.query(sql);
        await client.query('ALTER TABLE receipt_bodies ENABLE TRIGGER USER');
        await client.query('COMMIT');
        check(await verifyStoreChain(l.store));
      } finally {
        client.release();
      }
    };
    // An altered kept body.
    await tamper('UPDATE receipt_bodies SET body = \'{"note":"changed"}\' WHERE seq = 7 AND field = \'payload\'', (r) =>
      expect(r).toMatchObject({ valid: false, firstBadSeq: 7, problem: 'the payload body does not hash to its salted hash' }),
    );
    await tamper('UPDATE receipt_bodies SET body = \'{"note":"zebrafinch fresh"}\' WHERE seq = 7 AND field = \'payload\'', () => undefined);
    // A kept body made to look purged, naming a receipt that is not a purge.
    await tamper(
      "UPDATE receipt_bodies SET salt = NULL, body = NULL, purged_at = '2026-01-03T12:00:00.000Z', purge_seq = 6 WHERE seq = 7 AND field = 'context'",
      (r) => expect(r).toMatchObject({ valid: false, firstBadSeq: 7, problem: 'the context body is gone, but no purge receipt covers it' }),
    );
  });

  test('a body the receipt commits to, dropped, is caught', async () => {
    const l = await ledger(pgs);
    await l.store.purgeOlderThan(START + 24 * HOUR, 'retention');
    const client = await l.owner.connect();
    try {
      await client.query('BEGIN');
      await client.query('ALTER TABLE receipt_bodies DISABLE TRIGGER USER');
      await client.query("DELETE FROM receipt_bodies WHERE seq = 3 AND field = 'context'");
      await client.query('COMMIT');
    } finally {
      client.release();
    }
    expect(await verifyStoreChain(l.store)).toMatchObject({
      valid: false,
      firstBadSeq: 3,
      problem: 'the context body the receipt commits to is missing',
    });
  });

  test('the database lets a body, a result, a decided payload and search words only be purged, once', async () => {
    const l = await ledger(pgs);
    await l.store.purgeOlderThan(START + 24 * HOUR, 'operator');
    const refused = /only ever purged|stays purged|never changes again|may only be removed/;
    // Nothing purged comes back, even for the owner.
    for (const db of [l.app, l.owner]) {
      await expect(
        db.query("UPDATE receipt_bodies SET body = 'x', salt = '\\x00', purged_at = NULL, purge_seq = NULL WHERE seq = 2"),
      ).rejects.toThrow(refused);
      await expect(db.query("UPDATE executions SET result = '{}' WHERE id = $1", [l.execIds[0]])).rejects.toThrow(refused);
      await expect(db.query("UPDATE proposals SET payload = 'back' WHERE id = $1", [l.proposalIds[0]])).rejects.toThrow(refused);
      await expect(db.query("UPDATE receipt_search SET search = 'zebrafinch'::tsvector WHERE seq = 2")).rejects.toThrow(refused);
      // Nor moved: 'kept' is the reason's first word, at position 3 (after the action and a gap).
      await expect(db.query("UPDATE receipt_search SET search = 'kept:1'::tsvector WHERE seq = 2")).rejects.toThrow(refused);
      // A pending proposal is not purged, nor its payload changed.
      await expect(db.query("UPDATE proposals SET payload = '{}' WHERE id = $1", [l.proposalIds[1]])).rejects.toThrow(refused);
      await expect(db.query("UPDATE proposals SET payload = '', purged_at = 'now' WHERE id = $1", [l.proposalIds[1]])).rejects.toThrow(
        refused,
      );
    }
    // A kept body cannot be changed in place either, only purged.
    await expect(l.app.query("UPDATE receipt_bodies SET body = 'x' WHERE seq = 7 AND field = 'payload'")).rejects.toThrow(refused);
    // The app role may remove words, never add them, and may delete nothing.
    await l.app.query("UPDATE receipt_search SET search = ts_delete(search, 'fresh') WHERE seq = 7");
    await l.app.query("UPDATE receipt_search SET search = 'kept:3'::tsvector WHERE seq = 7");
    await expect(l.app.query('DELETE FROM receipt_search')).rejects.toMatchObject({ code: '42501' });
    await expect(l.app.query('UPDATE receipt_search SET event = $1', ['denied'])).rejects.toMatchObject({ code: '42501' });
    await expect(l.owner.query('DELETE FROM receipt_search')).rejects.toThrow('receipt_search are kept');
    // And the receipts themselves stay append-only.
    await expect(l.app.query('UPDATE receipts SET reason = NULL')).rejects.toMatchObject({ code: '42501' });
  });

  test('a database at version 4 keeps its receipts’ words when migration 5 moves them beside the receipts', async () => {
    const db = await pgs.cluster.createDatabase(`purge_v4_${Date.now()}`);
    const owner = pgs.pool(db.ownerUrl);
    expect(await migratePostgres(owner, { appRole: pgs.cluster.app.user, target: 4 })).toEqual([1, 2, 3, 4]);
    await owner.query(
      `INSERT INTO receipts (seq, event, time, hash, prev_hash, body, signature, search)
       VALUES (1, 'config', '2026-01-01T00:00:00.000Z', $1, $2, '{}', 's', 'wallaby:1'::tsvector)`,
      ['c'.repeat(64), '0'.repeat(64)],
    );
    // 5 and every later version.
    expect(await migratePostgres(owner, { appRole: pgs.cluster.app.user })).toEqual(
      Array.from({ length: PG_SCHEMA_VERSION - 4 }, (_, i) => i + 5),
    );
    const { rows } = await owner.query(
      "SELECT count(*)::int AS n FROM information_schema.columns WHERE table_name = 'receipts' AND column_name = 'search'",
    );
    expect(rows[0]).toEqual({ n: 0 });
    const store = await pgs.openStore(db);
    expect((await store.search({ text: 'wallaby', events: ['config'], count: true })).total).toEqual({ count: 1, exact: true });
    expect((await store.search({ text: 'walla' })).items.map((r) => r.seq)).toEqual([1]);
  });
});
