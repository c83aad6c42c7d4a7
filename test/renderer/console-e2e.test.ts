/**
 * The built renderer in Debian Chromium against a real running core: the page's
 * `window.openexec` goes through test/support/console-test-bridge.ts to the /console routes,
 * agents speak to the loopback API, and the ledger is a real SQLite file.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { BRIDGE_EXTRAS, CONSOLE_METHOD_NAMES } from '../../src/shared/console-api.ts';
import type { ConsoleTestBridge } from '../support/console-test-bridge.ts';
import { consoleCall } from '../support/console-http.ts';
import { get, post, startServer, type RunningServer } from '../support/harness.ts';
import { serveStatic, type StaticServer } from '../support/static-server.ts';
import { launchChromium, mustFailWhenBlocked, RENDERER_DIR, rendererTestBlocker } from '../support/browser.ts';
import {
  confirmDecision,
  ledgerCount,
  openConsolePage,
  openDecision,
  pendingItem,
  receiptRow,
  renderedSeqs,
  screenshot,
  searchLedger,
  showView,
  verifyReceiptInUi,
  waitForLedgerRows,
} from '../support/console-ui.ts';
import { rawDb } from '../support/raw-db.ts';

const blocker = rendererTestBlocker();
const skip = blocker !== null && !mustFailWhenBlocked();
if (skip) console.log(`console e2e skipped: ${blocker}`);

describe.skipIf(skip)('the console renderer in Chromium, against a real core', () => {
  let s: RunningServer;
  let statics: StaticServer;
  let browser: Browser;
  let page: Page;
  let bridge: ConsoleTestBridge;
  let problems: string[];
  const op = (method: string, input: unknown = {}) => consoleCall(s.url, s.app.consoleToken, method, input);
  const receiptsOf = (proposalId: string) =>
    rawDb(s.app.core).prepare('SELECT seq, event FROM receipts WHERE proposal_id = ? ORDER BY seq').all(proposalId) as {
      seq: number;
      event: string;
    }[];
  const expectedSeqs = async (query: Record<string, unknown>) =>
    ((await op('searchReceipts', { ...query, limit: 200 })).body.items as { seq: number }[]).map((r) => r.seq);
  let approvedId = '';
  let executedSeq = 0;

  beforeAll(async () => {
    if (blocker) throw new Error(`CI=true and the console cannot be tested: ${blocker}`);
    // ClawShield mode with no external key: only this console's approvals can run anything.
    s = await startServer({ OPENEXEC_MODE: 'clawshield', OPENEXEC_PROPOSAL_TTL: '600' });
    statics = await serveStatic(RENDERER_DIR);
    browser = await launchChromium();
    ({ page, problems, bridge } = await openConsolePage(browser, statics.url, { url: s.url, token: s.app.consoleToken }));
  });

  afterAll(async () => {
    await bridge?.close();
    await browser?.close();
    await statics?.close();
    await s?.stop();
  });

  afterEach(() => {
    expect(problems, 'page errors and console errors').toEqual([]);
  });

  test('the page sees exactly the contract on window.openexec, and no Node', async () => {
    const keys = await page.evaluate(() => Object.keys((globalThis as unknown as { openexec: object }).openexec).sort());
    expect(keys).toEqual([...CONSOLE_METHOD_NAMES, ...BRIDGE_EXTRAS].sort());
    expect(
      await page.evaluate(() => [
        typeof (globalThis as Record<string, unknown>)['require'],
        typeof (globalThis as Record<string, unknown>)['process'],
      ]),
    ).toEqual(['undefined', 'undefined']);
    // Refusals come back as error values with the contract's codes, as over IPC.
    const refusals = await page.evaluate(async () => {
      const api = (globalThis as unknown as { openexec: Record<string, (arg?: unknown) => Promise<unknown>> }).openexec;
      return [await api['approve']!({ id: 'no-such-proposal' }), await api['getReceipt']!({ seq: 0 })];
    });
    expect(refusals).toMatchObject([
      { ok: false, error: { code: 'not_found', message: expect.any(String) } },
      { ok: false, error: { code: 'invalid_input', message: expect.stringMatching(/seq/) } },
    ]);
  });

  test('an agent’s proposal appears in Pending at once, pushed by an event (no reload, no polling)', async () => {
    const listsBefore = bridge.calls.filter((c) => c === 'listPending').length;
    const proposed = await post(s.url, '/proposals', {
      action: 'echo',
      payload: { to: 'cfo@example.com', subject: 'Q3 report', amount: 125000 },
      nonce: 'e2e-approve',
      context: 'Send the Q3 report to the CFO before the board meeting on Friday.',
    });
    expect(proposed.status, proposed.text).toBe(202);
    approvedId = proposed.body.id;
    await pendingItem(page, approvedId).waitFor({ timeout: 5000 });
    expect(bridge.calls.filter((c) => c === 'listPending').length).toBe(listsBefore);
    expect(bridge.pushed.some((e) => e.type === 'proposal' && e.proposal.id === approvedId)).toBe(true);
    await expect(page.getByTestId('arrival-banner').innerText()).resolves.toMatch(/New proposal: echo/);
    await expect(page.getByTestId('pending-badge').innerText()).resolves.toBe('1');
    await pendingItem(page, approvedId).click();
    await expect(page.getByTestId('proposal-action').innerText()).resolves.toBe('echo');
    await expect(page.getByTestId('proposal-context').innerText()).resolves.toBe(
      'Send the Q3 report to the CFO before the board meeting on Friday.',
    );
    await expect(page.getByTestId('proposal-hash').innerText()).resolves.toBe(proposed.body.request_hash);
    await expect(page.getByTestId('proposal-payload').innerText()).resolves.toContain('"cfo@example.com"');
  });

  test('approve: the dialog shows the canonical request and its hash; the agent gets the result', async () => {
    const dialog = await openDecision(page, approvedId, 'approve');
    expect(dialog.request).toBe(
      [
        '{',
        '  "action": "echo",',
        '  "payload": {',
        '    "amount": 125000,',
        '    "subject": "Q3 report",',
        '    "to": "cfo@example.com"',
        '  }',
        '}',
      ].join('\n'),
    );
    expect(dialog.exact).toBe('{"action":"echo","payload":{"amount":125000,"subject":"Q3 report","to":"cfo@example.com"}}');
    expect(dialog.seen).toMatch(/whole request has been on screen/);
    const [pending] = (await op('listPending')).body;
    expect(dialog.hash).toBe(pending.requestHash);
    expect(dialog.hashCheck).toMatch(/matches/);
    await screenshot(page, 'pending');

    const waiting = get(s.url, `/proposals/${approvedId}?wait=30`);
    await confirmDecision(page);
    const answer = await waiting;
    expect(answer.body).toMatchObject({ status: 'executed', result: { echo: { to: 'cfo@example.com' } } });
    await page.getByTestId('outcome-item').filter({ hasText: 'Executed' }).waitFor();
    expect(await pendingItem(page, approvedId).count()).toBe(0);
    const receipts = receiptsOf(approvedId);
    expect(receipts.map((r) => r.event)).toEqual(['proposed', 'approved', 'executed']);
    executedSeq = receipts[2]!.seq;
  });

  test('approvals: the operator’s artifact, used by the execution', async () => {
    await showView(page, 'approvals');
    const row = page.getByTestId('approval-row').first();
    await row.waitFor();
    const text = await row.innerText();
    expect(text).toMatch(/Operator/);
    expect(text).toMatch(/Used/);
    expect(text).toContain(s.app.core.operatorSigner.keyId.slice(0, 8));
    await screenshot(page, 'approvals');
  });

  test('ledger: the executed receipt is on top; search and a filter find it; Verify says valid', async () => {
    await showView(page, 'ledger');
    await waitForLedgerRows(page, await expectedSeqs({}));
    expect((await renderedSeqs(page))[0]).toBe(executedSeq);
    await expect(receiptRow(page, executedSeq).innerText()).resolves.toMatch(/executed/);

    const found = await expectedSeqs({ text: 'cfo' });
    expect(found).toContain(executedSeq);
    expect(found.every((seq) => receiptsOf(approvedId).some((r) => r.seq === seq))).toBe(true);
    await searchLedger(page, 'cfo', found);
    await page.getByTestId('ledger-event-executed').check();
    await waitForLedgerRows(page, [executedSeq]);
    await expect(ledgerCount(page)).resolves.toBe('1 receipt, newest first');

    const verdict = await verifyReceiptInUi(page, executedSeq);
    expect(verdict).toEqual({ valid: true, text: `Valid: receipt #${executedSeq} is intact, linked and signed.` });
    for (const check of ['hash', 'link', 'signature']) {
      await expect(page.getByTestId(`check-${check}`).getAttribute('class')).resolves.toContain('check-ok');
    }
    await screenshot(page, 'ledger');
  });

  test('deny with a reason (by keyboard): nothing runs, the reason is in the ledger', async () => {
    await showView(page, 'pending');
    const p = await post(s.url, '/proposals', {
      action: 'echo',
      payload: { delete: '/srv/backups', recursive: true },
      nonce: 'e2e-deny',
      context: 'Free some disk space on the backup host.',
    });
    await pendingItem(page, p.body.id).waitFor();
    const waiting = get(s.url, `/proposals/${p.body.id}?wait=30`);
    const dialog = await openDecision(page, p.body.id, 'deny', 'key');
    expect(dialog.exact).toBe('{"action":"echo","payload":{"delete":"/srv/backups","recursive":true}}');
    await confirmDecision(page, 'Backups are never deleted by agents');
    expect((await waiting).body).toMatchObject({ status: 'denied', reason: 'Backups are never deleted by agents', result: null });
    const outcome = page.getByTestId('outcome-item').filter({ hasText: 'Denied' });
    await expect(outcome.innerText()).resolves.toContain('Backups are never deleted by agents');
    expect(rawDb(s.app.core).prepare("SELECT count(*) FROM executions WHERE nonce = 'e2e-deny'").pluck().get()).toBe(0);

    await showView(page, 'ledger');
    // Full width: with a receipt open beside it, the list hides its reason column.
    await page.getByRole('button', { name: 'Close receipt' }).click();
    await page.getByTestId('ledger-event-executed').uncheck();
    const deniedSeq = receiptsOf(p.body.id).find((r) => r.event === 'denied')!.seq;
    const found = await expectedSeqs({ text: 'never deleted' });
    expect(found).toEqual([deniedSeq]);
    await searchLedger(page, 'never deleted', found);
    await expect(receiptRow(page, deniedSeq).innerText()).resolves.toMatch(/denied[\s\S]*Backups are never deleted by agents/);
  });

  test('expiry: an undecided proposal leaves the queue by itself, denied by default', async () => {
    await showView(page, 'pending');
    const p = await post(s.url, '/proposals', { action: 'echo', payload: { ping: 1 }, nonce: 'e2e-expire', ttl_seconds: 1 });
    expect(p.status, p.text).toBe(202);
    await pendingItem(page, p.body.id).waitFor();
    await pendingItem(page, p.body.id).waitFor({ state: 'detached', timeout: 10_000 });
    const outcome = page.getByTestId('outcome-item').filter({ hasText: 'Expired' });
    await expect(outcome.innerText()).resolves.toMatch(/denied by default/);
    expect(receiptsOf(p.body.id).map((r) => r.event)).toEqual(['proposed', 'expired']);
  });

  test('allow-list: turning an action off writes a config receipt', async () => {
    await showView(page, 'allow-list');
    await page.getByTestId('allow-list-open').waitFor();
    const configs = () => rawDb(s.app.core).prepare("SELECT count(*) FROM receipts WHERE event = 'config'").pluck().get();
    expect(configs()).toBe(0);
    // A click, not uncheck(): the switch is controlled and shows the list the core returns,
    // so it flips only when setAllowed has answered, and uncheck() checks at once.
    await page.locator('#allow-add').click();
    const add = page.locator('[data-testid="allow-entry"][data-action="add"]');
    await add.getByText('Not allowed').waitFor();
    expect(await page.locator('#allow-add').isChecked()).toBe(false);
    expect(await page.locator('#allow-echo').isChecked()).toBe(true);
    expect(configs()).toBe(1);
    await page.getByTestId('allow-list-open').waitFor({ state: 'detached' });
    expect((await get(s.url, '/health')).body.allow_list).toEqual(['echo']);
    expect((await post(s.url, '/proposals', { action: 'add', payload: {}, nonce: 'e2e-off' })).status).toBe(403);
    await screenshot(page, 'allow-list');
  });

  test('status: mode, key ids and counts in plain words', async () => {
    await showView(page, 'status');
    await expect(page.getByTestId('status-mode').innerText()).resolves.toBe('ClawShield (approval required)');
    await expect(page.getByTestId('status-address').innerText()).resolves.toBe(s.url);
    const text = await page.getByTestId('view-status').innerText();
    expect(text).toContain(s.app.core.ledger.keyId);
    expect(text).toContain(s.app.core.operatorSigner.keyId);
    const receipts = rawDb(s.app.core).prepare('SELECT max(seq) FROM receipts').pluck().get() as number;
    await expect(page.getByTestId('status-receipts').innerText()).resolves.toMatch(new RegExp(`^${receipts} receipts`));
    await screenshot(page, 'status');
  });

  test('status: the Hardening panel lists every check with what to do', async () => {
    await showView(page, 'status');
    const allowed = page.getByTestId('hardening-allowed_actions');
    await allowed.waitFor();
    await expect(page.getByTestId('hardening-bind').getAttribute('data-status')).resolves.toBe('pass');
    await expect(page.getByTestId('hardening-receipt_key_backup').innerText()).resolves.toMatch(/What to do: Run openexec backup/);
    await expect(page.getByTestId('hardening-logs_and_monitoring').count()).resolves.toBe(1);
  });

  test('a receipt tampered in the database is shown as invalid', async () => {
    await showView(page, 'ledger');
    await page.getByTestId('ledger-search').fill('');
    await page.getByTestId('ledger-event-executed').check();
    await waitForLedgerRows(page, [executedSeq]);
    expect((await verifyReceiptInUi(page, executedSeq)).valid).toBe(true);

    rawDb(s.app.core).exec('DROP TRIGGER receipts_append_only_update');
    const body = rawDb(s.app.core).prepare('SELECT body FROM receipts WHERE seq = ?').pluck().get(executedSeq) as string;
    const forged = body.replace('"v":2', '"v":3');
    expect(forged).not.toBe(body);
    rawDb(s.app.core).prepare('UPDATE receipts SET body = ? WHERE seq = ?').run(forged, executedSeq);

    const verdict = await verifyReceiptInUi(page, executedSeq);
    expect(verdict).toEqual({ valid: false, text: `Invalid: receipt #${executedSeq} does not hold.` });
    await expect(page.getByTestId('check-hash').getAttribute('class')).resolves.toContain('check-bad');
    await screenshot(page, 'ledger-tampered', false);

    await showView(page, 'status');
    await page.getByRole('button', { name: 'Verify the whole ledger' }).click();
    await expect(page.getByTestId('chain-result').innerText()).resolves.toMatch(new RegExp(`Broken at receipt #${executedSeq}`));
  });
});
