/**
 * A count (and a page) of a common word with an agent on PostgreSQL, before and after
 * migration 9 put the agent beside the words, on the same receipts: the bench's ledger
 * (postgres-search-bench.ts's fill) written at schema version 8, measured with the SQL the
 * store asked then, migrated (timed), vacuumed as autovacuum would, measured with the SQL it
 * asks now. EXPLAIN ANALYZE's execution times, per agent, and the store's own count after.
 *
 *   BENCH_RECEIPTS=200000 node_modules/.bin/node --import tsx bench/pg-agent-count-explain.ts
 */
import pg from 'pg';
import { Ed25519Signer } from '../src/main/core/crypto/ed25519.ts';
import { PostgresLedgerStore } from '../src/main/core/store/postgres/pg-ledger-store.ts';
import { migratePostgres } from '../src/main/core/store/postgres/pg-migrations.ts';
import { postgresAvailability, startCluster } from '../test/support/postgres.ts';
import { fill } from './postgres-search-bench.ts';

const WORD = 'invoice';
const AGENTS = Array.from({ length: 13 }, (_, i) => `agent-${i}`);
const CAP = 'LIMIT 10001';

/** The count and the page as the store puts them before migration 9, and after. */
const BEFORE = {
  count: `SELECT count(*) FROM (SELECT 1 FROM receipts r JOIN receipt_search s ON s.seq = r.seq
    WHERE s.search @@ $1::tsquery AND r.agent = $2 ${CAP}) capped`,
  page: `SELECT r.seq FROM receipts r JOIN receipt_search s ON s.seq = r.seq
    WHERE s.search @@ $1::tsquery AND r.agent = $2 ORDER BY r.seq DESC LIMIT 101`,
};
const AFTER = {
  count: `SELECT count(*) FROM (SELECT 1 FROM receipt_search s
    WHERE openexec_event_words(s.agent, s.search) @@ $1::tsquery AND s.agent = $2 ${CAP}) capped`,
  // Unchanged: the agent's receipts newest first (receipts_agent), each looked up.
  page: BEFORE.page,
  // Not taken: the page with the agent beside the words, and the page from the agent-word pairs.
  pageAgentBeside: `SELECT r.seq FROM receipts r JOIN receipt_search s ON s.seq = r.seq
    WHERE s.search @@ $1::tsquery AND s.agent = $2 ORDER BY r.seq DESC LIMIT 101`,
  pagePairs: `SELECT r.seq FROM receipts r JOIN receipt_search s ON s.seq = r.seq
    WHERE openexec_event_words(s.agent, s.search) @@ $1::tsquery AND s.agent = $2 ORDER BY r.seq DESC LIMIT 101`,
};

interface Explained {
  ms: number;
  plan: string;
}

async function explain(db: pg.Client, sql: string, agent: string): Promise<Explained> {
  // The agent-word pairs (migration 9's index) or the word alone.
  const words = sql.includes('openexec_event_words') ? `'${agent} ${WORD}':*` : `'${WORD}':*`;
  const { rows } = await db.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, BUFFERS) ${sql}`, [words, agent]);
  const plan = rows.map((r) => r['QUERY PLAN']).join('\n');
  return { ms: Number(/Execution Time: ([\d.]+) ms/.exec(plan)![1]), plan };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function measure(db: pg.Client, shapes: Record<string, string>) {
  const out: Record<string, { first: number; medianWarm: number; maxWarm: number; plan: string }> = {};
  for (const [name, sql] of Object.entries(shapes)) {
    const first = await explain(db, sql, 'agent-3');
    const warm: number[] = [];
    let plan = '';
    for (const agent of AGENTS) {
      await explain(db, sql, agent);
      const e = await explain(db, sql, agent);
      warm.push(e.ms);
      if (agent === 'agent-3') plan = e.plan;
    }
    out[name] = { first: first.ms, medianWarm: median(warm), maxWarm: Math.max(...warm), plan };
  }
  return out;
}

async function main() {
  const count = Number(process.env['BENCH_RECEIPTS'] ?? 200_000);
  const available = postgresAvailability();
  if (!available.ok) throw new Error(available.reason);
  const cluster = await startCluster(available);
  try {
    const db = await cluster.createDatabase('agent_count');
    const ownerPool = new pg.Pool({ connectionString: db.ownerUrl, max: 1 });
    // Its idle connection is cut when the cluster stops after a failure: the failure is the news.
    ownerPool.on('error', () => undefined);
    await migratePostgres(ownerPool, { appRole: cluster.app.user, target: 8 });
    const owner = new pg.Client({ connectionString: db.ownerUrl });
    owner.on('error', () => undefined);
    await owner.connect();
    const filled = await fill(owner, count, false);
    const { rows } = await owner.query<{ n: string }>(
      "SELECT count(*) AS n FROM receipt_search s JOIN receipts r ON r.seq = s.seq WHERE r.agent = 'agent-3' AND s.search @@ $1::tsquery",
      [`'${WORD}':*`],
    );
    const before = await measure(owner, BEFORE);
    const t0 = performance.now();
    const applied = await migratePostgres(ownerPool, { appRole: cluster.app.user });
    const migrateSeconds = Math.round((performance.now() - t0) / 100) / 10;
    await owner.query('VACUUM (ANALYZE) receipt_search');
    const after = await measure(owner, AFTER);
    await owner.end();
    await ownerPool.end();

    const store = await PostgresLedgerStore.open({ url: db.appUrl, signer: Ed25519Signer.generate() });
    const storeMs: number[] = [];
    const counts: Record<string, number> = {};
    try {
      for (const agent of AGENTS) {
        await store.count({ text: WORD, agent });
        const s = performance.now();
        counts[agent] = (await store.count({ text: WORD, agent })).count;
        storeMs.push(performance.now() - s);
      }
    } finally {
      await store.close();
    }
    const summary = (m: typeof before) =>
      Object.fromEntries(Object.entries(m).map(([k, v]) => [k, { firstMs: v.first, medianWarmMs: v.medianWarm, maxWarmMs: v.maxWarm }]));
    console.log(
      JSON.stringify(
        {
          receipts: count,
          word: WORD,
          agent3Matches: Number(rows[0]?.n),
          ...filled,
          migration: { applied, seconds: migrateSeconds },
          before: summary(before),
          after: summary(after),
          storeCountAfter: { medianMs: Math.round(median(storeMs) * 10) / 10, maxMs: Math.round(Math.max(...storeMs) * 10) / 10, counts },
        },
        null,
        2,
      ),
    );
    for (const [when, m] of [
      ['before', before],
      ['after', after],
    ] as const)
      for (const [name, v] of Object.entries(m)) console.log(`\n--- ${when}: ${name} (agent-3, warm)\n${v.plan}`);
  } catch (err) {
    console.error(err);
    process.exitCode = 1;
  } finally {
    await cluster.stop();
  }
}

await main();
