import { afterEach, beforeEach, expect, test } from 'vitest';
import { rmSync } from 'node:fs';
import { tempDir } from '../support/harness.ts';
import { loadConfig } from '../../src/main/app/config.ts';
import { OpenExecCore } from '../../src/main/core/openexec-core.ts';
import { parseJson } from '../../src/main/core/json/parse.ts';
import type { JsonObject } from '../../src/main/core/json/json-value.ts';
import { searchReceipts } from '../../src/main/core/ledger/receipt-search.ts';
import { BACKGROUND_SLICE } from '../../src/main/core/ledger/search-index.ts';
import { fillLedger, rng } from '../support/fill-ledger.ts';
import { rawDb } from '../support/raw-db.ts';

let dir = '';
let core: OpenExecCore;
beforeEach(async () => {
  dir = tempDir();
  core = await OpenExecCore.open(loadConfig({ OPENEXEC_DATA_DIR: dir }));
});
afterEach(() => {
  core.close();
  rmSync(dir, { recursive: true, force: true });
});

const indexed = () => rawDb(core).prepare('SELECT count(*) FROM receipts_fts').pluck().get() as number;
const receipts = () => rawDb(core).prepare('SELECT count(*) FROM receipts').pluck().get() as number;
const hits = (text: string) => searchReceipts(rawDb(core), { text, limit: 100 }).items.map((r) => r.seq);

async function execute(payload: string, nonce: string, context: string | null = null) {
  const outcome = await core.engine.execute({ action: 'echo', payload: parseJson(payload) as JsonObject, nonce, artifact: null, context });
  return outcome.receiptSeq;
}

test('a committed receipt is found by the very next search, though its transaction wrote no index row', async () => {
  const before = indexed();
  const seq = await execute('{"city":"Zürich","big":123456789012345678901234567890}', 'idx-1', 'quarterly invoice run');
  // The execution's own transaction did not touch the index: it trails the ledger.
  expect(indexed()).toBe(before);
  expect(hits('Zürich')).toEqual([seq]);
  // Big integers are indexed digit for digit (the body's text, not a float's).
  expect(hits('123456789012345678901234567890')).toEqual([seq]);
  expect(hits('quarterly invoice')).toEqual([seq]);
  expect(indexed()).toBe(receipts());
});

test('without any search, a step off the request path indexes what was committed', async () => {
  await execute('{"word":"backgroundword"}', 'idx-2');
  const deadline = Date.now() + 20_000;
  while (indexed() < receipts() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
  expect(indexed()).toBe(receipts());
  expect(hits('backgroundword')).toHaveLength(1);
});

test('a backlog is indexed in the background a slice at a time, the event loop running between slices', async () => {
  // Receipts appended with no index rows and no search, then one commit to start the steps.
  fillLedger(core, 3 * BACKGROUND_SLICE + 5, rng(7));
  const backlog = receipts() - indexed();
  expect(backlog).toBeGreaterThan(3 * BACKGROUND_SLICE);
  await execute('{"word":"slicedword"}', 'idx-slices');
  // Watch from the event loop itself: every turn records how many receipts the index holds.
  const seen: number[] = [];
  const deadline = Date.now() + 20_000;
  while (indexed() < receipts() && Date.now() < deadline) {
    seen.push(indexed());
    await new Promise((r) => setImmediate(r));
  }
  expect(indexed()).toBe(receipts());
  // The loop saw the index grow a slice at a time, never a whole backlog in one turn.
  const steps = seen
    .slice(1)
    .map((n, i) => n - seen[i]!)
    .filter((d) => d > 0);
  expect(steps.length).toBeGreaterThanOrEqual(3);
  expect(Math.max(...steps)).toBeLessThanOrEqual(BACKGROUND_SLICE);
  expect(hits('slicedword')).toHaveLength(1);
});

test('an index that lost rows (a crash between commit and catch-up) is rebuilt from the signed bodies, with the same results', async () => {
  const seqs = [];
  for (let i = 0; i < 30; i++) seqs.push(await execute(`{"n":${i},"tag":"rebuild${i % 3}"}`, `idx-r-${i}`, i % 2 ? 'odd context' : null));
  const queries = ['rebuild0', 'rebuild1', 'odd', 'tag', 'echo'];
  const expected = queries.map(hits);
  expect(expected[0]!.length).toBe(10);
  rawDb(core).exec("INSERT INTO receipts_fts (receipts_fts) VALUES ('delete-all')");
  expect(indexed()).toBe(0);
  expect(queries.map(hits)).toEqual(expected);
});
