/**
 * Operator steps in the console UI, shared by the Chromium end-to-end test and the real
 * Electron test so both drive the window the same way (through data-testid hooks).
 */
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { REPO_ROOT } from './harness.ts';
import { resultsPath, VIEWPORT, watchPageProblems, type PageElement, type PageGlobal } from './browser.ts';
import { installConsoleBridge, type ConsoleEndpoint, type ConsoleTestBridge } from './console-test-bridge.ts';

export interface ConsolePage {
  page: Page;
  /** Uncaught errors and console errors of the page (see watchPageProblems). */
  problems: string[];
  bridge: ConsoleTestBridge;
}

/** A dark-scheme console page on the served renderer, bridged to `endpoint`, loaded with an empty queue. */
export async function openConsolePage(browser: Browser, rendererUrl: string, endpoint: ConsoleEndpoint): Promise<ConsolePage> {
  const page = await browser.newPage({ viewport: VIEWPORT, colorScheme: 'dark' });
  const problems = watchPageProblems(page);
  const bridge = await installConsoleBridge(page, endpoint);
  await page.goto(`${rendererUrl}/`);
  await page.getByTestId('view-pending').getByText('Nothing is waiting for you').waitFor();
  return { page, problems, bridge };
}

export type ViewName = 'pending' | 'approvals' | 'grants' | 'allow-list' | 'tools' | 'ledger' | 'status';

export async function showView(page: Page, view: ViewName): Promise<void> {
  await page.getByTestId(`nav-${view}`).click();
  await page.getByTestId(`view-${view}`).waitFor();
}

/** The pending queue entry of proposal `id` (it appears by event, never by reload). */
export function pendingItem(page: Page, id: string) {
  return page.locator(`[data-testid="pending-item"][data-id="${id}"]`);
}

export interface DialogContents {
  /** The request box as shown: laid out for reading. */
  request: string;
  /** The request box after E: the exact canonical bytes. */
  exact: string;
  hash: string;
  hashCheck: string;
  /** What the dialog says about how much of the request has been on screen. */
  seen: string;
}

/** Selects the proposal, opens Approve or Deny (by button or by its shortcut key), reads the dialog. */
export async function openDecision(
  page: Page,
  id: string,
  kind: 'approve' | 'deny',
  via: 'button' | 'key' = 'button',
): Promise<DialogContents> {
  await pendingItem(page, id).click();
  await page.getByTestId('proposal-detail').waitFor();
  if (via === 'button') await page.getByTestId(`${kind}-button`).click();
  // The queue item keeps focus after the click; shortcuts are ignored only in text fields.
  else await page.keyboard.press(kind === 'approve' ? 'a' : 'd');
  const dialog = page.getByTestId('decision-dialog');
  await dialog.waitFor({ state: 'visible' });
  const hashCheck = page.getByTestId('dialog-hash-check');
  await page.waitForFunction(() => {
    const text = (globalThis as unknown as PageGlobal).document.querySelector('[data-testid="dialog-hash-check"]')?.textContent;
    return !!text && !text.includes('checking');
  });
  await page.waitForFunction(() => {
    const text = (globalThis as unknown as PageGlobal).document.querySelector('[data-testid="request-seen"]')?.textContent;
    return !!text && !text.includes('Measuring');
  });
  const request = await page.getByTestId('dialog-request').innerText();
  const seen = await page.getByTestId('request-seen').innerText();
  // E and back: the exact bytes, then the readable form again (which measures the box anew).
  await page.keyboard.press('e');
  const exact = await page.getByTestId('dialog-request').innerText();
  await page.keyboard.press('e');
  await page.getByTestId('dialog-request').getByText('"action"').first().waitFor();
  return { request, exact, seen, hash: await page.getByTestId('dialog-hash').innerText(), hashCheck: await hashCheck.innerText() };
}

/**
 * Scrolls the focused request box by keyboard until the dialog says all of it was seen, as a
 * reader would: a page at a time, letting each one be drawn. Only what was on screen in a drawn
 * frame counts, so on a loaded machine two presses can land in one frame and skip a page; a
 * reader who reaches the end with a page unseen goes back to the top and reads down again.
 */
export async function readWholeRequest(page: Page): Promise<number> {
  let presses = 0;
  const box = page.getByTestId('dialog-request');
  await box.focus();
  while (!(await page.getByTestId('request-seen').innerText()).startsWith('✓')) {
    if (++presses > 200) throw new Error('the request box never reported being read');
    const atEnd = await box.evaluate((el) => el.scrollTop + el.clientHeight >= el.scrollHeight - 1);
    await page.keyboard.press(atEnd ? 'Home' : 'PageDown');
    await requestAtRest(page);
  }
  return presses;
}

/**
 * Waits until the request box, after a key press, has come to rest and what it shows has been
 * counted (use-seen-coverage.ts: only where the box settles counts): it moved and is no longer
 * settling, or it did not move within a second (already at that end). Then two frames, so the
 * dialog has drawn what it measured.
 */
