/**
 * A ledger a reviewer can navigate, in Chromium against a real core holding 20,000 receipts:
 * the exact count, lookups by id and hash, a proposal's timeline, jumping to a sequence
 * number, the whole-ledger check with progress and Cancel, and a list that releases the rows
 * scrolled far away and fetches them again on the way back.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Page } from 'playwright-core';
import { RECEIPT_COUNT_CAP } from '../../src/shared/console-dto.ts';
import { post } from '../support/harness.ts';
import { fillLedger } from '../support/fill-ledger.ts';
import { mustFailWhenBlocked, rendererTestBlocker, type PageGlobal } from '../support/browser.ts';
import { axeViolations, startConsoleSession, type ConsolePage, type ConsoleSession } from '../support/console-session.ts';
import { ledgerCount, receiptRow, renderedSeqs, screenshot, showView, waitForLedgerRows } from '../support/console-ui.ts';
import { rawDb } from '../support/raw-db.ts';

const blocker = rendererTestBlocker();
const skip = blocker !== null && !mustFailWhenBlocked();
if (skip) console.log(`console ledger navigation tests skipped: ${blocker}`);

const FILLED = 20_000;
/** As in the renderer: receipts per verifyChainRange call (chain-check-store.ts), rows per page (ledger-query.ts). */
const CHAIN_CHUNK = 2000;
const PAGE_SIZE = 200;
/** The most rows the list may hold: the pages on screen (two at most) and one page either side. */
const HELD_BOUND = 4 * PAGE_SIZE;

