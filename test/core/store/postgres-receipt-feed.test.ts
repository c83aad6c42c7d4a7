/**
 * Several consoles, one ledger: a PostgreSQL store opened with `follow` hears every instance's
 * receipts, in seq order, each once, whether they were its own (delivered as committed) or
 * another's (announced by NOTIFY, then read), also across a lost notification connection.
 * Real throwaway cluster.
 */
import { describe, expect, test } from 'vitest';
import { FOLLOWER_APPLICATION_NAME } from '../../../src/main/core/store/postgres/pg-follow.ts';
import { ReceiptFeed } from '../../../src/main/core/store/postgres/pg-receipt-feed.ts';
import type { PostgresLedgerStore } from '../../../src/main/core/store/postgres/pg-ledger-store.ts';
import type { ReceiptDto } from '../../../src/shared/console-dto.ts';
import { postgresAvailability } from '../../support/postgres.ts';
import { usePostgres } from '../../support/postgres-suite.ts';

const until = async (check: () => boolean, what: string): Promise<void> => {
  for (let i = 0; i < 1000 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
  if (!check()) throw new Error(`timed out waiting for ${what}`);
};

/** Every seq a store's subscription heard, in the order heard. */
function heardBy(store: PostgresLedgerStore): { seqs: number[]; receipts: ReceiptDto[] } {
  const heard = { seqs: [] as number[], receipts: [] as ReceiptDto[] };
  store.subscribe((receipts) => {
    for (const r of receipts) {
      heard.seqs.push(r.seq);
      heard.receipts.push(r);
    }
  });
  return heard;
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe.skipIf(!postgresAvailability().ok)('every instance’s receipts through subscribe (real throwaway cluster)', () => {
  const pgs = usePostgres('feed');

  test('two instances appending at once each hear the whole ledger in order, once; without follow only their own', async () => {
    const db = await pgs.fresh();
    const a = await pgs.openStore(db, { follow: {} });
    const b = await pgs.openStore(db, { follow: {} });
    const alone = await pgs.openStore(db);
    const [heardA, heardB, heardAlone] = [heardBy(a), heardBy(b), heardBy(alone)];

    await Promise.all(
      Array.from({ length: 40 }, (_, n) => [
        a.witness((tx) => tx.append({ event: 'proposed', action: 'greet', proposal_id: `a-${n}` })),
        b.witness((tx) => tx.append({ event: 'proposed', action: 'greet', proposal_id: `b-${n}` })),
      ]).flat(),
    );
    await alone.witness((tx) => tx.append({ event: 'config', reason: 'from the instance that does not follow' }));
    const head = (await a.head()).seq;
    // 80 proposals, 3 registrations, 1 config.
    expect(head).toBe(84);
    await until(() => heardA.seqs.length >= head && heardB.seqs.length >= head, 'both to hear the whole ledger');
    expect(heardA.seqs).toEqual(range(1, head));
    expect(heardB.seqs).toEqual(range(1, head));
    // What they heard is what the ledger holds, byte for byte.
    expect(heardA.receipts.map((r) => r.hash)).toEqual((await a.readRange(1, head)).map((r) => r.hash));
    // The store opened without follow heard only its own registration and receipt.
    expect(heardAlone.receipts.map((r) => r.event)).toEqual(['config', 'config']);
    expect(heardAlone.seqs).toEqual([head - 1, head]);
  });

  test('a follower whose notification connection is cut reads what it missed, in order, once', async () => {
    const db = await pgs.fresh();
    const writer = await pgs.openStore(db);
    await writer.witness((tx) => tx.append({ event: 'config', reason: 'before the follower opened' }));
    const errors: unknown[] = [];
    const follower = await pgs.openStore(db, { follow: { onError: (err) => errors.push(err) } });
    const heard = heardBy(follower);
    const start = (await writer.head()).seq;

    await writer.witness((tx) => tx.append({ event: 'proposed', proposal_id: 'p-1' }));
    await until(() => heard.seqs.length === 1, 'the first notice');
    const superuser = pgs.pool(db.superUrl);
    const { rowCount } = await superuser.query(
      'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name LIKE $1 AND datname = $2',
      [`${FOLLOWER_APPLICATION_NAME}%`, db.name],
    );
    expect(rowCount).toBe(1);
    await until(() => errors.length > 0, 'the lost connection to be reported');
    for (let n = 2; n <= 6; n++) await writer.witness((tx) => tx.append({ event: 'proposed', proposal_id: `p-${n}` }));
    // Its own receipt after the gap: the gap is read first, then its own follows.
    await follower.witness((tx) => tx.append({ event: 'config', reason: 'the follower writes' }));
    const head = (await writer.head()).seq;
    await until(() => heard.seqs.length >= head - start, 'the follower to catch up');
    expect(heard.seqs).toEqual(range(start + 1, head));
    expect(heard.receipts.at(-1)?.reason).toBe('the follower writes');
  });

  test('a catch-up read that fails is tried again without another commit or notice (a quiet ledger)', async () => {
    const db = await pgs.fresh();
    const writer = await pgs.openStore(db);
    for (let n = 1; n <= 3; n++) await writer.witness((tx) => tx.append({ event: 'proposed', proposal_id: `q-${n}` }));
    const errors: unknown[] = [];
    const delivered: number[] = [];
    let failures = 2;
    const feed = new ReceiptFeed({
      startHead: 0,
      // The database answers the third read; the first two fail as a dropped connection would.
      readRange: async (from, limit) => {
        if (failures-- > 0) throw new Error('connection terminated unexpectedly');
        return writer.readRange(from, limit);
      },
      deliver: (receipts) => delivered.push(...receipts.map((r) => r.seq)),
      onError: (err) => errors.push(err),
    });
    try {
      // One notice, then nothing more is committed.
      feed.changed(3);
      await until(() => delivered.length === 3, 'the retried read');
      expect(delivered).toEqual([1, 2, 3]);
      expect(errors).toHaveLength(2);
    } finally {
      feed.close();
    }
  });
});
