/**
 * The console's ledger search on PostgreSQL over many receipts: a fixed query mix, p50/p95.
 * The receipts are written in bulk by the owner, in the store's schema (every index, the chain
 * trigger, linked hashes) but NOT signed: their bodies and signatures are placeholders, which
 * search never reads. What is timed is the store's own: its search for the pages, its count
 * (countReceipts' answer) for the counts, as the console asks them: the page, then the count.
 */
import { createHash } from 'node:crypto';
import pg from 'pg';
import type { JsonObject } from '../src/main/core/json/json-value.ts';
import { GENESIS_PREV_HASH } from '../src/main/core/ledger/receipt-body.ts';
import { PostgresLedgerStore } from '../src/main/core/store/postgres/pg-ledger-store.ts';
import { receiptTsvector } from '../src/main/core/store/postgres/pg-search-text.ts';
import { Ed25519Signer } from '../src/main/core/crypto/ed25519.ts';
import type { ReceiptEvent } from '../src/shared/console-dto.ts';
import type { ReceiptCountQuery, ReceiptQuery } from '../src/shared/console-schemas.ts';
import { rng, WORDS } from '../test/support/fill-ledger.ts';
import { migratedDatabase, type PgCluster } from '../test/support/postgres.ts';
import { percentile } from './execute-bench.ts';

const EVENTS: ReceiptEvent[] = ['executed', 'executed', 'executed', 'refused', 'replayed', 'proposed', 'denied'];
const BATCH = 10_000;
const COLUMNS = [
  'seq',
  'event',
  'time',
  'action',
  'hash',
  'prev_hash',
  'body',
  'signature',
  'reason',
  'request_hash',
  'approver_key_id',
  'agent',
];
const TYPES = ['bigint', 'text', 'text', 'text', 'text', 'text', 'text', 'text', 'text', 'text', 'text', 'text'];
/** The tables filled, whose secondary indexes are dropped first and rebuilt after. */
const TABLES = ['receipts', 'receipt_search'];

/**
 * `count` receipts like the SQLite ledger bench's (test/support/fill-ledger.ts), a minute
 * apart ending now, with their search words beside them, in batches of INSERT … SELECT FROM
 * unnest(arrays). The secondary indexes are dropped first and rebuilt after (the same
 * definitions, read from pg_indexes).
 */
export async function fill(
  owner: pg.Client,
  count: number,
  /** false: a schema before migration 9, whose receipt_search has no agent (bench/pg-agent-count-explain.ts). */
  agentBeside = true,
): Promise<{ fillSeconds: number; indexSeconds: number }> {
  const random = rng(42);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  const { rows: indexes } = await owner.query<{ indexname: string; indexdef: string }>(
    `SELECT indexname, indexdef FROM pg_indexes WHERE tablename = ANY($1)
       AND indexname NOT IN (SELECT conname FROM pg_constraint WHERE conrelid::regclass::text = ANY($1))`,
    [TABLES],
  );
  for (const { indexname } of indexes) await owner.query(`DROP INDEX ${pg.escapeIdentifier(indexname)}`);
  const t0 = performance.now();
  const end = Date.now();
  let prev = GENESIS_PREV_HASH;
  const agent = `$${COLUMNS.indexOf('agent') + 1}::text[]`;
  const insert = `WITH words AS (INSERT INTO receipt_search (seq, event, ${agentBeside ? 'agent, ' : ''}search)
      SELECT * FROM unnest($1::bigint[], $2::text[], ${agentBeside ? `${agent}, ` : ''}$${TYPES.length + 1}::tsvector[]))
    INSERT INTO receipts (${COLUMNS.join(', ')})
    SELECT * FROM unnest(${TYPES.map((t, i) => `$${i + 1}::${t}[]`).join(', ')})`;
  for (let done = 0; done < count; done += BATCH) {
    const columns: unknown[][] = COLUMNS.map(() => []);
    const words: string[] = [];
    for (let i = done; i < Math.min(count, done + BATCH); i++) {
      const seq = i + 1;
      const event = pick(EVENTS);
      const action = i % 3 === 0 ? 'add' : 'echo';
      const payload = Object.assign(Object.create(null) as JsonObject, {
        to: `${pick(WORDS)}-${i % 997}@example.com`,
        subject: `${pick(WORDS)} ${pick(WORDS)} ${i}`,
        amount: BigInt(i % 10_000),
      });
      const context = i % 5 === 0 ? `${pick(WORDS)} requested by agent ${i % 17}` : null;
      const reason = event === 'refused' ? `Action refused: ${pick(WORDS)}` : null;
      const hash = createHash('sha256').update(`bench ${seq}`).digest('hex');
      const row = [
        seq,
        event,
        new Date(end - (count - seq) * 60_000).toISOString(),
        action,
        hash,
        prev,
        '{"unsigned":"search bench"}',
        'unsigned',
        reason,
        'ab'.repeat(32),
        i % 2 === 0 ? '0123456789abcdef' : 'fedcba9876543210',
        i % 7 === 0 ? `agent-${i % 13}` : null,
      ];
      row.forEach((value, c) => columns[c]!.push(value));
      words.push(receiptTsvector({ action, reason, context, payload }));
      prev = hash;
    }
    await owner.query(insert, [...columns, words]);
  }
  const t1 = performance.now();
  await owner.query("SET maintenance_work_mem = '256MB'");
  for (const { indexdef } of indexes) await owner.query(indexdef);
  // As autovacuum would leave it: statistics for the planner, and the visibility map.
  await owner.query(`VACUUM (ANALYZE) ${TABLES.join(', ')}`);
  return { fillSeconds: Math.round((t1 - t0) / 100) / 10, indexSeconds: Math.round((performance.now() - t1) / 100) / 10 };
}

