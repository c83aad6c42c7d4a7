/**
 * The Ledger view over a real core holding `count` receipts, in Chromium, through the same
 * test bridge the end-to-end tests use (window.openexec → /console HTTP). Times what the
 * operator waits for: the first rows, a search, a filter change, the next page while
 * scrolling, and frame times while the virtualised list scrolls. Also the page's JS heap (after
 * a forced GC) at the first page, after 20,000 rows have scrolled by, and back at the top: the
 * list keeps a window of pages, so it should not grow with the distance scrolled.
 */
import type { Page } from 'playwright-core';
import { fillLedger } from '../test/support/fill-ledger.ts';
import { startServer } from '../test/support/harness.ts';
import { consoleCall } from '../test/support/console-http.ts';
import { serveStatic } from '../test/support/static-server.ts';
import { installConsoleBridge, type ConsoleTestBridge } from '../test/support/console-test-bridge.ts';
import {
  launchChromium,
  RENDERER_DIR,
  rendererTestBlocker,
  VIEWPORT,
  watchPageProblems,
  type PageGlobal,
} from '../test/support/browser.ts';
import { renderedSeqs } from '../test/support/console-ui.ts';
import type { ReceiptQuery } from '../src/shared/console-schemas.ts';

/** The search box waits this long after the last keystroke (LedgerFilters.tsx). */
const SEARCH_DEBOUNCE_MS = 250;
const PAGE_SIZE = 200;

