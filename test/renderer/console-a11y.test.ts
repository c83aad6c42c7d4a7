/**
 * Everyone can use the console: axe-core finds no serious or critical violation on any view,
 * light and dark, at 1280×800 and 900×700; nothing is clipped at 900×700 and no word of prose is cut in two; times are in one
 * format and never break; every view works by keyboard; the mode is always in view and demo
 * mode cannot be missed. The built renderer in Chromium against a real core.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Page } from 'playwright-core';
import { post } from '../support/harness.ts';
import { mustFailWhenBlocked, rendererTestBlocker } from '../support/browser.ts';
import { axeViolations, startConsoleSession, type ConsoleSession } from '../support/console-session.ts';
import { ledgerCount, screenshot, showView, type ViewName } from '../support/console-ui.ts';
import { rawDb } from '../support/raw-db.ts';

const blocker = rendererTestBlocker();
const skip = blocker !== null && !mustFailWhenBlocked();
if (skip) console.log(`console accessibility tests skipped: ${blocker}`);

const VIEWS: ViewName[] = ['pending', 'approvals', 'grants', 'allow-list', 'tools', 'ledger', 'status'];
const SIZES = [
  { width: 1280, height: 800 },
  { width: 900, height: 700 },
];

/**
 * What is cut off on screen: any box narrower than its content (text shortened with an
 * ellipsis on purpose aside), and any control, cell, time or heading reaching past the window.
 * A string: tsx would wrap a named inner function in a helper the page does not have.
 */
const CLIPPED = `(() => {
  const out = [];
  const name = (el) => el.tagName.toLowerCase() + (el.dataset.testid ? '[' + el.dataset.testid + ']' : '') + (el.className && typeof el.className === 'string' ? '.' + el.className.split(' ').join('.') : '');
  if (document.documentElement.scrollWidth > innerWidth) out.push('the page scrolls sideways');
  for (const el of document.querySelectorAll('#root *')) {
    if (el.closest('.sr-only')) continue;
    const cs = getComputedStyle(el);
    if (cs.textOverflow === 'ellipsis' || cs.display === 'none') continue;
    if (cs.overflowX !== 'visible' && el.scrollWidth > el.clientWidth + 1) out.push(name(el) + ' is ' + el.scrollWidth + 'px wide in ' + el.clientWidth + 'px');
  }
  for (const el of document.querySelectorAll('#root :is(button, input, th, td, time, .tag, h1, h2, h3, dd)')) {
    const r = el.getBoundingClientRect();
    if (r.width > 0 && r.right > innerWidth + 0.5) out.push(name(el) + ' ends at ' + Math.round(r.right) + 'px, past the window');
  }
  return out;
})()`;

/**
 * Words of prose in label/value lists that a line break cuts in two ("confi / gured"): a word
 * drawn on two lines although it would fit on one. Hyphens may break; code, times and hashes may too.
 */
const BROKEN_WORDS = `(() => {
  const out = [];
  for (const dd of document.querySelectorAll('#root .fields dd:not(.mono)')) {
    const walk = document.createTreeWalker(dd, NodeFilter.SHOW_TEXT);
    for (let node = walk.nextNode(); node; node = walk.nextNode()) {
      if (node.parentElement.closest('.mono, code, time, pre')) continue;
      const words = /[^\\s-]+/g;
      for (let m = words.exec(node.textContent); m; m = words.exec(node.textContent)) {
        const range = document.createRange();
        range.setStart(node, m.index);
        range.setEnd(node, m.index + m[0].length);
        const rects = Array.from(range.getClientRects()).filter((r) => r.width > 0);
        const lines = new Set(rects.map((r) => Math.round(r.top))).size;
        const width = rects.reduce((sum, r) => sum + r.width, 0);
        if (lines > 1 && width < dd.clientWidth) out.push(m[0]);
      }
    }
  }
  return out;
})()`;

/**
 * Times on screen: their text, whether they wrap, and their white-space; and any text that
 * reads like a clock time outside a <time> element (a time not in the one format).
 */
