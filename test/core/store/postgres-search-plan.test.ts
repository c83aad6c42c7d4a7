/**
 * The search's plan over a ledger with statistics (ANALYZE): a rare word beside a common one
 * is looked up alone in the index, a count of filters is read from an index alone, and the
 * answers stay SQLite's, against a real cluster.
 */
import { describe, expect, test } from 'vitest';
import { Ed25519Signer } from '../../../src/main/core/crypto/ed25519.ts';
import type { ReceiptDraft } from '../../../src/main/core/ledger/receipt-body.ts';
import { searchReceipts } from '../../../src/main/core/ledger/receipt-search.ts';
import { registrationDraft } from '../../../src/main/core/store/postgres/pg-receipt-keys.ts';
import { rareTerm } from '../../../src/main/core/store/postgres/pg-search-plan.ts';
import { eventWordsQuery, receiptQueryTerms, type QueryTerm } from '../../../src/main/core/store/postgres/pg-search-text.ts';
import type { ReceiptQuery } from '../../../src/shared/console-schemas.ts';
import { sqliteReference, steppingClock } from '../../support/search-corpus.ts';
import { postgresAvailability } from '../../support/postgres.ts';
import { usePostgres } from '../../support/postgres-suite.ts';

const COMMON = ['invoice', 'payroll', 'deploy'];

/** Receipts that all hold a common word; a few hold a rare one, some in a phrase. */
function drafts(): ReceiptDraft[] {
  return Array.from({ length: 1500 }, (_, i) => ({
    event: i % 3 === 0 ? 'refused' : 'executed',
    action: i % 2 === 0 ? 'add' : 'echo',
    reason: `${COMMON[i % 3]} run ${i % 50}`,
    payload: { note: i % 500 === 7 ? 'zebrafinch sighting' : i % 499 === 3 ? 'sighting zebrafinch' : `${COMMON[(i + 1) % 3]} batch` },
  }));
}

const terms = (text: string) => receiptQueryTerms(text) as QueryTerm[];