describe.skipIf(skip)('navigating a 20,000-receipt ledger (Chromium, real core)', () => {
  let session: ConsoleSession;
  let cp: ConsolePage;
  let page: Page;
  let newest = 0;
  const ids = { proposal: '', exec: '', approval: '', requestHash: '' };
  const db = () => rawDb(session.server.app.core);
  const expectedSeqs = async (query: Record<string, unknown>) =>
    ((await session.op('searchReceipts', { ...query, limit: 200 })).body.items as { seq: number }[]).map((r) => r.seq);
  const listAttr = async (name: string) => Number(await page.getByTestId('ledger-list').getAttribute(name));
  const count = () => ledgerCount(page);

  beforeAll(async () => {
    if (blocker) throw new Error(`CI=true and the console cannot be tested: ${blocker}`);
    session = await startConsoleSession({ OPENEXEC_MODE: 'clawshield', OPENEXEC_PROPOSAL_TTL: '600' });
    fillLedger(session.server.app.core, FILLED);
    const p = await post(session.server.url, '/proposals', {
      action: 'echo',
      payload: { to: 'audit@example.com' },
      nonce: 'nav-e2e',
      context: 'Audit trail.',
    });
    const approved = await session.op('approve', { id: p.body.id });
    Object.assign(ids, {
      proposal: p.body.id,
      exec: approved.body.execId,
      approval: approved.body.approvalId,
      requestHash: p.body.request_hash,
    });
    newest = db().prepare('SELECT max(seq) FROM receipts').pluck().get() as number;
    cp = await session.open();
    page = cp.page;
    await showView(page, 'ledger');
    await waitForLedgerRows(page, await expectedSeqs({}));
  }, 180_000);

  afterAll(async () => {
    await session?.close();
  });

  test('at 1,280 px the search with its five filters, and the eleven event chips, each take one line', async () => {
    // The distinct bottoms of what the selector finds: one line is one bottom (the fields'
    // labels sit above them, and the row aligns their bottoms).
    const bottoms = (selector: string) =>
      page.locator(selector).evaluateAll((els) => [...new Set(els.map((el) => Math.round(el.getBoundingClientRect().bottom)))]);
    expect(page.viewportSize()!.width).toBe(1280);
    expect(await page.locator('.filters-row:first-child input').count()).toBe(6);
    expect(await bottoms('.filters-row:first-child input')).toHaveLength(1);
    expect(await page.locator('fieldset.chips .chip').count()).toBe(11);
    expect(await bottoms('fieldset.chips .chip')).toHaveLength(1);
    await expect(page.getByLabel('Search', { exact: true }).getAttribute('data-testid')).resolves.toBe('ledger-search');
  });

  test('the header gives the exact count, or says "at least" when a filtered count is capped', async () => {
    await expect(count()).resolves.toBe(`${newest.toLocaleString('en-US')} receipts, newest first`);
    const denied = db().prepare("SELECT count(*) FROM receipts WHERE event = 'denied'").pluck().get() as number;
    await page.getByTestId('ledger-event-denied').check();
    await waitForLedgerRows(page, await expectedSeqs({ events: ['denied'] }));
    await expect(count()).resolves.toBe(`${denied.toLocaleString('en-US')} receipts, newest first`);
    await page.getByTestId('ledger-event-denied').uncheck();
    await page.getByTestId('ledger-search').fill('example');
    await waitForLedgerRows(page, await expectedSeqs({ text: 'example' }));
    await expect(count()).resolves.toBe(`at least ${RECEIPT_COUNT_CAP.toLocaleString('en-US')} receipts, newest first`);
  });

  test('the page shows while its count is on its way, and the count follows', async () => {
    const denied = db().prepare("SELECT count(*) FROM receipts WHERE event = 'denied'").pluck().get() as number;
    await page.getByTestId('ledger-search').fill('');
    await waitForLedgerRows(page, await expectedSeqs({}));
    await count();
    const held = cp.bridge.holdAnswer('countReceipts');
    await page.getByTestId('ledger-event-denied').check();
    await waitForLedgerRows(page, await expectedSeqs({ events: ['denied'] }));
    await held.answered;
    const line = page.getByTestId('ledger-count');
    await expect(line.innerText()).resolves.toBe('Receipts (counting…), newest first');
    await expect(line.getAttribute('aria-busy')).resolves.toBe('true');
    held.release();
    await expect(count()).resolves.toBe(`${denied.toLocaleString('en-US')} receipts, newest first`);
    await page.getByTestId('ledger-event-denied').uncheck();
    await waitForLedgerRows(page, await expectedSeqs({}));
  });

  test('the count of a search that has since been replaced is never shown', async () => {
    const denied = (await session.op('countReceipts', { events: ['denied'] })).body.count as number;
    const refused = (await session.op('countReceipts', { events: ['refused'] })).body.count as number;
    expect(denied).not.toBe(refused);
    await expect(count()).resolves.toMatch(/newest first/);
    // Every text the count line shows from now on.
    await page.evaluate(() => {
      type Observer = new (onChange: () => void) => { observe(node: unknown, options: Record<string, boolean>): void };
      const g = globalThis as unknown as PageGlobal & { __countTexts: string[]; MutationObserver: Observer };
      const line = g.document.querySelector('[data-testid="ledger-count"]')!;
      g.__countTexts = [];
      new g.MutationObserver(() => g.__countTexts.push(line.textContent ?? '')).observe(line, {
        childList: true,
        characterData: true,
        subtree: true,
      });
    });
    const first = cp.bridge.holdAnswer('countReceipts');
    await page.getByTestId('ledger-event-denied').check();
    await waitForLedgerRows(page, await expectedSeqs({ events: ['denied'] }));
    await first.answered;
    await page.getByTestId('ledger-event-denied').uncheck();
    await page.getByTestId('ledger-event-refused').check();
    await waitForLedgerRows(page, await expectedSeqs({ events: ['refused'] }));
    await expect(count()).resolves.toBe(`${refused.toLocaleString('en-US')} receipts, newest first`);
    // The denied search's count arrives last, and is dropped.
    const callsBefore = cp.bridge.calls.length;
    first.release();
    await page.getByTestId('ledger-event-refused').uncheck();
    await cp.bridge.waitForCall('countReceipts', callsBefore);
    await waitForLedgerRows(page, await expectedSeqs({}));
    await count();
    const texts = await page.evaluate(() => (globalThis as unknown as { __countTexts: string[] }).__countTexts);
    expect(texts).toContain(`${refused.toLocaleString('en-US')} receipts, newest first`);
    expect(texts.filter((t) => t.startsWith(`${denied.toLocaleString('en-US')} receipt`))).toEqual([]);
  });

  test('a pasted proposal, execution or approval id or request hash finds its receipts', async () => {
    const search = page.getByTestId('ledger-search');
    for (const [value, query] of [
      [ids.proposal, { id: ids.proposal }],
      [ids.exec, { id: ids.exec }],
      [ids.approval, { id: ids.approval }],
      [ids.requestHash.toUpperCase(), { hash: ids.requestHash }],
    ] as const) {
      const want = await expectedSeqs(query);
      expect(want.length).toBeGreaterThan(0);
      await search.fill(value);
      // All of them: a short answer is on screen whole.
      await page.waitForFunction(
        (seqs) =>
          Array.from(
            (globalThis as unknown as PageGlobal).document.querySelectorAll('[data-testid="receipt-row"]'),
            (r) => r.dataset['seq'],
          ).join() === seqs.join(),
        want,
        { polling: 'raf' },
      );
      await expect(page.getByTestId('ledger-search-shape').innerText()).resolves.toMatch(
        'id' in query ? /proposal, execution or approval id/ : /request hash/,
      );
    }
    const events = db().prepare('SELECT event FROM receipts WHERE proposal_id = ? ORDER BY seq').pluck().all(ids.proposal);
    expect(events).toEqual(['proposed', 'approved', 'executed']);
  });

  test('a receipt shows its proposal’s timeline, each step opening its receipt', async () => {
    await page.getByTestId('ledger-search').fill(ids.proposal);
    const seqs = db().prepare('SELECT seq FROM receipts WHERE proposal_id = ? ORDER BY seq').pluck().all(ids.proposal) as number[];
    await waitForLedgerRows(page, [...seqs].reverse());
    await receiptRow(page, seqs[2]!).click();
    const steps = page.getByTestId('timeline-step');
    await steps.nth(2).waitFor();
    expect(await steps.evaluateAll((els) => els.map((e) => (e as unknown as { textContent: string }).textContent))).toEqual([
      expect.stringMatching(new RegExp(`^proposed#${seqs[0]}`)),
      expect.stringMatching(new RegExp(`^approved#${seqs[1]}`)),
      expect.stringMatching(new RegExp(`^executed#${seqs[2]}`)),
    ]);
    await expect(steps.nth(2).getAttribute('aria-current')).resolves.toBe('step');
    await steps.nth(0).click();
    await page
      .getByTestId('receipt-seq')
      .filter({ hasText: `#${seqs[0]}` })
      .waitFor();
    await screenshot(page, 'ledger-timeline');
  });

  test('Go to # shows the ledger from that receipt down, with it open; Back to the newest returns', async () => {
    await page.getByTestId('ledger-search').fill('');
    // The count, not the rows: the lookup's three rows are also the first rows of the ledger.
    await page
      .getByTestId('ledger-count')
      .getByText(`${newest.toLocaleString('en-US')} receipts, newest first`)
      .waitFor();
    await waitForLedgerRows(page, await expectedSeqs({}));
    await page.getByTestId('ledger-goto').fill('12345');
    await page.getByTestId('ledger-goto').press('Enter');
    await waitForLedgerRows(page, await expectedSeqs({ beforeSeq: 12346 }));
    expect((await renderedSeqs(page))[0]).toBe(12345);
    await page.getByTestId('receipt-seq').filter({ hasText: '#12345' }).waitFor();
    await expect(count()).resolves.toBe(`${newest.toLocaleString('en-US')} receipts, from #12,345 down`);
    await page.getByTestId('ledger-newest').click();
    await waitForLedgerRows(page, await expectedSeqs({}));
    await expect(count()).resolves.toBe(`${newest.toLocaleString('en-US')} receipts, newest first`);
    await page.getByRole('button', { name: 'Close receipt' }).click();
  });

  test('"Verify the whole ledger" shows progress and stops on Cancel', async () => {
    const calls = () => cp.bridge.calls.filter((c) => c === 'verifyChainRange').length;
    const before = calls();
    // The first two chunks answer; the third waits, so Cancel is pressed mid-check.
    const release = cp.bridge.hold('verifyChainRange', 2);
    await page.getByRole('button', { name: 'Verify the whole ledger' }).click();
    const progress = page.getByTestId('chain-progress');
    await progress
      .getByText(`${(2 * CHAIN_CHUNK).toLocaleString('en-US')} of ${newest.toLocaleString('en-US')} receipts checked`)
      .waitFor();
    await expect(progress.locator('progress').getAttribute('value')).resolves.toBe(String(2 * CHAIN_CHUNK));
    await screenshot(page, 'ledger-verify-progress');
    await page.getByTestId('chain-cancel').click();
    const result = page.getByTestId('chain-result');
    await expect(result.getAttribute('data-outcome')).resolves.toBe('cancelled');
    await expect(result.innerText()).resolves.toBe(
      `Stopped after ${(2 * CHAIN_CHUNK).toLocaleString('en-US')} of ${newest.toLocaleString('en-US')} receipts; those hold. The rest were not checked.`,
    );
    release();
    // A full run after it: had the cancelled run gone on, it would have added calls of its own.
    await page.getByRole('button', { name: 'Verify the whole ledger' }).click();
    await page.locator('[data-testid="chain-result"][data-outcome="valid"]').waitFor({ timeout: 60_000 });
    await expect(result.innerText()).resolves.toBe(`All ${newest.toLocaleString('en-US')} receipts hold: hashes, links and signatures.`);
    expect(calls() - before).toBe(3 + Math.ceil(newest / CHAIN_CHUNK));
  }, 120_000);

  test('rows scrolled far away are released, and fetched again on the way back', async () => {
    const list = page.getByTestId('ledger-list');
    const scrollTo = (top: number | 'end') =>
      list.evaluate((el, to) => {
        const box = el as unknown as { scrollTop: number; scrollHeight: number };
        box.scrollTop = to === 'end' ? box.scrollHeight : to;
      }, top);
    const bound = HELD_BOUND;
    // A receipt selected at the top, then scrolled far out of the DOM: the list must not point
    // at a row that is no longer there.
    await receiptRow(page, newest).click();
    let most = 0;
    // Scroll to the end again and again: each time the next keyset page loads.
    while ((await listAttr('data-rows')) < 30 * PAGE_SIZE) {
      const rows = await listAttr('data-rows');
      await scrollTo('end');
      await page.waitForFunction(
        (n) => Number((globalThis as unknown as PageGlobal).document.querySelector('[data-testid="ledger-list"]')?.dataset['rows']) > n,
        rows,
        { polling: 'raf' },
      );
      most = Math.max(most, await listAttr('data-held-rows'));
    }
    expect(most).toBeLessThanOrEqual(bound);
    expect(await axeViolations(page)).toEqual([]);
    // Far down, the rows on screen are the right ones (seq is gapless: row i is newest - i).
    const shown = await renderedSeqs(page);
    expect(shown.length).toBeGreaterThan(0);
    const rows = await listAttr('data-rows');
    expect(shown.at(-1)).toBeLessThanOrEqual(newest - rows + PAGE_SIZE);

    // Halfway back: the released pages come back with the same rows.
    const middle = Math.floor(rows / 2);
    await scrollTo(middle * 40);
    await page.waitForFunction(
      (seq) => !!(globalThis as unknown as PageGlobal).document.querySelector(`[data-testid="receipt-row"][data-seq="${seq}"]`),
      newest - middle - 3,
      { polling: 'raf' },
    );
    const around = await renderedSeqs(page);
    expect(around).toEqual(around.map((_, i) => around[0]! - i));
    expect(await listAttr('data-held-rows')).toBeLessThanOrEqual(bound);

    await scrollTo(0);
    await receiptRow(page, newest).waitFor();
    expect(await listAttr('data-held-rows')).toBeLessThanOrEqual(bound);

    // A receipt pushed while the top page is released still goes on top, and the count follows.
    await scrollTo('end');
    await page.waitForFunction(
      (seq) => !(globalThis as unknown as PageGlobal).document.querySelector(`[data-testid="receipt-row"][data-seq="${seq}"]`),
      newest,
      { polling: 'raf' },
    );
    const arrived = await post(session.server.url, '/proposals', { action: 'echo', payload: { late: true }, nonce: 'nav-late' });
    expect(arrived.status).toBe(202);
    await page
      .getByTestId('ledger-count')
      .getByText(`${(newest + 1).toLocaleString('en-US')} receipts, newest first`)
      .waitFor();
    await scrollTo(0);
    await receiptRow(page, newest + 1).waitFor();
    await receiptRow(page, newest).waitFor();
    const top = await renderedSeqs(page);
    expect(top.slice(0, 5)).toEqual([newest + 1, newest, newest - 1, newest - 2, newest - 3]);
    expect(cp.problems).toEqual([]);
  }, 120_000);
  // Last: it adds receipts, which the tests above count on not happening.
  test('a receipt that arrives while the count is on its way is counted once, whichever side of the count it lands', async () => {
    const proposed = () => session.op('countReceipts', { events: ['proposed'] }).then((r) => r.body.count as number);
    const propose = async (nonce: string) => {
      const arrived = await post(session.server.url, '/proposals', { action: 'echo', payload: { nonce }, nonce });
      expect(arrived.status).toBe(202);
      return (await session.op('searchReceipts', { events: ['proposed'], limit: 1 })).body.items[0].seq as number;
    };
    // After the count was taken: the count does not cover it, the page must add it.
    const after = cp.bridge.holdAnswer('countReceipts');
    await page.getByTestId('ledger-event-proposed').check();
    await waitForLedgerRows(page, await expectedSeqs({ events: ['proposed'] }));
    await after.answered;
    const before = await proposed();
    const late = await propose('count-race-after');
    await receiptRow(page, late).waitFor();
    after.release();
    await expect(count()).resolves.toBe(`${(before + 1).toLocaleString('en-US')} receipts, newest first`);
    expect(await proposed()).toBe(before + 1);

    // Before the count was taken but heard while it was asked for: the count covers it already.
    await page.getByTestId('ledger-event-proposed').uncheck();
    await waitForLedgerRows(page, await expectedSeqs({}));
    await count();
    const callsBefore = cp.bridge.calls.length;
    const release = cp.bridge.hold('countReceipts', 0);
    await page.getByTestId('ledger-event-proposed').check();
    await cp.bridge.waitForCall('countReceipts', callsBefore);
    const early = await propose('count-race-before');
    await receiptRow(page, early).waitFor();
    await expect(page.getByTestId('ledger-count').getAttribute('aria-busy')).resolves.toBe('true');
    release();
    await expect(count()).resolves.toBe(`${(before + 2).toLocaleString('en-US')} receipts, newest first`);
    expect(await proposed()).toBe(before + 2);
    await page.getByTestId('ledger-event-proposed').uncheck();
    await waitForLedgerRows(page, await expectedSeqs({}));
  });
});
