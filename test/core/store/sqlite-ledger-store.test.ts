/**
 * What only the SQLite LedgerStore has to say: its transaction lives within one event-loop
 * turn (a piece that waits for a timer or I/O is rolled back with WitnessSuspended, and the
 * connection is never seen inside a transaction by other work), and a full disk. The rest of
 * its behaviour is the contract's (ledger-store-contract.test.ts).
 */
import { ProposalStore } from '../../../src/main/core/proposals/proposal-store.ts';
import { afterEach, describe, expect, test } from 'vitest';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { systemClock } from '../../../src/main/core/clock.ts';
import { Ed25519Signer } from '../../../src/main/core/crypto/ed25519.ts';
import { ExecutionStore } from '../../../src/main/core/engine/execution-store.ts';
import { Ledger } from '../../../src/main/core/ledger/ledger.ts';
import { openDatabase, type SqliteDatabase } from '../../../src/main/core/store/database.ts';
import { isStorageFull } from '../../../src/main/core/store/storage-full.ts';
import { assertOpenPiece, SqliteLedgerStore } from '../../../src/main/core/store/sqlite/sqlite-ledger-store.ts';
import { IDLE_ROUNDS, WitnessSuspended } from '../../../src/main/core/store/sqlite/within-turn.ts';
import type { LedgerTransaction } from '../../../src/main/core/store/ledger-store.ts';
import { SettingsStore } from '../../../src/main/core/store/settings-store.ts';
import { SqliteSettingRecords } from '../../../src/main/core/store/sqlite/sqlite-records.ts';
import { newReservation } from '../../support/record-fixtures.ts';
import { tempDir } from '../../support/harness.ts';

const opened: SqliteDatabase[] = [];
afterEach(() => {
  for (const db of opened.splice(0)) db.close();
});

function fresh() {
  const db = openDatabase(join(tempDir('openexec-sqlite-store-'), 'ledger.db'), { synchronous: 'NORMAL' });
  opened.push(db);
  const ledger = new Ledger(db, Ed25519Signer.generate(), systemClock);
  const executions = new ExecutionStore(db);
  return { db, ledger, executions, store: new SqliteLedgerStore(db, ledger, executions, new ProposalStore(db)) };
}

describe('SqliteLedgerStore', () => {
  test('a piece that waits outside its turn is rolled back alone, and no other work sees the transaction open', async () => {
    const { db, ledger, executions, store } = fresh();
    const heard: number[] = [];
    ledger.subscribe((r) => heard.push(r.seq));
    // Work that runs on the event loop while the suspended piece waits: it must never find the
    // connection inside a transaction.
    const seenInTransaction: boolean[] = [];
    const watch = setInterval(() => seenInTransaction.push(db.inTransaction), 1);
    let kept: LedgerTransaction | undefined;
    const piece = (i: number, wait: boolean) =>
      store.witness(async (tx) => {
        await tx.reserveNonce(newReservation(`n-${i}`));
        const receipt = await tx.append({ event: 'executed', action: 'greet', nonce: `n-${i}`, reason: `piece ${i}` });
        if (wait) {
          kept = tx;
          await sleep(30);
          seenInTransaction.push(db.inTransaction);
        }
        return receipt.seq;
      });
    const outcomes = await Promise.allSettled([piece(0, false), piece(1, true), piece(2, false)]);
    await sleep(60);
    clearInterval(watch);
    expect(outcomes[0]).toMatchObject({ status: 'fulfilled', value: 1 });
    expect(outcomes[1]).toMatchObject({ status: 'rejected', reason: expect.any(WitnessSuspended) });
    expect((outcomes[1] as PromiseRejectedResult).reason).toMatchObject({ code: 'witness_suspended' });
    expect(outcomes[2]).toMatchObject({ status: 'fulfilled', value: 2 });
    expect(seenInTransaction.length).toBeGreaterThan(0);
    expect(seenInTransaction.every((open) => !open)).toBe(true);
    // Its receipt and its nonce were rolled back and never announced.
    expect((await store.readRange(1, 10)).map((r) => r.reason)).toEqual(['piece 0', 'piece 2']);
    expect(heard).toEqual([1, 2]);
    expect(executions.findByNonce('n-1')).toBeUndefined();
    // Its handle refuses everything once it has ended, a record store's `within` check included.
    await expect(kept!.append({ event: 'config' })).rejects.toThrow(/already ended/);
    expect(() => assertOpenPiece(kept!)).toThrow(/already ended/);
    expect(() => assertOpenPiece({} as LedgerTransaction)).toThrow(/not a SQLite witnessed write/);
  });

  test('a piece that goes on through promises alone commits, however many', async () => {
    const { store } = fresh();
    // Many rounds of the microtask queue without a statement, then many statements.
    const seq = await store.witness(async (tx) => {
      for (let i = 0; i < IDLE_ROUNDS / 4; i++) await Promise.resolve(i);
      let last = 0;
      for (let i = 0; i < 3 * IDLE_ROUNDS; i++) last = (await tx.append({ event: 'config', reason: `r${i}` })).seq;
      return last;
    });
    expect(seq).toBe(3 * IDLE_ROUNDS);
    expect(await store.head()).toMatchObject({ seq: 3 * IDLE_ROUNDS });
  });

  test("a record store's writes join the piece: rolled back with it, and refused once it has ended", async () => {
    const { db, store } = fresh();
    const settings = new SqliteSettingRecords(new SettingsStore(db));
    let kept: LedgerTransaction | undefined;
    let keptRecords: SqliteSettingRecords | undefined;
    const outcomes = await Promise.allSettled([
      store.witness(async (tx) => {
        await settings.within(tx).put('a', 'kept');
        await tx.append({ event: 'config', reason: 'a' });
      }),
      store.witness(async (tx) => {
        kept = tx;
        keptRecords = settings.within(tx) as SqliteSettingRecords;
        await keptRecords.put('b', 'rolled back');
        throw new Error('the piece fails after its write');
      }),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected']);
    expect(await settings.get('a')).toBe('kept');
    expect(await settings.get('b')).toBeNull();
    // Kept past its end, the piece's records write nothing, outside any transaction or in another's.
    await expect(keptRecords!.put('b', 'after its end')).rejects.toThrow(/already ended/);
    expect(() => settings.within(kept!)).toThrow(/already ended/);
    expect(() => settings.within({} as LedgerTransaction)).toThrow(/not a SQLite witnessed write/);
    expect(await settings.get('b')).toBeNull();
  });

  test('a piece that throws before its first await fails alone', async () => {
    const { store } = fresh();
    const outcomes = await Promise.allSettled([
      store.witness(() => {
        throw new Error('at once');
      }),
      store.witness(async (tx) => (await tx.append({ event: 'config' })).seq),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'fulfilled']);
  });

  test('storage full: the piece that meets it fails with it, and the ledger takes writes once there is room', async () => {
    const { db, store } = fresh();
    await store.witness((tx) => tx.append({ event: 'config', reason: 'before' }));
    db.pragma(`max_page_count = ${db.pragma('page_count', { simple: true }) as number}`);
    const big = 'x'.repeat(64 * 1024);
    const full = await store.witness((tx) => tx.append({ event: 'config', reason: big })).catch((err: unknown) => err);
    expect(isStorageFull(full)).toBe(true);
    expect(db.inTransaction).toBe(false);
    db.pragma('max_page_count = 4294967294');
    expect((await store.witness((tx) => tx.append({ event: 'config', reason: 'after' }))).seq).toBe(2);
    expect((await store.readRange(1, 10)).map((r) => r.reason)).toEqual(['before', 'after']);
  });
});
