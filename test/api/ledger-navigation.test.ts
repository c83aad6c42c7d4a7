/**
 * What a reviewer navigates the ledger by, over the real /console routes: exact counts, lookups
 * by proposal, execution and approval id or by hash, and the whole-ledger check in chunks.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { RECEIPT_COUNT_CAP } from '../../src/shared/console-dto.ts';
import { consoleCall } from '../support/console-http.ts';
import { fillLedger } from '../support/fill-ledger.ts';
import { get, post, startServer, type RunningServer } from '../support/harness.ts';
import { rawDb } from '../support/raw-db.ts';
import { HASH_MATCH, ID_MATCH } from '../../src/main/core/ledger/receipt-search.ts';

describe('ledger navigation', () => {
  let s: RunningServer;
  const op = (method: string, input: unknown = {}) => consoleCall(s.url, s.app.consoleToken, method, input);
  const seqsOf = (items: { seq: number }[]) => items.map((r) => r.seq);
  let proposalId = '';
  let execId = '';
  let approvalId = '';
  let requestHash = '';

  beforeAll(async () => {
    s = await startServer({ OPENEXEC_MODE: 'clawshield', OPENEXEC_PROPOSAL_TTL: '600' });
    fillLedger(s.app.core, RECEIPT_COUNT_CAP + 500);
    const p = await post(s.url, '/proposals', { action: 'add', payload: { a: 1, b: 2 }, nonce: 'nav-1' });
    proposalId = p.body.id;
    requestHash = p.body.request_hash;
    const approved = await op('approve', { id: proposalId });
    expect(approved.status, approved.text).toBe(200);
    execId = approved.body.execId;
    approvalId = approved.body.approvalId;
    await get(s.url, `/proposals/${proposalId}`);
  }, 120_000);
  afterAll(() => s.stop());

  test('an unfiltered count is the exact number of receipts; a filtered one is exact up to the cap, then "at least"', async () => {
    const max = rawDb(s.app.core).prepare('SELECT max(seq) FROM receipts').pluck().get() as number;
    expect((await op('searchReceipts', { limit: 1, count: true })).body.total).toEqual({ count: max, exact: true });
    const denied = rawDb(s.app.core).prepare("SELECT count(*) FROM receipts WHERE event = 'denied'").pluck().get() as number;
    expect(denied).toBeLessThan(RECEIPT_COUNT_CAP);
    expect((await op('searchReceipts', { events: ['denied'], limit: 1, count: true })).body.total).toEqual({ count: denied, exact: true });
    // 'example' is in every filled receipt's payload: more matches than the cap.
    expect((await op('searchReceipts', { text: 'example', limit: 1, count: true })).body.total).toEqual({
      count: RECEIPT_COUNT_CAP,
      exact: false,
    });
    // Without `count` no total is computed, and a page deeper down counts the whole query.
    expect((await op('searchReceipts', { limit: 1 })).body.total).toBeUndefined();
    expect((await op('searchReceipts', { events: ['denied'], beforeSeq: 100, count: true })).body.total).toEqual({
      count: denied,
      exact: true,
    });
    // The count alone, as the console asks it after the page: the same total, through the newest receipt.
    expect((await op('countReceipts', {})).body).toEqual({ count: max, exact: true, throughSeq: max });
    expect((await op('countReceipts', { events: ['denied'] })).body).toEqual({ count: denied, exact: true, throughSeq: max });
    expect((await op('countReceipts', { text: 'example' })).body).toEqual({ count: RECEIPT_COUNT_CAP, exact: false, throughSeq: max });
    // It has no page: a page bound is refused, not ignored.
    for (const bound of [{ limit: 1 }, { beforeSeq: 100 }, { count: true }]) {
      const refused = await op('countReceipts', bound);
      expect(refused.status, JSON.stringify(bound)).toBe(400);
      expect(refused.body.code).toBe('invalid_input');
    }
  });

  test('a proposal, execution or approval id finds its receipts; so does a request hash or a receipt hash', async () => {
    const byProposal = await op('searchReceipts', { id: proposalId });
    const events = (byProposal.body.items as { event: string }[]).map((r) => r.event);
    expect(events).toEqual(['executed', 'approved', 'proposed']);
    const executedSeq = byProposal.body.items[0].seq as number;
    expect(seqsOf((await op('searchReceipts', { id: execId })).body.items)).toContain(executedSeq);
    expect(seqsOf((await op('searchReceipts', { id: approvalId })).body.items)).toContain(executedSeq);
    expect(seqsOf((await op('searchReceipts', { hash: requestHash })).body.items)).toEqual(seqsOf(byProposal.body.items));
    const receiptHash = byProposal.body.items[1].hash as string;
    expect(seqsOf((await op('searchReceipts', { hash: receiptHash })).body.items)).toEqual([byProposal.body.items[1].seq]);
    expect((await op('searchReceipts', { id: 'no-such-id' })).body.items).toEqual([]);
    const bad = await op('searchReceipts', { hash: 'xyz' });
    expect(bad.status).toBe(400);
    expect(bad.body.detail).toMatch(/hash/);
  });

  test('the lookups use an index, not a scan of the ledger', () => {
    // The very conditions searchReceipts uses (receipt-search.ts).
    const plan = (where: string) =>
      (
        rawDb(s.app.core).prepare(`EXPLAIN QUERY PLAN SELECT seq FROM receipts r WHERE ${where}`).all('x', 'x', 'x', 'x') as {
          detail: string;
        }[]
      )
        .map((r) => r.detail)
        .join('\n');
    expect(plan(ID_MATCH)).not.toMatch(/SCAN/);
    expect(plan(HASH_MATCH)).not.toMatch(/SCAN/);
    expect(plan(HASH_MATCH)).toMatch(/receipts_hash/);
    expect(plan(HASH_MATCH)).toMatch(/receipts_request_hash/);
  });

  test('verifyChainRange: chunks add up to the whole chain, and a tampered receipt at the edge of a chunk is named', async () => {
    const whole = await op('verifyChain');
    expect(whole.body).toMatchObject({ valid: true });
    let from: number | null = 1;
    let checked = 0;
    let chunks = 0;
    while (from !== null) {
      const chunk = await op('verifyChainRange', { fromSeq: from, limit: 4000 });
      expect(chunk.status, chunk.text).toBe(200);
      expect(chunk.body).toMatchObject({ fromSeq: from, valid: true, lastSeq: whole.body.checked });
      checked += chunk.body.checked;
      from = chunk.body.nextSeq;
      chunks++;
    }
    expect(checked).toBe(whole.body.checked);
    expect(chunks).toBe(Math.ceil(whole.body.checked / 4000));

    expect((await op('verifyChainRange', { fromSeq: whole.body.checked + 5, limit: 10 })).status).toBe(404);
    expect((await op('verifyChainRange', { fromSeq: 1, limit: 0 })).status).toBe(400);
    expect((await op('verifyChainRange', { fromSeq: 1, limit: 1_000_000 })).status).toBe(400);

    // Tamper with receipt 4000, the last of the first chunk: that chunk names it; the next one
    // starts from its stored hash, which the first chunk is the one to check.
    rawDb(s.app.core).exec('DROP TRIGGER receipts_append_only_update');
    const body = rawDb(s.app.core).prepare('SELECT body FROM receipts WHERE seq = 4000').pluck().get() as string;
    rawDb(s.app.core).prepare('UPDATE receipts SET body = ? WHERE seq = 4000').run(body.replace('"v":2', '"v":3'));
    const first = await op('verifyChainRange', { fromSeq: 1, limit: 4000 });
    expect(first.body).toMatchObject({ valid: false, firstBadSeq: 4000, checked: 3999, nextSeq: null });
    expect(first.body.problem).toMatch(/hash/);
    const later = await op('verifyChainRange', { fromSeq: 4001, limit: 10 });
    expect(later.body).toMatchObject({ valid: true, checked: 10 });
  }, 120_000);
});
