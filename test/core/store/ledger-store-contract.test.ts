/**
 * What every LedgerStore must do, written once and run against each implementation. Today that
 * is PostgreSQL (a throwaway cluster); the SQLite adapter joins IMPLEMENTATIONS when the engine
 * moves onto the async store (it comes with that move: there is no stand-in for it here).
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { randomUUID } from 'node:crypto';
import type { Clock } from '../../../src/main/core/clock.ts';
import { Ed25519Signer } from '../../../src/main/core/crypto/ed25519.ts';
import { searchReceipts } from '../../../src/main/core/ledger/receipt-search.ts';
import { STORED_RECEIPT_COLUMNS, receiptFromRow, rowFromStored, type StoredReceiptRow } from '../../../src/main/core/ledger/receipt-row.ts';
import type { ApprovalUse } from '../../../src/main/core/engine/execution-store.ts';
import type { LedgerStore, LedgerTransaction } from '../../../src/main/core/store/ledger-store.ts';
import { PostgresLedgerStore } from '../../../src/main/core/store/postgres/pg-ledger-store.ts';
import { registrationDraft } from '../../../src/main/core/store/postgres/pg-receipt-keys.ts';
import { verifyStoreChain } from '../../../src/main/core/store/postgres/pg-verify.ts';
import type { ReceiptDto } from '../../../src/shared/console-dto.ts';
import { corpusDrafts, corpusQueries, reproducibleSalts, sqliteReference, steppingClock } from '../../support/search-corpus.ts';
import { migratedDatabase, postgresAvailability, startCluster, type PgCluster } from '../../support/postgres.ts';
import { newReservation } from '../../support/record-fixtures.ts';

/** A fresh, empty ledger; `open` may be called more than once (several instances on one ledger). */
interface FreshLedger {
  open(signer: Ed25519Signer, clock?: Clock): Promise<LedgerStore>;
}

interface Implementation {
  name: string;
  /** Why it cannot run here, or null. */
  skip: string | null;
  setup(): Promise<{ fresh(): Promise<FreshLedger>; teardown(): Promise<void> }>;
}

function postgres(): Implementation {
  const available = postgresAvailability();
  return {
    name: 'PostgreSQL',
    skip: available.ok ? null : available.reason,
    async setup() {
      if (!available.ok) throw new Error(available.reason);
      const cluster: PgCluster = await startCluster(available);
      let databases = 0;
      return {
        async fresh() {
          const db = await migratedDatabase(cluster, `contract_${++databases}`);
          return { open: (signer, clock) => PostgresLedgerStore.open({ url: db.appUrl, signer, clock, salts: reproducibleSalts }) };
        },
        teardown: () => cluster.stop(),
      };
    },
  };
}

// The SQLite adapter comes with the engine's move onto LedgerStore; it is added here then.
const IMPLEMENTATIONS: Implementation[] = [postgres()];

const reservation = (nonce: string) => newReservation(nonce);

/** Reserves `nonce` and witnesses the attempt: 'executed' for the one that took it, 'replayed' otherwise. */
async function attempt(tx: LedgerTransaction, nonce: string): Promise<ReceiptDto> {
  const r = reservation(nonce);
  const won = await tx.reserveNonce(r);
  return tx.append(won ? { event: 'executed', action: 'greet', nonce, exec_id: r.id } : { event: 'replayed', action: 'greet', nonce });
}

async function everyReceipt(store: LedgerStore): Promise<ReceiptDto[]> {
  return store.readRange(1, 100_000);
}

