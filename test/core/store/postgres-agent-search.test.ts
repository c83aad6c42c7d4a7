/**
 * Migration 9 against a real throwaway cluster: each receipt's agent beside its search words,
 * copied for the receipts written before it and written with every new one; the agent never
 * changes there; and a count of text with an agent, looked up as agent-word pairs in
 * receipt_search alone, answers what the SQLite ledger answers.
 */
import { createHash } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { Ed25519Signer } from '../../../src/main/core/crypto/ed25519.ts';
import type { ReceiptDraft } from '../../../src/main/core/ledger/receipt-body.ts';
import { searchReceipts } from '../../../src/main/core/ledger/receipt-search.ts';
import { migratePostgres } from '../../../src/main/core/store/postgres/pg-migrations.ts';
import { registrationDraft } from '../../../src/main/core/store/postgres/pg-receipt-keys.ts';
import { receiptTsvector } from '../../../src/main/core/store/postgres/pg-search-text.ts';
import type { ReceiptQuery } from '../../../src/shared/console-schemas.ts';
import { sqliteReference, steppingClock } from '../../support/search-corpus.ts';
import { postgresAvailability } from '../../support/postgres.ts';
import { usePostgres } from '../../support/postgres-suite.ts';

const COMMON = ['invoice', 'payroll', 'deploy'];

/** Receipts that all hold common words, two in five with one of seven agents; a few hold a rare word, some in a phrase. */
function drafts(): ReceiptDraft[] {
  return Array.from({ length: 1400 }, (_, i) => ({
    event: i % 3 === 0 ? 'refused' : 'executed',
    action: i % 2 === 0 ? 'add' : 'echo',
    ...(i % 5 < 2 ? { agent: `agent-${i % 7}` } : {}),
    reason: `${COMMON[i % 3]} run ${i % 50}`,
    payload: { note: i % 97 === 7 ? 'zebrafinch sighting' : i % 89 === 3 ? 'sighting zebrafinch' : `${COMMON[(i + 1) % 3]} batch` },
  }));
}

/** The plans auto_explain logged for the statements whose text holds `marker`. */
function loggedPlans(log: string, marker: string): string[] {
  return log.split(/duration: [\d.]+ ms {2}plan:/).filter((entry) => entry.split('\n')[1]?.includes(marker));
}

