/**
 * What the Ledger view shows of a purged receipt, in Chromium against a real core: the words
 * "purged on DATE by retention" where the payload and result were, the kept bodies of a newer
 * receipt whole, and the window's own Verify still finding both valid.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Page } from 'playwright-core';
import { post } from '../support/harness.ts';
import { executeWire } from '../support/clawshield.ts';
import { mustFailWhenBlocked, rendererTestBlocker } from '../support/browser.ts';
import { startConsoleSession, type ConsolePage, type ConsoleSession } from '../support/console-session.ts';
import { receiptRow, showView, verifyReceiptInUi } from '../support/console-ui.ts';
import { rawDb } from '../support/raw-db.ts';

const blocker = rendererTestBlocker();
const skip = blocker !== null && !mustFailWhenBlocked();
if (skip) console.log(`retention e2e skipped: ${blocker}`);

describe.skipIf(skip)('a purged receipt in the Ledger view (Chromium, real core)', () => {
  let session: ConsoleSession;
  let cp: ConsolePage;
  let page: Page;
  let purgedSeq = 0;
  let keptSeq = 0;
  let date = '';

  beforeAll(async () => {
    if (blocker) throw new Error(`CI=true and the console cannot be tested: ${blocker}`);
    session = await startConsoleSession({ OPENEXEC_ALLOWED_ACTIONS: 'echo' });
    const { core } = session.server.app;
    const seqOf = (id: string) =>
      rawDb(core).prepare("SELECT seq FROM receipts WHERE exec_id = ? AND event = 'executed'").pluck().get(id) as number;
    const old = await post(session.server.url, '/execute', executeWire('echo', '{"note":"OtterMauve57"}', 'e2e-old'));
    purgedSeq = seqOf(old.body.id);
    const purge = await core.purgeOlderThan(core.clock.now() + 1, 'retention');
    date = purge.purgedAt!.slice(0, 10);
    const kept = await post(session.server.url, '/execute', executeWire('echo', '{"note":"FinchAmber22"}', 'e2e-new'));
    keptSeq = seqOf(kept.body.id);
    cp = await session.open();
    page = cp.page;
    await showView(page, 'ledger');
    await receiptRow(page, keptSeq).waitFor();
  }, 120_000);
  afterAll(async () => {
    await session?.close();
  });

  test('the purged payload and result read "purged on DATE by retention", and Verify still says valid', async () => {
    await receiptRow(page, purgedSeq).click();
    const payload = page.getByTestId('receipt-body-payload');
    await expect(payload.innerText()).resolves.toMatch(new RegExp(`^purged on ${date} by retention \\(receipt #\\d+\\)$`));
    await expect(page.getByTestId('receipt-body-result').innerText()).resolves.toContain(`purged on ${date} by retention`);
    await expect(page.getByTestId('receipt-detail').innerText()).resolves.not.toContain('OtterMauve57');
    const verdict = await verifyReceiptInUi(page, purgedSeq);
    expect(verdict.valid).toBe(true);
    expect(cp.problems).toEqual([]);
  });

  test('a kept receipt shows its payload and result whole, and verifies them against its salted hashes', async () => {
    await receiptRow(page, keptSeq).click();
    await expect(page.getByTestId('receipt-body-payload').innerText()).resolves.toContain('FinchAmber22');
    const verdict = await verifyReceiptInUi(page, keptSeq);
    expect(verdict.valid).toBe(true);
    await expect(page.getByTestId('view-ledger').innerText()).resolves.toMatch(/2 kept bodies hash to the signed salted hash/);
  });

  test('a kept body edited in the database is shown as invalid, by the bodies check', async () => {
    const db = rawDb(session.server.app.core);
    db.prepare(`UPDATE receipt_bodies SET body = '{"note":"FinchAmber23"}' WHERE seq = ? AND field = 'payload'`).run(keptSeq);
    // Closed and opened again, so the window reads the receipt anew.
    await page.getByRole('button', { name: 'Close receipt' }).click();
    const verdict = await verifyReceiptInUi(page, keptSeq);
    expect(verdict.valid).toBe(false);
    await expect(page.getByTestId('check-bodies').getAttribute('class')).resolves.toContain('check-bad');
    await expect(page.getByTestId('check-bodies').innerText()).resolves.toContain('the payload body does not hash to its salted hash');
    await expect(page.getByTestId('check-hash').getAttribute('class')).resolves.not.toContain('check-bad');
  });
});