describe.each(IMPLEMENTATIONS)('LedgerStore contract: $name', (impl) => {
  let env: Awaited<ReturnType<Implementation['setup']>>;
  const opened: LedgerStore[] = [];
  const open = async (ledger: FreshLedger, signer = Ed25519Signer.generate(), clock?: Clock) => {
    const store = await ledger.open(signer, clock);
    opened.push(store);
    return store;
  };

  beforeAll(async () => {
    if (impl.skip === null) env = await impl.setup();
  });
  afterAll(async () => {
    await Promise.all(opened.map((s) => s.close()));
    await env?.teardown();
  });

  test.skipIf(impl.skip !== null)(
    'appends form one gapless chain, byte for byte the SQLite ledger for the same drafts after the key registration, key and clock',
    async () => {
      const signer = Ed25519Signer.generate();
      const drafts = corpusDrafts();
      const store = await open(await env.fresh(), signer, steppingClock());
      expect(await store.head()).toEqual({ seq: 0, hash: '0'.repeat(64) });
      for (const draft of drafts) await store.witness((tx) => tx.append(draft));

      // The store's first receipt registers its key.
      const sqlite = sqliteReference([registrationDraft(signer), ...drafts], signer, steppingClock());
      const expected = (sqlite.prepare(`SELECT ${STORED_RECEIPT_COLUMNS} FROM receipts ORDER BY seq`).all() as StoredReceiptRow[]).map(
        // The receipts' columns, which never held the body's agent (readRange does not give it either).
        (r) => receiptFromRow({ ...rowFromStored(r), agent: null }),
      );
      sqlite.close();
      expect(await everyReceipt(store)).toEqual(expected);
      expect(await store.head()).toEqual({ seq: drafts.length + 1, hash: expected.at(-1)!.hash });
      expect((await store.readRange(10, 3)).map((r) => r.seq)).toEqual([10, 11, 12]);
      const keys = [{ keyId: signer.keyId, seq: 1, pinned: false }];
      expect(await verifyStoreChain(store)).toEqual({ valid: true, checked: drafts.length + 1, firstBadSeq: null, problem: null, keys });
      expect(await verifyStoreChain(store, { pinnedKeyIds: [signer.keyId] })).toMatchObject({ valid: true, keys: [{ pinned: true }] });
      // A reviewer who pinned another key refuses the registration of this one, naming it.
      const stranger = Ed25519Signer.generate().keyId;
      expect(await verifyStoreChain(store, { pinnedKeyIds: [stranger] })).toMatchObject({
        valid: false,
        firstBadSeq: 1,
        problem: `registers receipt key ${signer.keyId}, which is not pinned`,
      });
    },
  );

  test.skipIf(impl.skip !== null)('a group commits together; a failing piece rolls back alone and is never announced', async () => {
    const store = await open(await env.fresh());
    const heard: number[] = [];
    // A listener that throws keeps neither the others from hearing nor a write from being answered.
    store.subscribe(() => {
      throw new Error('a broken listener');
    });
    store.subscribe((receipts) => heard.push(...receipts.map((r) => r.seq)));
    const outcomes = await Promise.allSettled(
      Array.from({ length: 30 }, (_, i) =>
        store.witness(async (tx) => {
          await tx.reserveNonce(reservation(`group-${i}`));
          const receipt = await tx.append({ event: 'executed', action: 'greet', nonce: `group-${i}`, reason: `piece ${i}` });
          if (i === 7) throw new Error('piece 7 fails after writing');
          return receipt.seq;
        }),
      ),
    );
    expect(outcomes.filter((o) => o.status === 'rejected').map((o) => String((o as PromiseRejectedResult).reason))).toEqual([
      'Error: piece 7 fails after writing',
    ]);
    const receipts = await everyReceipt(store);
    // The key registration, then the 29 pieces that committed.
    expect(receipts.map((r) => r.seq)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    expect(receipts[0]!.reason).toMatch(/^receipt key registered: /);
    expect(receipts.some((r) => r.reason === 'piece 7')).toBe(false);
    expect(heard).toEqual(receipts.map((r) => r.seq));
    // Its nonce was rolled back with it: still free.
    expect(await store.witness((tx) => tx.reserveNonce(reservation('group-7')))).toBe(true);
    expect(await store.witness((tx) => tx.reserveNonce(reservation('group-8')))).toBe(false);
    // A handle used after its piece ended is refused.
    let kept: LedgerTransaction | undefined;
    await store.witness(async (tx) => {
      kept = tx;
    });
    await expect(kept!.append({ event: 'config' })).rejects.toThrow(/already ended/);
  });

  test.skipIf(impl.skip !== null)(
    '64 concurrent requests with one nonce on two instances of one ledger: one execution, one receipt for it',
    async () => {
      const ledger = await env.fresh();
      const [a, b] = [await open(ledger), await open(ledger)];
      const receipts = await Promise.all(
        Array.from({ length: 64 }, (_, i) => (i % 2 === 0 ? a : b).witness((tx) => attempt(tx, 'shared'))),
      );
      expect(receipts.filter((r) => r.event === 'executed')).toHaveLength(1);
      expect(receipts.filter((r) => r.event === 'replayed')).toHaveLength(63);
      const chain = await everyReceipt(a);
      // Each instance registered its key once, before its first receipt.
      expect(chain.map((r) => r.seq)).toEqual(Array.from({ length: 66 }, (_, i) => i + 1));
      expect(await verifyStoreChain(a)).toMatchObject({ valid: true, checked: 66, keys: [{}, {}] });
    },
  );

  test.skipIf(impl.skip !== null)('an approval is spent once, keyed by its id and by its signed message', async () => {
    const ledger = await env.fresh();
    const [a, b] = [await open(ledger), await open(ledger)];
    /** The execution id that spent it now, or the earlier use. */
    const spend = (tx: LedgerTransaction, approvalId: string, messageHash: string): Promise<string | ApprovalUse> =>
      (async () => {
        const r = reservation(`for-${randomUUID()}`);
        await tx.reserveNonce(r);
        const approval = {
          approvalId,
          tenantId: 't',
          actionHash: 'a'.repeat(64),
          issuedAt: '2026-01-01T00:00:00Z',
          expiresAt: '2026-01-02T00:00:00Z',
          approver: 'operator' as const,
          approverKeyId: 'aa11',
          messageHash,
        };
        const earlier = await tx.spendApproval({ approval, action: 'greet', verifiedAt: new Date().toISOString(), execId: r.id });
        return earlier ?? r.id;
      })();
    // One signed message presented under 16 different ids, concurrently, at two instances.
    const m = 'm'.repeat(64);
    const results = await Promise.all(Array.from({ length: 16 }, (_, i) => (i % 2 ? a : b).witness((tx) => spend(tx, `id-${i}`, m))));
    const spentNow = results.filter((r): r is string => typeof r === 'string');
    expect(spentNow).toHaveLength(1);
    const earlier = results.filter((r) => typeof r !== 'string');
    expect(new Set(earlier.map((e) => JSON.stringify(e)))).toEqual(new Set([JSON.stringify(earlier[0])]));
    expect(earlier[0]).toMatchObject({ execId: spentNow[0] });
    // The same id with another message is spent too.
    const winner = (earlier[0] as ApprovalUse).approvalId;
    expect(await a.witness((tx) => spend(tx, winner, 'n'.repeat(64)))).toEqual({ approvalId: winner, execId: spentNow[0] });
  });

  test.skipIf(impl.skip !== null)('search answers the console query set with the same receipts as the SQLite ledger', async () => {
    const signer = Ed25519Signer.generate();
    const drafts = corpusDrafts();
    const store = await open(await env.fresh(), signer, steppingClock());
    for (const draft of drafts) await store.witness((tx) => tx.append(draft));
    const sqlite = sqliteReference([registrationDraft(signer), ...drafts], signer, steppingClock());
    const mismatches: string[] = [];
    let matched = 0;
    for (const query of corpusQueries()) {
      const want = searchReceipts(sqlite, query);
      const got = await store.search(query);
      const view = (p: typeof want) => ({ seqs: p.items.map((r) => r.seq), next: p.nextBeforeSeq, total: p.total });
      if (JSON.stringify(view(got)) !== JSON.stringify(view(want))) {
        mismatches.push(`${JSON.stringify(query)}: SQLite ${JSON.stringify(view(want))}, store ${JSON.stringify(view(got))}`);
      }
      if (want.items.length > 0) matched++;
    }
    sqlite.close();
    expect(mismatches).toEqual([]);
    // The set is not vacuous: most queries find something.
    expect(matched).toBeGreaterThan(60);
  });
});