describe.skipIf(!postgresAvailability().ok)('PostgreSQL search with text and an agent (real throwaway cluster)', () => {
  const pgs = usePostgres('agentsearch');

  test('migration 9 copies each receipt’s agent beside its words; new receipts carry theirs; it never changes there', async () => {
    const db = await pgs.cluster.createDatabase(`agent_v8_${Date.now()}`);
    const owner = pgs.pool(db.ownerUrl);
    const appRole = pgs.cluster.app.user;
    expect(await migratePostgres(owner, { appRole, target: 8 })).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    // Receipts as version 8 wrote them: the agent on the receipt only.
    const agents = ['atlas', null, 'borealis', 'atlas', null];
    let prev = '0'.repeat(64);
    for (const [i, agent] of agents.entries()) {
      const hash = createHash('sha256').update(`v8 receipt ${i}`).digest('hex');
      await owner.query(
        `WITH words AS (INSERT INTO receipt_search (seq, event, search) VALUES ($1, 'executed', $5::tsvector))
         INSERT INTO receipts (seq, event, time, action, hash, prev_hash, body, signature, agent)
         VALUES ($1, 'executed', $2, 'deploy', $3, $4, '{}', 's', $6)`,
        [
          i + 1,
          new Date(Date.UTC(2026, 0, 1, 12, i)).toISOString(),
          hash,
          prev,
          receiptTsvector({ action: 'deploy', reason: `wallaby ${i}` }),
          agent,
        ],
      );
      prev = hash;
    }
    expect(await migratePostgres(owner, { appRole })).toEqual([9]);
    const beside = async () =>
      (await owner.query<{ seq: string; agent: string | null }>('SELECT seq, agent FROM receipt_search ORDER BY seq')).rows.map((r) => [
        Number(r.seq),
        r.agent,
      ]);
    expect(await beside()).toEqual(agents.map((a, i) => [i + 1, a]));

    const store = await pgs.openStore(db);
    expect((await store.count({ text: 'wallaby', agent: 'atlas' })).count).toBe(2);
    const page = await store.search({ text: 'wall', agent: 'atlas', count: true });
    expect(page.items.map((r) => r.seq)).toEqual([4, 1]);
    expect(page.total).toEqual({ count: 2, exact: true });
    expect((await store.count({ text: 'wallaby 2', agent: 'borealis' })).count).toBe(1);

    const receipt = await store.witness((tx) =>
      tx.append({ event: 'executed', action: 'deploy', agent: 'atlas', reason: 'wallaby again' }),
    );
    expect((await beside()).find(([s]) => s === receipt.seq)).toEqual([receipt.seq, 'atlas']);
    expect((await store.count({ text: 'wallaby', agent: 'atlas' })).count).toBe(3);

    // The agent stays the receipt's: the owner's update is refused, the app role may update only the words.
    const app = pgs.pool(db.appUrl);
    await expect(owner.query("UPDATE receipt_search SET agent = 'borealis' WHERE seq = 1")).rejects.toThrow(
      /agent beside its search words never changes/,
    );
    await expect(owner.query('UPDATE receipt_search SET agent = NULL WHERE seq = 4')).rejects.toThrow(
      /agent beside its search words never changes/,
    );
    await expect(owner.query("UPDATE receipt_search SET agent = 'atlas' WHERE seq = 2")).rejects.toThrow(
      /agent beside its search words never changes/,
    );
    await expect(app.query("UPDATE receipt_search SET agent = 'borealis' WHERE seq = 1")).rejects.toMatchObject({ code: '42501' });
    // What retention does still works: removing words.
    await app.query("UPDATE receipt_search SET search = ts_delete(search, 'wallaby') WHERE seq = 1");
    expect((await store.count({ text: 'wallaby', agent: 'atlas' })).count).toBe(2);
    expect((await beside()).slice(0, agents.length)).toEqual(agents.map((a, i) => [i + 1, a]));
  });

  test('a count of text with an agent reads agent-word pairs in receipt_search alone, and every answer is the SQLite ledger’s', async () => {
    const signer = Ed25519Signer.generate();
    const db = await pgs.fresh();
    // The store's own statements, with their plans, as a large ledger would plan them.
    const role = pgs.cluster.app.user;
    for (const setting of ["session_preload_libraries = 'auto_explain'", 'auto_explain.log_min_duration = 0', 'enable_seqscan = off'])
      await pgs.cluster.superQuery(db.name, `ALTER ROLE ${role} IN DATABASE ${db.name} SET ${setting}`);
    const store = await pgs.openStore(db, { signer, clock: steppingClock() });
    const all = drafts();
    for (let i = 0; i < all.length; i += 200)
      await store.witness(async (tx) => void (await Promise.all(all.slice(i, i + 200).map((d) => tx.append(d)))));
    await pgs.pool(db.ownerUrl).query('VACUUM (ANALYZE) receipt_search');

    const sqlite = sqliteReference([registrationDraft(signer), ...all], signer, steppingClock());
    const queries: ReceiptQuery[] = [
      { text: 'invoice', agent: 'agent-3', count: true, limit: 5 },
      { text: 'inv', agent: 'agent-3', count: true, beforeSeq: 700, limit: 4 },
      { text: 'invoice run', agent: 'agent-1', count: true },
      // A phrase: the pairs find more, and the phrase is checked on each row.
      { text: 'zebrafinch_sighting', agent: 'agent-2', count: true },
      // A rare word beside a common one: the rare one is looked up alone, the agent checked.
      { text: 'invoice zebrafinch', agent: 'agent-0', count: true },
      { text: 'payroll', agent: 'agent-5', events: ['refused'], count: true },
      { text: 'deploy', agent: 'agent-6', action: 'echo', count: true },
      { text: 'deploy', agent: 'agent-9', count: true },
    ];
    const view = (p: { items: { seq: number }[]; nextBeforeSeq: number | null; total?: unknown }) => ({
      seqs: p.items.map((r) => r.seq),
      next: p.nextBeforeSeq,
      total: p.total,
    });
    const counted: number[] = [];
    for (const query of queries) {
      const want = searchReceipts(sqlite, query);
      expect(view(await store.search(query)), JSON.stringify(query)).toEqual(view(want));
      const { beforeSeq: _b, limit: _l, count: _c, ...filters } = query;
      expect(await store.count(filters), JSON.stringify(query)).toEqual({ ...want.total, throughSeq: all.length + 1 });
      counted.push(want.total!.count);
    }
    sqlite.close();
    // Not vacuous: all but the unknown agent find receipts.
    expect(counted.filter((n) => n > 0)).toHaveLength(queries.length - 1);

    // The counts as the store asked them: agent-word pairs; without a filter on the receipts
    // themselves (the action), no receipt is read.
    const plans = loggedPlans(pgs.cluster.log(), 'openexec_event_words(s.agent');
    for (const plan of plans) expect(plan).toContain('Bitmap Index Scan on receipt_search_agent_words');
    const alone = plans.filter((plan) => plan.includes('FROM (SELECT 1 FROM receipt_search s WHERE'));
    // Each count of an exact word without a rare one is asked twice, once with the page and once alone.
    expect(alone.length).toBeGreaterThanOrEqual(10);
    for (const plan of alone) expect(plan).not.toMatch(/ on receipts\b|using receipts_/);
  });
});