/** The query mix: each name, and the query for its i-th run. */
function queryMix(count: number, random: () => number): [string, (i: number) => ReceiptQuery][] {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  const dayAgo = () => new Date(Date.now() - 3_600_000 * 24).toISOString();
  return [
    ['common word', () => ({ text: pick(WORDS), limit: 100 })],
    ['common word + event filter', () => ({ text: pick(WORDS), events: ['executed'], limit: 100 })],
    ['two words + action filter', () => ({ text: `${pick(WORDS)} ${pick(WORDS)}`, action: 'add', limit: 100 })],
    ['rare word (one receipt)', () => ({ text: `${pick(WORDS)} ${Math.floor(random() * count)}`, limit: 100 })],
    ['rare word + approver filter', (i) => ({ text: `${pick(WORDS)} ${100 + (i % 897)}`, approverKeyId: '0123456789abcdef', limit: 100 })],
    ['prefix', () => ({ text: pick(['inv', 'rep', 'cust', 'ven', 'q']), limit: 100 })],
    ['filters only (event + action)', () => ({ events: ['denied'], action: 'echo', limit: 100 })],
    ['filters only (agent)', (i) => ({ agent: `agent-${i % 13}`, limit: 100 })],
    ['text + time range (last day)', () => ({ text: pick(WORDS), from: dayAgo(), limit: 100 })],
    ['page deep in a text search (keyset)', () => ({ text: pick(WORDS), beforeSeq: Math.floor(random() * count), limit: 100 })],
  ];
}

/**
 * The counts the console asks for once the page is on screen (countReceipts, exact up to
 * RECEIPT_COUNT_CAP): timed apart, because a common word's count must find 10,000 matches.
 */
function countMix(count: number, random: () => number): [string, (i: number) => ReceiptCountQuery][] {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  return [
    ['count: common word', () => ({ text: pick(WORDS) })],
    ['count: common word + event filter', () => ({ text: pick(WORDS), events: ['refused'] })],
    ['count: two common words + two events', () => ({ text: `${pick(WORDS)} ${pick(WORDS)}`, events: ['executed', 'denied'] })],
    ['count: rare word', () => ({ text: `${pick(WORDS)} ${Math.floor(random() * count)}` })],
    ['count: filters only (event + action)', () => ({ events: ['denied'], action: 'echo' })],
    // What the agent groups ask for each agent: the search (here two events) plus that agent.
    ['count: filters only (two events + agent)', (i) => ({ events: ['executed', 'denied'], agent: `agent-${i % 13}` })],
    // …and when the search has text: agent-word pairs (migration 9).
    ['count: common word + agent', (i) => ({ text: pick(WORDS), agent: `agent-${i % 13}` })],
  ];
}

/** What the two sets of figures are in the console, printed with them. */
const READING = {
  queries: "the console's first answer: a search's page of 100, shown at once (searchReceipts, no count)",
  counted: 'the count that follows the page (countReceipts): the console says "counting…" meanwhile',
} as const;

export interface SearchFigures {
  receipts: number;
  signed: false;
  fillSeconds: number;
  indexSeconds: number;
  runsPerQuery: number;
  reading: typeof READING;
  /** Every run of the query mix (without counts). */
  all: Timing;
  /** The console's first answer: the page. */
  queries: Record<string, Timing>;
  /** The count the console asks for after the page. */
  counted: Record<string, Timing>;
}

export interface Timing {
  p50ms: number;
  p95ms: number;
  maxMs: number;
}

const summary = (sorted: number[]): Timing => ({
  p50ms: percentile(sorted, 50),
  p95ms: percentile(sorted, 95),
  maxMs: percentile(sorted, 100),
});

export async function benchPostgresSearch(cluster: PgCluster, count: number, runs: number): Promise<SearchFigures> {
  const db = await migratedDatabase(cluster, 'bench_search');
  const owner = new pg.Client({ connectionString: db.ownerUrl });
  await owner.connect();
  let filled;
  try {
    filled = await fill(owner, count);
  } finally {
    await owner.end();
  }
  const store = await PostgresLedgerStore.open({ url: db.appUrl, signer: Ed25519Signer.generate() });
  try {
    const random = rng(7);
    const time = async <Q>(mix: [string, (i: number) => Q][], run: (q: Q) => Promise<unknown>) => {
      // One warm-up pass, so the figures are a warm cache's (the console's case).
      for (const [, make] of mix) await run(make(0));
      const each: Record<string, Timing> = {};
      const every: number[] = [];
      for (const [name, make] of mix) {
        const times: number[] = [];
        for (let i = 0; i < runs; i++) {
          const q = make(i);
          const s = performance.now();
          await run(q);
          times.push(performance.now() - s);
        }
        every.push(...times);
        each[name] = summary(times.sort((a, b) => a - b));
      }
      return { each, all: summary(every.sort((a, b) => a - b)) };
    };
    const mix = await time(queryMix(count, random), (q) => store.search(q));
    const counted = await time(countMix(count, random), (q) => store.count(q));
    return {
      receipts: count,
      signed: false,
      ...filled,
      runsPerQuery: runs,
      reading: READING,
      all: mix.all,
      queries: mix.each,
      counted: counted.each,
    };
  } finally {
    await store.close();
  }
}
