/**
 * A receipt's INSERT is sent without waiting for its answer (pg-left-behind.ts). When the server
 * refuses it, the piece that appended it must fail with that refusal, however it goes on: with
 * another query, with nothing more, or catching the error of its next query; the rest of its
 * group still commits, and a piece alone in its group leaves nothing. The refusal is real: a
 * trigger installed on the throwaway cluster refuses receipts whose reason is `poison`. And a
 * piece that swallows a refused statement of its own is not reported as committed.
 */
import { describe, expect, test } from 'vitest';
import type { LedgerStore } from '../../../src/main/core/store/ledger-store.ts';
import { sessionOf } from '../../../src/main/core/store/postgres/pg-session.ts';
import { postgresAvailability } from '../../support/postgres.ts';
import { usePostgres } from '../../support/postgres-suite.ts';
import { newReservation } from '../../support/record-fixtures.ts';

const POISON = `
  CREATE FUNCTION refuse_poison() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    IF NEW.reason = 'poison' THEN RAISE EXCEPTION 'poisoned receipt' USING ERRCODE = 'P0001'; END IF;
    RETURN NEW;
  END $$;
  CREATE TRIGGER refuse_poison BEFORE INSERT ON receipts FOR EACH ROW EXECUTE FUNCTION refuse_poison();`;

const reasons = async (store: LedgerStore) => (await store.readRange(1, 100)).map((r) => `${r.seq} ${r.reason ?? ''}`);

describe.skipIf(!postgresAvailability().ok)('a statement the server refuses inside a group transaction', () => {
  const pgs = usePostgres('left_behind');

  test('fails its piece whatever the piece does next; the rest of the group commits, gapless', async () => {
    const db = await pgs.fresh();
    await pgs.cluster.superQuery(db.name, POISON);
    const store = await pgs.openStore(db);
    const heard: number[] = [];
    store.subscribe((receipts) => heard.push(...receipts.map((r) => r.seq)));
    const append = (reason: string) => store.witness((tx) => tx.append({ event: 'config', reason }));
    // Submitted in one turn: one group, each piece in its savepoint.
    const outcomes = await Promise.allSettled([
      append('first'),
      // Goes on with a query: it is refused as the receipt was, not as an aborted transaction.
      store.witness(async (tx) => {
        await tx.append({ event: 'config', reason: 'poison' });
        return tx.reserveNonce(newReservation('after-poison'));
      }),
      // Does nothing more: the refusal arrives when the piece has already returned.
      append('poison'),
      // Catches its next query's error and returns as if all was well.
      store.witness(async (tx) => {
        await tx.append({ event: 'config', reason: 'poison' });
        return tx.reserveNonce(newReservation('caught')).catch(() => 'carried on');
      }),
      append('last'),
    ]);
    expect(outcomes.map((o) => (o.status === 'fulfilled' ? 'ok' : String((o.reason as Error).message)))).toEqual([
      'ok',
      'poisoned receipt',
      'poisoned receipt',
      'poisoned receipt',
      'ok',
    ]);
    const committed = await reasons(store);
    expect(committed.slice(1)).toEqual(['2 first', '3 last']);
    expect(committed[0]).toMatch(/^1 receipt key registered: /);
    expect(heard).toEqual([1, 2, 3]);
    // The refused pieces' nonces went with them.
    expect(await store.witness((tx) => tx.reserveNonce(newReservation('after-poison')))).toBe(true);
    expect(await store.witness((tx) => tx.reserveNonce(newReservation('caught')))).toBe(true);
  });

  test('a piece alone in its group leaves nothing, and the next group goes on', async () => {
    const db = await pgs.fresh();
    await pgs.cluster.superQuery(db.name, POISON);
    const store = await pgs.openStore(db);
    await expect(store.witness((tx) => tx.append({ event: 'config', reason: 'poison' }))).rejects.toThrow('poisoned receipt');
    expect(await reasons(store)).toEqual([]);
    expect((await store.witness((tx) => tx.append({ event: 'config', reason: 'next' }))).seq).toBe(2);
    expect((await reasons(store))[1]).toBe('2 next');
  });

  test('a piece alone that catches a refused statement and returns is not committed, nor answered as if it were', async () => {
    const store = await pgs.openStore(await pgs.fresh());
    const piece = store.witness(async (tx) => {
      await tx.reserveNonce(newReservation('swallowed'));
      await sessionOf(tx)
        .query('SELECT 1 / 0')
        .catch(() => undefined);
      return 'carried on';
    });
    await expect(piece).rejects.toThrow(/rolled back: COMMIT ended it with ROLLBACK/);
    expect(await store.witness((tx) => tx.reserveNonce(newReservation('swallowed')))).toBe(true);
  });
});