const round = (ms: number) => Math.round(ms * 10) / 10;
const median = (xs: number[]) => round([...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0);

/** Until the ledger shows an answer: not loading, with rows or the empty state. */
function ledgerSettled(page: Page) {
  return page.waitForFunction(
    () => {
      const view = (globalThis as unknown as PageGlobal).document.querySelector('[data-testid="view-ledger"]');
      if (!view || view.querySelector('[data-testid="state-loading"]')) return false;
      return !!view.querySelector('[data-testid="receipt-row"]') || !!view.querySelector('[data-testid="state-empty"]');
    },
    undefined,
    { polling: 'raf', timeout: 60_000 },
  );
}

/**
 * Time from `act` to the answer on screen. Waiting for the page's own searchReceipts call
 * first means the old list can never pass for the new one.
 */
async function timeSearch(page: Page, bridge: ConsoleTestBridge, act: () => Promise<void>): Promise<number> {
  const mark = bridge.calls.length;
  const t0 = performance.now();
  await act();
  await bridge.waitForCall('searchReceipts', mark, 60_000);
  await ledgerSettled(page);
  return performance.now() - t0;
}

// A string, not a function: tsx would wrap a named inner function in a helper the page lacks.
const SCROLL_FRAMES = `new Promise((resolve) => {
  const list = document.querySelector('[data-testid="ledger-list"]');
  const gaps = [];
  let last = 0;
  let frames = 0;
  const tick = (now) => {
    if (last) gaps.push(now - last);
    last = now;
    list.scrollTop += 480;
    if (++frames < 180) requestAnimationFrame(tick);
    else resolve(gaps);
  };
  requestAnimationFrame(tick);
})`;

export async function benchLedgerView(count: number) {
  const blocker = rendererTestBlocker();
  if (blocker) return { skipped: blocker };
  const s = await startServer();
  const statics = await serveStatic(RENDERER_DIR);
  const browser = await launchChromium();
  let bridge: ConsoleTestBridge | null = null;
  try {
    const fillSeconds = fillLedger(s.app.core, count);
    const expected = async (query: ReceiptQuery) =>
      (
        (await consoleCall(s.url, s.app.consoleToken, 'searchReceipts', { ...query, limit: PAGE_SIZE })).body.items as { seq: number }[]
      ).map((r) => r.seq);
    const page = await browser.newPage({ viewport: VIEWPORT });
    const problems = watchPageProblems(page);
    bridge = await installConsoleBridge(page, { url: s.url, token: s.app.consoleToken });
    const b = bridge;
    /** The rows on screen are the first rows of the API's answer to the same query. */
    const matches = async (query: ReceiptQuery) => {
      const [shown, want] = [await renderedSeqs(page), await expected(query)];
      return want.length === 0 ? shown.length === 0 : shown.length > 0 && shown.every((seq, i) => seq === want[i]);
    };

    // First rows: a fresh page each time (empty stores), then a click on Ledger.
    const loadToRows: number[] = [];
    const clickToRows: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      await page.goto(`${statics.url}/`);
      await page.getByTestId('view-pending').waitFor();
      clickToRows.push(await timeSearch(page, b, () => page.getByTestId('nav-ledger').click()));
      loadToRows.push(performance.now() - t0);
    }
    const firstRowsCorrect = await matches({});

    const search = [];
    for (const text of [
      'invoice',
      'refund payroll',
      'vendor-421',
      'urgent requested agent',
      'quarterly budget 77777',
      'nothing-matches-this',
    ]) {
      const ms = await timeSearch(page, b, () => page.getByTestId('ledger-search').fill(text));
      search.push({ text, ms: round(ms), withoutDebounceMs: round(ms - SEARCH_DEBOUNCE_MS), correct: await matches({ text }) });
    }
    await timeSearch(page, b, () => page.getByTestId('ledger-search').fill(''));

    const filters = [];
    const chip = (event: string) => () => page.getByTestId(`ledger-event-${event}`).click();
    const steps: [string, () => Promise<void>, ReceiptQuery, number][] = [
      ['events = denied', chip('denied'), { events: ['denied'] }, 0],
      ['events = denied, refused', chip('refused'), { events: ['denied', 'refused'] }, 0],
      [
        '+ action = add',
        () => page.getByTestId('ledger-filter-action').fill('add'),
        { events: ['denied', 'refused'], action: 'add' },
        SEARCH_DEBOUNCE_MS,
      ],
      [
        '+ approver key id',
        () => page.getByTestId('ledger-filter-approver').fill('0123456789abcdef'),
        { events: ['denied', 'refused'], action: 'add', approverKeyId: '0123456789abcdef' },
        SEARCH_DEBOUNCE_MS,
      ],
      [
        '+ text "backup"',
        () => page.getByTestId('ledger-search').fill('backup'),
        { text: 'backup', events: ['denied', 'refused'], action: 'add', approverKeyId: '0123456789abcdef' },
        SEARCH_DEBOUNCE_MS,
      ],
    ];
    for (const [change, act, query, debounce] of steps) {
      const ms = await timeSearch(page, b, act);
      filters.push({ change, ms: round(ms), withoutDebounceMs: round(ms - debounce), correct: await matches(query) });
    }

    // Unfiltered again, then scroll: each time the end comes near, the next keyset page loads.
    await page.goto(`${statics.url}/`);
    await timeSearch(page, b, () => page.getByTestId('nav-ledger').click());
    const rowsKnown = async () => Number(await page.getByTestId('ledger-list').getAttribute('data-rows'));
    const held = async () => Number(await page.getByTestId('ledger-list').getAttribute('data-held-rows'));
    const toEnd = () =>
      page.getByTestId('ledger-list').evaluate((el) => {
        const list = el as unknown as { scrollTop: number; scrollHeight: number };
        list.scrollTop = list.scrollHeight;
      });
    /** Scrolls to the end and waits for the next keyset page to be added to the list. */
    const nextPageLoaded = async () => {
      const before = await rowsKnown();
      await toEnd();
      await page.waitForFunction(
        (old) => Number((globalThis as unknown as PageGlobal).document.querySelector('[data-testid="ledger-list"]')?.dataset['rows']) > old,
        before,
        { polling: 'raf', timeout: 60_000 },
      );
    };
    const cdp = await page.context().newCDPSession(page);
    /** The page's JS heap after a full garbage collection, in MB. */
    const heapMb = async () => {
      await cdp.send('HeapProfiler.collectGarbage');
      const { usedSize } = (await cdp.send('Runtime.getHeapUsage')) as { usedSize: number };
      return Math.round((usedSize / 1e6) * 10) / 10;
    };
    const heapAtFirstPage = { rows: await rowsKnown(), heldRows: await held(), heapMb: await heapMb() };

    const nextPage: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      await nextPageLoaded();
      nextPage.push(performance.now() - t0);
    }
    const gaps = (await page.evaluate(SCROLL_FRAMES)) as number[];
    gaps.sort((x, y) => x - y);
    const listAfterwards = `${(await rowsKnown()).toLocaleString()} rows known, ${(await held()).toLocaleString()} held`;

    // Scroll on until 20,000 rows (or the whole ledger) have gone by: the store holds a window.
    const far = Math.min(20_000, count);
    let mostHeld = 0;
    while ((await rowsKnown()) < far) {
      await nextPageLoaded();
      mostHeld = Math.max(mostHeld, await held());
    }
    const heapAfterScrolling = { rows: await rowsKnown(), heldRows: await held(), mostHeldRows: mostHeld, heapMb: await heapMb() };
    await page.getByTestId('ledger-list').evaluate((el) => {
      (el as unknown as { scrollTop: number }).scrollTop = 0;
    });
    await page.locator('[data-testid="receipt-row"]').first().waitFor();
    const heapBackAtTop = { heldRows: await held(), heapMb: await heapMb() };

    return {
      receipts: count,
      fillSeconds: round(fillSeconds),
      firstRows: {
        clickToRowsMs: { median: median(clickToRows), runs: clickToRows.map(round) },
        pageLoadToRowsMs: { median: median(loadToRows), runs: loadToRows.map(round) },
        correct: firstRowsCorrect,
      },
      search: { debounceMs: SEARCH_DEBOUNCE_MS, queries: search },
      filterChange: filters,
      nextPageOnScrollMs: { median: median(nextPage), runs: nextPage.map(round) },
      scrollFrames: {
        frames: gaps.length,
        p50ms: round(gaps[Math.floor(gaps.length * 0.5)] ?? 0),
        p95ms: round(gaps[Math.floor(gaps.length * 0.95)] ?? 0),
        maxMs: round(gaps.at(-1) ?? 0),
        listAfterwards,
      },
      memory: { firstPage: heapAtFirstPage, afterScrolling: heapAfterScrolling, backAtTop: heapBackAtTop },
      pageProblems: problems,
    };
  } finally {
    await bridge?.close();
    await browser.close();
    await statics.close();
    await s.stop();
  }
}
