/**
 * What every LedgerStore must do, written once and run against each implementation: the SQLite
 * adapter over a real file (several connections to it for several instances) and PostgreSQL
 * (a throwaway cluster). Where they differ by design, the receipt keys, the implementation says
 * which it is: PostgreSQL registers each instance's key with a `config` receipt, SQLite has one
 * key per ledger, fixed by its first receipt and checked by `verify-ledger`.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { systemClock, type Clock } from '../../../src/main/core/clock.ts';
import { Ed25519Signer, Ed25519Verifier, publicKeyToPem } from '../../../src/main/core/crypto/ed25519.ts';
import { Ledger } from '../../../src/main/core/ledger/ledger.ts';
import { LedgerReader } from '../../../src/main/core/ledger/ledger-reader.ts';
import { ExecutionStore } from '../../../src/main/core/engine/execution-store.ts';
import { openDatabase } from '../../../src/main/core/store/database.ts';
import { SqliteLedgerStore } from '../../../src/main/core/store/sqlite/sqlite-ledger-store.ts';
import { ProposalStore } from '../../../src/main/core/proposals/proposal-store.ts';
import type { ReceiptDraft } from '../../../src/main/core/ledger/receipt-body.ts';
import { searchReceipts } from '../../../src/main/core/ledger/receipt-search.ts';
import { STORED_RECEIPT_COLUMNS, receiptFromRow, rowFromStored, type StoredReceiptRow } from '../../../src/main/core/ledger/receipt-row.ts';
import { ReceiptBodies } from '../../../src/main/core/ledger/receipt-bodies.ts';
import type { ApprovalUse } from '../../../src/main/core/engine/execution-store.ts';
import type { LedgerStore, LedgerTransaction } from '../../../src/main/core/store/ledger-store.ts';
import { PostgresLedgerStore } from '../../../src/main/core/store/postgres/pg-ledger-store.ts';
import { registrationDraft } from '../../../src/main/core/store/postgres/pg-receipt-keys.ts';
import { verifyStoreChain } from '../../../src/main/core/store/postgres/pg-verify.ts';
import type { ReceiptDto } from '../../../src/shared/console-dto.ts';
import type { ReceiptQuery } from '../../../src/shared/console-schemas.ts';
import { corpusDrafts, corpusQueries, reproducibleSalts, sqliteReference, steppingClock } from '../../support/search-corpus.ts';
import { migratedDatabase, postgresAvailability, startCluster, type PgCluster } from '../../support/postgres.ts';
import { newReservation } from '../../support/record-fixtures.ts';
import { tempDir } from '../../support/harness.ts';

/** A fresh, empty ledger; `open` may be called more than once (several instances on one ledger). */
interface FreshLedger {
  open(signer: Ed25519Signer, clock?: Clock): Promise<LedgerStore>;
  /**
   * The whole chain checked as this engine's verifier does, with `signers` the instances' keys:
   * PostgreSQL's verifyStoreChain, which learns them from their registrations, or SQLite's
   * `verify-ledger`, against its one key.
   */
  verify(signers: readonly Ed25519Signer[]): Promise<{ valid: boolean; checked: number }>;
}

interface Implementation {
  name: string;
  /** Why it cannot run here, or null. */
  skip: string | null;
  /**
   * Each instance has its own receipt key, registered by a `config` receipt before its first
   * other receipt (PostgreSQL); otherwise the ledger has one key and every instance signs with it.
   */
  keyPerInstance: boolean;
  setup(): Promise<{ fresh(): Promise<FreshLedger>; teardown(): Promise<void> }>;
}

function postgres(): Implementation {
  const available = postgresAvailability();
  return {
    name: 'PostgreSQL',
    skip: available.ok ? null : available.reason,
    keyPerInstance: true,
    async setup() {
      if (!available.ok) throw new Error(available.reason);
      const cluster: PgCluster = await startCluster(available);
      let databases = 0;
      return {
        async fresh() {
          const db = await migratedDatabase(cluster, `contract_${++databases}`);
          let first: LedgerStore | undefined;
          return {
            async open(signer, clock) {
              const store = await PostgresLedgerStore.open({ url: db.appUrl, signer, clock, salts: reproducibleSalts });
              first ??= store;
              return store;
            },
            verify: async () => verifyStoreChain(first!),
          };
        },
        teardown: () => cluster.stop(),
      };
    },
  };
}