const TIMES = `(() => {
  const times = Array.from(document.querySelectorAll('#root time'), (t) => ({
    text: t.textContent,
    lines: t.getClientRects().length,
    nowrap: getComputedStyle(t).whiteSpace === 'nowrap',
  }));
  const stray = [];
  const walk = document.createTreeWalker(document.getElementById('root'), NodeFilter.SHOW_TEXT);
  for (let node = walk.nextNode(); node; node = walk.nextNode()) {
    if (/\\d{1,2}:\\d{2}:\\d{2}/.test(node.textContent) && !node.parentElement.closest('time, pre, code, .mono, .countdown')) stray.push(node.textContent);
  }
  return { times, stray };
})()`;
const ONE_FORMAT = /^[A-Z][a-z]{2} \d{2}, \d{4}, \d{2}:\d{2}:\d{2}$/;

describe.skipIf(skip)('the console is usable by everyone (Chromium, real core)', () => {
  let session: ConsoleSession;

  /** Brings a view into the state the issue names: Pending with its dialog open, Ledger with a receipt open. */
  async function prepare(page: Page, view: ViewName): Promise<void> {
    await showView(page, view);
    await page.locator('[data-testid="state-loading"]').waitFor({ state: 'detached' });
    if (view === 'pending') {
      await page.getByTestId('pending-item').first().click();
      await page.getByTestId('approve-button').click();
      await page.getByTestId('decision-dialog').waitFor({ state: 'visible' });
      // "Approve similar…" with its terms on screen: checked by axe like the rest of the dialog.
      await page.getByTestId('approve-similar').check();
      await page.getByTestId('vary-subject').check();
      await page.getByTestId('grant-schema').waitFor();
    }
    if (view === 'grants') await page.getByTestId('grant-row').first().waitFor();
    if (view === 'approvals') await page.getByTestId('approval-row').first().waitFor();
    if (view === 'ledger') {
      // The count follows the page: checked and pictured once it is there, not "counting…".
      await ledgerCount(page);
      await page.getByTestId('receipt-row').first().click();
      await page.getByTestId('proposal-timeline').getByTestId('timeline-step').first().waitFor();
    }
    if (view === 'status') await page.getByTestId('status-mode').waitFor();
  }

  async function leave(page: Page, view: ViewName): Promise<void> {
    if (view === 'pending') {
      await page.keyboard.press('Escape');
      await page.getByTestId('decision-dialog').waitFor({ state: 'hidden' });
    }
  }

  beforeAll(async () => {
    if (blocker) throw new Error(`CI=true and the console cannot be tested: ${blocker}`);
    session = await startConsoleSession({ OPENEXEC_MODE: 'clawshield', OPENEXEC_PROPOSAL_TTL: '600' });
    // First, so that the receipts the keyboard test walks through come after its grant's.
    const similar = await post(session.server.url, '/proposals', {
      action: 'echo',
      payload: { to: 'ops@example.com', n: 9 },
      nonce: 'a11y-grant',
    });
    expect((await session.op('approveSimilar', { id: similar.body.id, vary: ['n'], forSeconds: 3600 })).status).toBe(200);
    for (const n of [1, 2, 3]) {
      const p = await post(session.server.url, '/proposals', {
        action: 'echo',
        payload: { to: `team${n}@example.com`, n },
        nonce: `a11y-${n}`,
      });
      expect((await session.op('approve', { id: p.body.id })).status).toBe(200);
    }
    await post(session.server.url, '/proposals', {
      action: 'echo',
      payload: { to: 'board@example.com', subject: 'Quarterly figures', attachments: ['q3.pdf'] },
      nonce: 'a11y-pending',
      context: 'Send the quarterly figures to the board.',
    });
  });

  afterAll(async () => {
    await session?.close();
  });

  for (const colorScheme of ['light', 'dark'] as const) {
    for (const size of SIZES) {
      test(`axe: no serious or critical violation on any view, ${colorScheme}, ${size.width}×${size.height}; nothing clipped or cut in two; one time format`, async () => {
        const { page, problems } = await session.open({ colorScheme, viewport: size });
        const found: Record<string, unknown> = {};
        const clipped: Record<string, string[]> = {};
        const times: { text: string; lines: number; nowrap: boolean }[] = [];
        const stray: string[] = [];
        for (const view of VIEWS) {
          await prepare(page, view);
          const violations = await axeViolations(page);
          if (violations.length) found[view] = violations;
          const cut = (await page.evaluate(CLIPPED)) as string[];
          const broken = (await page.evaluate(BROKEN_WORDS)) as string[];
          if (cut.length || broken.length) clipped[view] = [...cut, ...broken.map((word) => `"${word}" is broken across lines`)];
          const seen = (await page.evaluate(TIMES)) as { times: typeof times; stray: string[] };
          times.push(...seen.times);
          stray.push(...seen.stray);
          if (size.width === 900) await screenshot(page, `${view}-900-${colorScheme}`, view === 'ledger');
          await leave(page, view);
        }
        expect(found).toEqual({});
        expect(clipped).toEqual({});
        expect(times.length).toBeGreaterThan(5);
        expect(stray).toEqual([]);
        for (const time of times) {
          expect(time.text).toMatch(ONE_FORMAT);
          expect(time, time.text).toMatchObject({ lines: 1, nowrap: true });
        }
        expect(problems).toEqual([]);
      });
    }
  }

  test('keyboard alone: the navigation, the Approvals table, the Ledger list, a proposal’s timeline, Status', async () => {
    const { page, problems } = await session.open();
    const focused = () =>
      page.evaluate(
        'document.activeElement && (document.activeElement.dataset.testid || document.activeElement.textContent.trim().slice(0, 40))',
      );
    /** Tabs forward until the focused element matches; fails after `max` presses. */
    const tabTo = async (selector: string, max = 40) => {
      for (let i = 0; i < max; i++) {
        if (await page.evaluate(`!!document.activeElement?.matches(${JSON.stringify(selector)})`)) return;
        await page.keyboard.press('Tab');
      }
      throw new Error(`Tab never reached ${selector}; focus is on ${String(await focused())}`);
    };

    // The navigation: Tab to Approvals, Enter opens it.
    await page.locator('body').focus();
    await tabTo('[data-testid="nav-approvals"]');
    await page.keyboard.press('Enter');
    await page.getByTestId('view-approvals').waitFor();
    await page.getByTestId('approval-row').first().waitFor();

    // The table is one Tab stop; the arrow keys, Home and End move between its rows.
    await tabTo('[data-testid="approval-row"]');
    const rowIndex = () =>
      page.evaluate('Array.from(document.querySelectorAll("[data-testid=approval-row]")).indexOf(document.activeElement)');
    expect(await rowIndex()).toBe(0);
    await page.keyboard.press('ArrowDown');
    expect(await rowIndex()).toBe(1);
    await page.keyboard.press('End');
    // Four approvals: three approved once, one with "Approve similar…".
    expect(await rowIndex()).toBe(3);
    await page.keyboard.press('Home');
    expect(await rowIndex()).toBe(0);
    // Leaving and coming back returns to the row last visited, not to every row in turn.
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Shift+Tab');
    await page.keyboard.press('Tab');
    expect(await rowIndex()).toBe(1);
    await page.keyboard.press('Tab');
    expect(await page.evaluate('document.activeElement?.dataset.testid ?? null')).not.toBe('approval-row');

    // The Ledger list: Tab to it, arrows select receipts, the detail follows.
    await page.locator('body').focus();
    await tabTo('[data-testid="nav-ledger"]');
    await page.keyboard.press('Enter');
    await page.getByTestId('receipt-row').first().waitFor();
    await tabTo('[data-testid="ledger-list"]');
    const newest = rawDb(session.server.app.core).prepare('SELECT max(seq) FROM receipts').pluck().get() as number;
    await page.keyboard.press('ArrowDown');
    await page
      .getByTestId('receipt-seq')
      .filter({ hasText: `#${newest}` })
      .waitFor();
    await page.keyboard.press('ArrowDown');
    await page
      .getByTestId('receipt-seq')
      .filter({ hasText: `#${newest - 1}` })
      .waitFor();
    await page.keyboard.press('ArrowUp');
    await page
      .getByTestId('receipt-seq')
      .filter({ hasText: `#${newest}` })
      .waitFor();
    await page.keyboard.press('PageDown');
    await page
      .getByTestId('receipt-seq')
      .filter({ hasText: new RegExp(`^#${Math.max(1, newest - 10)}$`) })
      .waitFor();
    await page.keyboard.press('Home');
    await page
      .getByTestId('receipt-seq')
      .filter({ hasText: `#${newest}` })
      .waitFor();

    // The newest receipt is the pending proposal's; the one below it ends an approved proposal,
    // whose timeline (proposed → approved → executed) is reached by Tab.
    await page.keyboard.press('ArrowDown');
    const executed = rawDb(session.server.app.core)
      .prepare("SELECT seq, proposal_id FROM receipts WHERE event = 'executed' ORDER BY seq DESC LIMIT 1")
      .get() as { seq: number; proposal_id: string };
    await page
      .getByTestId('receipt-seq')
      .filter({ hasText: `#${executed.seq}` })
      .waitFor();
    const steps = page.getByTestId('timeline-step');
    await steps.nth(2).waitFor();
    await tabTo('[data-testid="timeline-step"]');
    await page.keyboard.press('Enter');
    const proposed = rawDb(session.server.app.core)
      .prepare("SELECT seq FROM receipts WHERE event = 'proposed' AND proposal_id = ?")
      .pluck()
      .get(executed.proposal_id) as number;
    await page
      .getByTestId('receipt-seq')
      .filter({ hasText: `#${proposed}` })
      .waitFor();

    // Status: the whole-ledger check, started with the keyboard.
    await page.locator('body').focus();
    await tabTo('[data-testid="nav-status"]');
    await page.keyboard.press('Enter');
    await page.getByTestId('status-mode').waitFor();
    await tabTo('[data-testid="chain-check"] button');
    await page.keyboard.press('Enter');
    await page.locator('[data-testid="chain-result"][data-outcome="valid"]').waitFor();
    expect(problems).toEqual([]);
  });

  test('the mode is shown on every view; there is no demo band when approval is required', async () => {
    const { page } = await session.open({ viewport: { width: 900, height: 700 } });
    for (const view of VIEWS) {
      await showView(page, view);
      await expect(page.getByTestId('nav-mode').innerText()).resolves.toMatch(/ClawShield: approval required/);
      expect(await page.getByTestId('demo-band').count()).toBe(0);
    }
  });
});

describe.skipIf(skip)('demo mode cannot be missed', () => {
  let session: ConsoleSession;
  beforeAll(async () => {
    session = await startConsoleSession({ OPENEXEC_MODE: 'demo' });
  });
  afterAll(async () => {
    await session?.close();
  });

  for (const colorScheme of ['light', 'dark'] as const) {
    test(`a band above every view and the mode in the navigation (${colorScheme})`, async () => {
      const { page, problems } = await session.open({ colorScheme });
      for (const view of VIEWS) {
        await showView(page, view);
        const band = page.getByTestId('demo-band');
        await expect(band.innerText()).resolves.toMatch(/Demo mode: requests run without approval/);
        // Above the view, in the window, whatever the view scrolls to.
        const box = await band.boundingBox();
        expect(box && box.y >= 0 && box.y + box.height <= 800).toBe(true);
        await expect(page.getByTestId('nav-mode').innerText()).resolves.toMatch(/Demo: runs without approval/);
        expect(await axeViolations(page)).toEqual([]);
      }
      await showView(page, 'status');
      await page.getByTestId('status-mode').waitFor();
      await screenshot(page, `demo-mode-${colorScheme}`);
      expect(problems).toEqual([]);
    });
  }
});