export async function requestAtRest(page: Page): Promise<void> {
  await page.getByTestId('dialog-request').evaluate(
    (el) =>
      new Promise<void>((done) => {
        // The test's type-check has no DOM library; this runs in the page.
        const frame = (globalThis as unknown as { requestAnimationFrame: (cb: () => void) => void }).requestAnimationFrame;
        const start = el.scrollTop;
        const t0 = performance.now();
        const tick = () => {
          const settled = !el.hasAttribute('data-settling');
          if (settled && (el.scrollTop !== start || performance.now() - t0 > 1000)) done();
          else frame(tick);
        };
        frame(tick);
      }),
  );
  await page.evaluate('new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))');
}

/** Confirms the open dialog (typing the reason first for a denial) and waits for it to close. */
export async function confirmDecision(page: Page, reason?: string): Promise<void> {
  if (reason !== undefined) await page.getByTestId('deny-reason').fill(reason);
  await page.getByTestId('confirm-decision').click();
  await page.getByTestId('decision-dialog').waitFor({ state: 'hidden' });
}

export function receiptRow(page: Page, seq: number) {
  return page.locator(`[data-testid="receipt-row"][data-seq="${seq}"]`);
}

/** The seqs of the ledger rows currently rendered, top to bottom. */
export function renderedSeqs(page: Page): Promise<number[]> {
  return page.$$eval('[data-testid="receipt-row"]', (rows) => rows.map((row) => Number((row as unknown as PageElement).dataset['seq'])));
}

/**
 * Waits until the ledger list shows `expected` (seqs, newest first, as the API answers the
 * same query): the rendered rows must be its first rows, in order; an empty answer must show
 * the empty state. Comparing with the answer, not "loading has stopped", avoids passing on
 * the old list while a debounced search has not even started.
 */
export async function waitForLedgerRows(page: Page, expected: readonly number[], timeout = 10_000): Promise<void> {
  await page.waitForFunction(
    (want) => {
      const view = (globalThis as unknown as PageGlobal).document.querySelector('[data-testid="view-ledger"]');
      if (!view || view.querySelector('[data-testid="state-loading"]')) return false;
      if (want.length === 0) return !!view.querySelector('[data-testid="state-empty"]');
      const rows = Array.from(view.querySelectorAll('[data-testid="receipt-row"]'), (r) => Number(r.dataset['seq']));
      return rows.length > 0 && rows.length <= want.length && rows.every((seq, i) => seq === want[i]);
    },
    [...expected],
    { timeout, polling: 'raf' },
  );
}

/** Types a full-text search and waits for its rows (see waitForLedgerRows). */
export async function searchLedger(page: Page, text: string, expected: readonly number[]): Promise<void> {
  await page.getByTestId('ledger-search').fill(text);
  await waitForLedgerRows(page, expected);
}

/** Opens receipt `seq` from the list and presses Verify; returns the verdict shown. */
export async function verifyReceiptInUi(page: Page, seq: number): Promise<{ valid: boolean; text: string }> {
  if ((await page.getByTestId('receipt-seq').count()) === 0 || (await page.getByTestId('receipt-seq').innerText()) !== `#${seq}`) {
    await receiptRow(page, seq).click();
  }
  await page
    .getByTestId('receipt-seq')
    .filter({ hasText: `#${seq}` })
    .waitFor();
  await page.getByTestId('verify-button').click();
  await page.waitForFunction(() => {
    const doc = (globalThis as unknown as PageGlobal).document;
    const button = doc.querySelector('[data-testid="verify-button"]');
    return !!button && !button.disabled && !!doc.querySelector('[data-testid="verify-result"]');
  });
  const verdict = page.locator('p[data-testid="verify-result"]');
  await verdict.waitFor();
  return { valid: (await verdict.getAttribute('data-valid')) === 'true', text: await verdict.innerText() };
}

/**
 * Saves a screenshot to test-results/; with OPENEXEC_UPDATE_SCREENSHOTS=1 also to
 * docs/screenshots/ (unless `docs` is false), the copies the README shows.
 */
export async function screenshot(page: Page, name: string, docs = true): Promise<string> {
  const file = resultsPath(`console-${name}.png`);
  // Transitions finished, so a toggled switch is shown where it ends up.
  await page.screenshot({ path: file, animations: 'disabled' });
  if (docs && process.env['OPENEXEC_UPDATE_SCREENSHOTS'] === '1') {
    const docs = join(REPO_ROOT, 'docs', 'screenshots');
    mkdirSync(docs, { recursive: true });
    copyFileSync(file, join(docs, `${name}.png`));
  }
  return file;
}

/** The same screenshot in the light and the dark colour scheme: `<name>-light.png`, `<name>-dark.png`. */
export async function screenshotBothSchemes(page: Page, name: string): Promise<void> {
  for (const colorScheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme });
    await screenshot(page, `${name}-${colorScheme}`);
  }
}

/** The ledger's count line once its count has come (it follows the page: "counting…" until then). */
export async function ledgerCount(page: Page, timeout = 10_000): Promise<string> {
  const line = page.locator('[data-testid="ledger-count"][aria-busy="false"]');
  await line.waitFor({ timeout });
  return line.innerText();
}