function sqlite(): Implementation {
  return {
    name: 'SQLite',
    skip: null,
    keyPerInstance: false,
    async setup() {
      const dir = tempDir('openexec-ledger-contract-');
      const closers: (() => void)[] = [];
      let files = 0;
      return {
        async fresh() {
          const path = join(dir, `ledger-${++files}.db`);
          return {
            // Each instance is a connection of its own to the one file, as a second process would be.
            async open(signer, clock = systemClock) {
              const db = openDatabase(path, { synchronous: 'NORMAL' });
              closers.push(() => db.close());
              return new SqliteLedgerStore(
                db,
                new Ledger(db, signer, clock, reproducibleSalts),
                new ExecutionStore(db),
                new ProposalStore(db),
              );
            },
            async verify([signer]) {
              const reader = LedgerReader.openReadOnly(path);
              try {
                return reader.verifyChain(new Ed25519Verifier(signer!.publicKey));
              } finally {
                reader.close();
              }
            },
          };
        },
        async teardown() {
          for (const close of closers) close();
        },
      };
    },
  };
}

const IMPLEMENTATIONS: Implementation[] = [sqlite(), postgres()];

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

  /** The `config` receipts that register these instances' keys, where the engine writes them. */
  const registrations = (...signers: Ed25519Signer[]): ReceiptDraft[] => (impl.keyPerInstance ? signers.map(registrationDraft) : []);
  /** A second instance's key: its own, or the ledger's one. */
  const secondKey = (first: Ed25519Signer) => (impl.keyPerInstance ? Ed25519Signer.generate() : first);

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
      const ledger = await env.fresh();
      const store = await open(ledger, signer, steppingClock());
      expect(await store.head()).toEqual({ seq: 0, hash: '0'.repeat(64) });
      for (const draft of drafts) await store.witness((tx) => tx.append(draft));

      // With a key per instance, the store's first receipt registers its key.
      const written = [...registrations(signer), ...drafts];
      const sqlite = sqliteReference(written, signer, steppingClock());
      // Each with its agent and the bodies it commits to, as the SQLite ledger's search returns it.
      const bodies = new ReceiptBodies(sqlite);
      const rows = sqlite.prepare(`SELECT ${STORED_RECEIPT_COLUMNS} FROM receipts ORDER BY seq`).all() as StoredReceiptRow[];
      const expected = rows.map((r) => receiptFromRow(rowFromStored(r), bodies.of(r.seq)));
      expect(expected.filter((r) => r.bodies !== undefined && r.agent !== null).length).toBeGreaterThan(3);
      sqlite.close();
      expect(await everyReceipt(store)).toEqual(expected);
      expect(await store.head()).toEqual({ seq: written.length, hash: expected.at(-1)!.hash });
      expect((await store.readRange(10, 3)).map((r) => r.seq)).toEqual([10, 11, 12]);
      expect(await ledger.verify([signer])).toMatchObject({ valid: true, checked: written.length });
      if (!impl.keyPerInstance) return;
      const keys = [{ keyId: signer.keyId, seq: 1, pinned: false, publicKeyPem: publicKeyToPem(signer.publicKey) }];
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
    // The key registration where there is one, then the 29 pieces that committed.
    const registered = registrations(Ed25519Signer.generate()).length;
    expect(receipts.map((r) => r.seq)).toEqual(Array.from({ length: 29 + registered }, (_, i) => i + 1));
    if (registered > 0) expect(receipts[0]!.reason).toMatch(/^receipt key registered: /);
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
    'a piece alone in its group that fails after writing leaves nothing, and the next one goes on',
    async () => {
      const store = await open(await env.fresh());
      const heard: number[] = [];
      store.subscribe((receipts) => heard.push(...receipts.map((r) => r.seq)));
      // Alone (nothing else submitted meanwhile), and the ledger's first write: where the instance
      // registers its key, that registration goes with it.
      const alone = store.witness(async (tx) => {
        await tx.reserveNonce(reservation('alone'));
        await tx.append({ event: 'executed', action: 'greet', nonce: 'alone', reason: 'alone' });
        throw new Error('the lone piece fails after writing');
      });
      await expect(alone).rejects.toThrow('the lone piece fails after writing');
      expect(await everyReceipt(store)).toEqual([]);
      expect(await store.head()).toMatchObject({ seq: 0 });
      const next = await store.witness(async (tx) => {
        expect(await tx.reserveNonce(reservation('alone'))).toBe(true);
        return tx.append({ event: 'executed', action: 'greet', nonce: 'alone', reason: 'next' });
      });
      const receipts = await everyReceipt(store);
      expect(receipts.map((r) => r.seq)).toEqual(Array.from({ length: next.seq }, (_, i) => i + 1));
      expect(receipts.map((r) => r.reason).slice(-1)).toEqual(['next']);
      expect(heard).toEqual(receipts.map((r) => r.seq));
    },
  );

  test.skipIf(impl.skip !== null)(
    '64 concurrent requests with one nonce on two instances of one ledger: one execution, one receipt for it',
    async () => {
      const ledger = await env.fresh();
      const first = Ed25519Signer.generate();
      const second = secondKey(first);
      const [a, b] = [await open(ledger, first), await open(ledger, second)];
      const receipts = await Promise.all(
        Array.from({ length: 64 }, (_, i) => (i % 2 === 0 ? a : b).witness((tx) => attempt(tx, 'shared'))),
      );
      expect(receipts.filter((r) => r.event === 'executed')).toHaveLength(1);
      expect(receipts.filter((r) => r.event === 'replayed')).toHaveLength(63);
      const chain = await everyReceipt(a);
      // With a key per instance, each registered its key once, before its first receipt.
      const length = 64 + registrations(first, second).length;
      expect(chain.map((r) => r.seq)).toEqual(Array.from({ length }, (_, i) => i + 1));
      expect(await ledger.verify([first, second])).toMatchObject({ valid: true, checked: length });
      if (impl.keyPerInstance) expect(await verifyStoreChain(a)).toMatchObject({ keys: [{}, {}] });
    },
  );

  test.skipIf(impl.skip !== null)('an approval is spent once, keyed by its id and by its signed message', async () => {
    const ledger = await env.fresh();
    const first = Ed25519Signer.generate();
    const [a, b] = [await open(ledger, first), await open(ledger, secondKey(first))];
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
    const sqlite = sqliteReference([...registrations(signer), ...drafts], signer, steppingClock());
    const mismatches: string[] = [];
    let matched = 0;
    // Every word within some events too: the count looks those up as event-word pairs on PostgreSQL;
    // and of one agent, alone and within events: agent-word pairs (migration 9).
    const texts = corpusQueries().filter((q) => q.text !== undefined && q.events === undefined && q.agent === undefined);
    const within = (q: ReceiptQuery): ReceiptQuery => ({ ...q, events: ['executed', 'proposed', 'config'], count: true });
    const ofAgent = (q: ReceiptQuery): ReceiptQuery => ({ ...q, agent: 'claude', count: true });
    const narrowed = [...texts.map(within), ...texts.map(ofAgent), ...texts.map((q) => within(ofAgent(q)))];
    for (const query of [...corpusQueries(), ...narrowed]) {
      const want = searchReceipts(sqlite, query);
      const got = await store.search(query);
      const view = (p: typeof want) => ({ seqs: p.items.map((r) => r.seq), next: p.nextBeforeSeq, total: p.total });
      // Receipt for receipt what the SQLite ledger returns, with their agents and bodies.
      if (JSON.stringify(got.items) !== JSON.stringify(want.items)) mismatches.push(`${JSON.stringify(query)}: other receipts`);
      if (JSON.stringify(view(got)) !== JSON.stringify(view(want))) {
        mismatches.push(`${JSON.stringify(query)}: SQLite ${JSON.stringify(view(want))}, store ${JSON.stringify(view(got))}`);
      }
      if (want.items.length > 0) matched++;
      if (query.count) {
        // The count alone is the page's total, through the newest receipt.
        const { beforeSeq: _b, limit: _l, count: _c, ...filters } = query;
        const alone = await store.count(filters);
        const through = (await store.head()).seq;
        if (JSON.stringify(alone) !== JSON.stringify({ ...want.total, throughSeq: through }))
          mismatches.push(
            `${JSON.stringify(query)}: count alone ${JSON.stringify(alone)}, page total ${JSON.stringify(want.total)} through ${through}`,
          );
      }
    }
    sqlite.close();
    expect(mismatches).toEqual([]);
    // The set is not vacuous: most queries find something.
    expect(matched).toBeGreaterThan(100);
  });

  test.skipIf(impl.skip !== null)(
    'a count taken while receipts are appended counts exactly the receipts up to its throughSeq',
    async () => {
      const store = await open(await env.fresh());
      const drafts = corpusDrafts();
      const query: ReceiptQuery = { events: ['executed', 'denied'] };
      const answers: Awaited<ReturnType<LedgerStore['count']>>[] = [];
      let appending = true;
      const counting = (async () => {
        while (appending) {
          answers.push(await store.count(query));
          // A turn for the appends: SQLite's count settles without ever leaving the microtask queue.
          await new Promise((resolve) => setImmediate(resolve));
        }
      })();
      for (const draft of drafts) await store.witness((tx) => tx.append(draft));
      appending = false;
      await counting;
      answers.push(await store.count(query));
      const all = await store.readRange(1, 100_000);
      const matching = all.filter((r) => (query.events as string[]).includes(r.event)).map((r) => r.seq);
      for (const a of answers)
        expect(a).toEqual({ count: matching.filter((seq) => seq <= a.throughSeq).length, exact: true, throughSeq: a.throughSeq });
      expect(answers.at(-1)!.throughSeq).toBe(all.length);
      // Not vacuous: the counts saw the ledger at more than one length.
      expect(new Set(answers.map((a) => a.throughSeq)).size).toBeGreaterThan(1);
    },
  );
});