describe.skipIf(!postgresAvailability().ok)('PostgreSQL search plan with statistics (real throwaway cluster)', () => {
  const pgs = usePostgres('plan');

  test('a rare word beside a common one is looked up alone, and every answer is the SQLite ledger’s', async () => {
    const signer = Ed25519Signer.generate();
    const db = await pgs.fresh();
    const store = await pgs.openStore(db, { signer, clock: steppingClock() });
    const all = drafts();
    for (let i = 0; i < all.length; i += 100)
      await store.witness(async (tx) => void (await Promise.all(all.slice(i, i + 100).map((d) => tx.append(d)))));
    await pgs.pool(db.ownerUrl).query('ANALYZE receipt_search');
    const app = pgs.pool(db.appUrl);

    expect((await rareTerm(app, terms('invoice zebrafinch')))?.tokens).toEqual(['zebrafinch']);
    expect((await rareTerm(app, terms('zebra inv')))?.tokens).toEqual(['zebra']);
    expect((await rareTerm(app, terms('zebrafinch_sighting deploy')))?.tokens).toEqual(['zebrafinch', 'sighting']);
    // Two common words, or one word: the whole query goes to the index (the planner decides).
    expect(await rareTerm(app, terms('invoice payroll'))).toBeNull();
    expect(await rareTerm(app, terms('zebrafinch'))).toBeNull();

    const sqlite = sqliteReference([registrationDraft(signer), ...all], signer, steppingClock());
    const queries: ReceiptQuery[] = [
      { text: 'invoice zebrafinch', count: true },
      { text: 'zebra inv', count: true, limit: 2 },
      { text: 'zebra inv', beforeSeq: 900, limit: 3 },
      { text: 'zebrafinch_sighting deploy', count: true },
      { text: 'sighting_zebrafinch payroll', events: ['refused'], count: true },
      { text: 'run 7 zebrafinch', action: 'echo', count: true },
      { text: 'invoice payroll', count: true, limit: 5 },
    ];
    const view = (p: { items: { seq: number }[]; nextBeforeSeq: number | null; total?: unknown }) => ({
      seqs: p.items.map((r) => r.seq),
      next: p.nextBeforeSeq,
      total: p.total,
    });
    let found = 0;
    for (const query of queries) {
      const want = view(searchReceipts(sqlite, query));
      expect(view(await store.search(query)), JSON.stringify(query)).toEqual(want);
      found += want.seqs.length;
    }
    sqlite.close();
    expect(found).toBeGreaterThan(10);
  });

  test('a count within events is looked up as event-word pairs, exact or checked on each row, and matches SQLite', async () => {
    const long = 'x'.repeat(260);
    expect(eventWordsQuery(terms('invoice zebra'), ['refused', 'executed'])).toEqual({
      tsquery: "(('refused invoice':*) | ('executed invoice':*)) & (('refused zebra':*) | ('executed zebra':*))",
      exact: true,
    });
    // A phrase, or a word longer than the pairs keep, matches more rows: they are checked.
    expect(eventWordsQuery(terms('foo_bar'), ['refused']).exact).toBe(false);
    expect(eventWordsQuery(terms(long), ['refused']).exact).toBe(false);

    const signer = Ed25519Signer.generate();
    const db = await pgs.fresh();
    const store = await pgs.openStore(db, { signer, clock: steppingClock() });
    const all: ReceiptDraft[] = Array.from({ length: 40 }, (_, i) => ({
      event: i % 2 === 0 ? 'refused' : 'executed',
      action: 'add',
      reason: i % 3 === 0 ? `${long}${i % 5} foo bar` : `${long.slice(0, 255)} bar foo`,
    }));
    await store.witness(async (tx) => void (await Promise.all(all.map((d) => tx.append(d)))));
    const sqlite = sqliteReference([registrationDraft(signer), ...all], signer, steppingClock());
    for (const query of [
      { text: `${long}1`, events: ['refused'], count: true },
      { text: long.slice(0, 252), events: ['executed', 'refused'], count: true },
      { text: 'foo_bar', events: ['refused'], count: true },
      { text: `${long.slice(0, 255)} foo`, events: ['executed'], count: true },
    ] satisfies ReceiptQuery[]) {
      const want = searchReceipts(sqlite, query);
      expect(want.total!.count, JSON.stringify(query)).toBeGreaterThan(0);
      expect((await store.search(query)).total, JSON.stringify(query)).toEqual(want.total);
    }
    sqlite.close();
  });

  test('a count of events with an action or an agent is read from an index alone, and matches SQLite', async () => {
    const signer = Ed25519Signer.generate();
    const db = await pgs.fresh();
    const store = await pgs.openStore(db, { signer, clock: steppingClock() });
    const events = ['executed', 'refused', 'denied'] as const;
    const all: ReceiptDraft[] = Array.from({ length: 1200 }, (_, i) => ({
      event: events[i % 3]!,
      action: i % 4 === 0 ? 'add' : 'echo',
      ...(i % 5 < 2 ? { agent: `agent-${i % 7}` } : {}),
      reason: `run ${i}`,
    }));
    for (let i = 0; i < all.length; i += 200)
      await store.witness(async (tx) => void (await Promise.all(all.slice(i, i + 200).map((d) => tx.append(d)))));
    const owner = pgs.pool(db.ownerUrl);
    // As autovacuum leaves an append-only table: every page all-visible.
    await owner.query('VACUUM (ANALYZE) receipts');
    const { rows: options } = await owner.query<{ o: string[] }>("SELECT reloptions AS o FROM pg_class WHERE relname = 'receipts'");
    expect(options[0]?.o).toContain('autovacuum_vacuum_insert_scale_factor=0.01');

    const sqlite = sqliteReference([registrationDraft(signer), ...all], signer, steppingClock());
    for (const query of [
      { events: ['denied'], action: 'echo', count: true },
      { events: ['executed', 'denied'], action: 'add', count: true, limit: 3 },
      { events: ['executed', 'denied'], agent: 'agent-3', count: true, limit: 1 },
      { events: ['refused'], action: 'echo', agent: 'agent-1', count: true },
    ] satisfies ReceiptQuery[]) {
      const want = searchReceipts(sqlite, query);
      expect(want.total!.count, JSON.stringify(query)).toBeGreaterThan(0);
      expect((await store.search(query)).total, JSON.stringify(query)).toEqual(want.total);
    }
    sqlite.close();

    // The count's shape (pg-search.ts), planned as it is over a large ledger: the index holds
    // both columns, so it counts without reading a receipt.
    const client = await owner.connect();
    try {
      await client.query('BEGIN');
      await client.query('SET LOCAL enable_seqscan = off');
      await client.query('SET LOCAL enable_bitmapscan = off');
      for (const [column, value, index] of [
        ['action', 'echo', 'receipts_event_action'],
        ['agent', 'agent-3', 'receipts_event_agent'],
      ]) {
        const { rows } = await client.query<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>(
          `EXPLAIN (ANALYZE, FORMAT JSON) SELECT count(*) FROM (SELECT 1 FROM receipts r
             WHERE r.event = ANY($1::text[]) AND r.${column} = $2 LIMIT 10001) capped`,
          [['executed', 'denied'], value],
        );
        const scan = planNodes(rows[0]!['QUERY PLAN'][0].Plan).find((n) => n['Relation Name'] === 'receipts');
        expect(scan, column).toMatchObject({ 'Node Type': 'Index Only Scan', 'Index Name': index, 'Heap Fetches': 0 });
        expect(scan!['Actual Rows'], column).toBeGreaterThan(0);
      }
    } finally {
      await client.query('ROLLBACK');
      client.release();
    }
  });
});

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  'Heap Fetches'?: number;
  'Actual Rows': number;
  Plans?: PlanNode[];
}

const planNodes = (node: PlanNode): PlanNode[] => [node, ...(node.Plans ?? []).flatMap(planNodes)];
