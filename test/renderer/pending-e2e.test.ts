/**
 * Issue 8, "the operator signs only what they saw": the Pending view and its decision dialog in
 * Debian Chromium against a real core (test/support/console-test-bridge.ts), driven by keyboard
 * as an operator would. Each test states the guarantee it checks.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import type { ConsoleEndpoint, ConsoleTestBridge } from '../support/console-test-bridge.ts';
import { consoleCall } from '../support/console-http.ts';
import { get, post, startServer, type RunningServer } from '../support/harness.ts';
import { serveStatic, type StaticServer } from '../support/static-server.ts';
import { launchChromium, mustFailWhenBlocked, RENDERER_DIR, rendererTestBlocker } from '../support/browser.ts';
import {
  openConsolePage,
  openDecision,
  pendingItem,
  readWholeRequest,
  requestAtRest,
  screenshotBothSchemes,
} from '../support/console-ui.ts';
import { rawDb } from '../support/raw-db.ts';

const blocker = rendererTestBlocker();
const skip = blocker !== null && !mustFailWhenBlocked();
if (skip) console.log(`pending e2e skipped: ${blocker}`);

const ENV = { OPENEXEC_MODE: 'clawshield', OPENEXEC_PROPOSAL_TTL: '600' };

describe.skipIf(skip)('Pending: the operator signs only what they saw (Chromium, real core)', () => {
  let s: RunningServer;
  let restarted: RunningServer | null = null;
  let endpoint: ConsoleEndpoint;
  let statics: StaticServer;
  let browser: Browser;
  let page: Page;
  let bridge: ConsoleTestBridge;
  let problems: string[];
  let nonce = 0;
  const core = () => restarted ?? s;
  const op = (method: string, input: unknown = {}) => consoleCall(core().url, core().app.consoleToken, method, input);
  const status = (id: string) => rawDb(core().app.core).prepare('SELECT status FROM proposals WHERE id = ?').pluck().get(id) as string;
  /** An agent's proposal over the loopback API, shown in the queue; returns its id and hash. */
  const propose = async (action: string, payload: unknown, extra: Record<string, unknown> = {}) => {
    const r = await post(core().url, '/proposals', { action, payload, nonce: `pending-e2e-${++nonce}`, ...extra });
    expect(r.status, r.text).toBe(202);
    await pendingItem(page, r.body.id).waitFor();
    return { id: r.body.id as string, hash: r.body.request_hash as string };
  };
  const select = async (id: string) => {
    await pendingItem(page, id).click();
    await page.locator(`[data-testid="proposal-detail"]`).waitFor();
  };
  const focusedTestId = () =>
    page.evaluate(
      () =>
        (
          globalThis as unknown as { document: { activeElement: { getAttribute(n: string): string | null } | null } }
        ).document.activeElement?.getAttribute('data-testid') ?? null,
    );
  /** One round trip through the page: whatever it was going to call synchronously has been called. */
  const roundTrip = () => page.evaluate(() => new Promise((resolve) => setTimeout(resolve, 0)));
  const dialog = () => page.getByTestId('decision-dialog');

  beforeAll(async () => {
    if (blocker) throw new Error(`CI=true and the console cannot be tested: ${blocker}`);
    s = await startServer(ENV);
    endpoint = { url: s.url, token: s.app.consoleToken };
    statics = await serveStatic(RENDERER_DIR);
    browser = await launchChromium();
    ({ page, problems, bridge } = await openConsolePage(browser, statics.url, endpoint));
  });

  afterAll(async () => {
    await bridge?.close();
    await browser?.close();
    await statics?.close();
    await restarted?.stop();
    await s?.stop();
  });

  afterEach(async () => {
    if (page && (await dialog().isVisible())) await page.keyboard.press('Escape');
    await page?.emulateMedia({ colorScheme: 'dark' });
    expect(problems, 'page errors and console errors').toEqual([]);
  });

  test('1. a long request: Sign stays disabled (and Enter does nothing) until every line was on screen; the request box has the focus and scrolls by keyboard', async () => {
    const recipients = Array.from({ length: 45 }, (_, i) => `reader${i + 1}@example.com`);
    recipients.push('attacker@evil.example');
    const p = await propose(
      'echo',
      { subject: 'Weekly digest', recipients, body: 'Here is the digest for this week.' },
      { context: 'Send the weekly digest to team@example.com.' },
    );
    await select(p.id);
    await page.keyboard.press('a');
    await dialog().waitFor({ state: 'visible' });
    await expect(page.getByTestId('request-seen').innerText()).resolves.toMatch(/^Scroll to read the rest: \d+% unseen/);
    expect(await focusedTestId()).toBe('dialog-request');
    expect(await page.getByTestId('confirm-decision').isDisabled()).toBe(true);
    await screenshotBothSchemes(page, 'long-request');

    // A then Enter, as fast as a script: nothing is signed.
    await page.keyboard.press('Enter');
    await roundTrip();
    expect(bridge.calls).not.toContain('approve');
    expect(status(p.id)).toBe('pending');
    expect(await dialog().isVisible()).toBe(true);

    // Jumping to the end does not count the middle as read, though the browser animates the
    // jump through it: only where the box comes to rest counts.
    await page.keyboard.press('End');
    await requestAtRest(page);
    expect(await page.getByTestId('dialog-request').evaluate((el) => el.scrollTop > 0)).toBe(true);
    await expect(page.getByTestId('request-seen').innerText()).resolves.toMatch(/unseen/);

    await page.keyboard.press('Home');
    const presses = await readWholeRequest(page);
    expect(presses).toBeGreaterThan(0);
    expect(await page.getByTestId('dialog-request').innerText()).toContain('attacker@evil.example');
    expect(await page.getByTestId('confirm-decision').isDisabled()).toBe(false);
    expect(await focusedTestId()).toBe('dialog-request');
    const answer = get(core().url, `/proposals/${p.id}?wait=30`);
    await page.keyboard.press('Enter');
    await dialog().waitFor({ state: 'hidden' });
    expect((await answer).body).toMatchObject({ status: 'executed' });
  });

  test('2. what will run comes first; the agent’s note comes after, bounded and framed as unverified; the queue names the proposal by its payload', async () => {
    const fake = [
      'Payload (canonical JSON)',
      '{"to": "team@example.com", "subject": "Weekly digest"}',
      '✓ recomputed here: matches',
      '[ Approve… A ]   [ Deny… D ]',
      ...Array.from({ length: 120 }, () => '.'),
    ].join('\n');
    const p = await propose('echo', { to: 'attacker@evil.example', subject: 'Weekly digest' }, { context: fake });
    const item = pendingItem(page, p.id);
    const itemText = await item.innerText();
    expect(itemText).toContain('attacker@evil.example');
    expect(itemText).not.toContain('team@example.com');
    await select(p.id);
    const payloadBox = await page.getByTestId('proposal-payload').boundingBox();
    const note = page.getByTestId('agent-note');
    const noteBox = await note.boundingBox();
    expect(payloadBox!.y).toBeLessThan(noteBox!.y);
    await expect(note.locator('.agent-note-label').innerText()).resolves.toMatch(/Agent’s note — unverified/i);
    const text = page.getByTestId('proposal-context');
    const size = await text.evaluate((el) => ({ client: el.clientHeight, scroll: el.scrollHeight }));
    expect(size.client).toBeLessThanOrEqual(170);
    expect(size.scroll).toBeGreaterThan(size.client);
    // Nothing in the payload rendering uses the note's frame.
    expect(await page.getByTestId('proposal-payload').locator('.agent-note, .agent-note-label').count()).toBe(0);
    await text.evaluate((el) => el.scrollIntoView({ block: 'center' }));
    await screenshotBothSchemes(page, 'spoofing-context');
    await op('deny', { id: p.id, reason: 'test done' });
  });

  test('2b. a declared action’s effect preview comes right after the action, above the payload, in the detail and in the dialog', async () => {
    // Previews are rendered by the main process for declared actions, which the built-in
    // actions are not: the real proposal's DTO is delivered again with a preview added, as the
    // main process sends it for a declared `run` action.
    const p = await propose('echo', { cmd: 'backup', target: '/srv/data' });
    const dto = ((await op('listPending')).body as { id: string }[]).find((x) => x.id === p.id);
    const preview = { kind: 'run', lines: ['/usr/bin/backup --target /srv/data'], risk: 'high', definitionHash: 'ab'.repeat(32) };
    await page.evaluate(([event]) => (globalThis as unknown as Record<string, (e: unknown) => void>)['__openexecDispatch']!(event), [
      { type: 'proposal', proposal: { ...dto, preview } },
    ] as const);
    await select(p.id);
    const effect = page.getByTestId('proposal-detail').getByTestId('effect-preview');
    await expect(effect.innerText()).resolves.toMatch(/Runs this command[\s\S]*high risk[\s\S]*\/usr\/bin\/backup --target \/srv\/data/);
    const y = async (testId: string) => (await page.getByTestId('proposal-detail').getByTestId(testId).boundingBox())!.y;
    expect(await y('proposal-action')).toBeLessThan(await y('effect-preview'));
    expect(await y('effect-preview')).toBeLessThan(await y('proposal-payload'));
    await page.keyboard.press('a');
    await dialog().waitFor({ state: 'visible' });
    const inDialog = dialog().getByTestId('effect-preview');
    await expect(inDialog.innerText()).resolves.toContain('/usr/bin/backup --target /srv/data');
    expect((await inDialog.boundingBox())!.y).toBeLessThan((await dialog().getByTestId('dialog-request').boundingBox())!.y);
    await page.keyboard.press('Escape');
    await op('deny', { id: p.id, reason: 'test done' });
  });

  test('3. bidi controls, zero-width characters and mixed-script words are marked and flagged; non-ASCII reads as text, E shows the escapes', async () => {
    const p = await propose(
      'echo',
      { file: 'invoice\u202Efdp.exe', to: 'billing@p\u0430ypal.com', city: 'Z\u00fcrich', ref: 'A\u200B42' },
      { context: 'Invoice from p\u0430ypal, please pay \u202Etoday' },
    );
    await expect(pendingItem(page, p.id).getByTestId('queue-spoof').count()).resolves.toBe(1);
    await select(p.id);
    const warning = page.getByTestId('proposal-detail').getByTestId('spoof-warning');
    const said = await warning.innerText();
    expect(said).toMatch(/In the payload: 1 text-direction control, 1 invisible character, mixed-script word “p\u0430ypal”/);
    expect(said).toMatch(/In the agent’s note: 1 text-direction control, mixed-script word “p\u0430ypal”/);
    const payload = page.getByTestId('proposal-payload');
    const shown = await payload.innerText();
    expect(shown).toContain('"invoiceRLOfdp.exe"');
    expect(shown).toContain('"Zürich"');
    expect(shown).not.toContain('\u202E');
    expect(shown).not.toContain('\u200B');
    expect(await payload.getByTestId('mixed-script').count()).toBe(1);
    expect(await page.getByTestId('proposal-context').innerText()).not.toContain('\u202E');
    // The warning comes before the payload.
    expect((await warning.boundingBox())!.y).toBeLessThan((await payload.boundingBox())!.y);

    await page.keyboard.press('e');
    await expect(payload.innerText()).resolves.toContain('"Z\\u00fcrich"');
    await page.keyboard.press('e');
    await expect(payload.innerText()).resolves.toContain('"Zürich"');
    await page.getByTestId('proposal-detail').evaluate((el) => el.scrollIntoView({ block: 'start' }));
    await screenshotBothSchemes(page, 'bidi');

    // The dialog warns the same way, and the hash is still over the canonical bytes.
    const contents = await openDecision(page, p.id, 'approve', 'key');
    expect(contents.hashCheck).toMatch(/matches/);
    expect(contents.hash).toBe(p.hash);
    expect(contents.exact).toContain('\\u202efdp.exe');
    expect(contents.request).toContain('RLO');
    expect(await dialog().getByTestId('spoof-warning').isVisible()).toBe(true);
    await page.keyboard.press('Escape');
    await op('deny', { id: p.id, reason: 'test done' });
  });

  test('4. denying: a number key picks a preset reason, Enter denies, and the reason goes back to the agent', async () => {
    const p = await propose('echo', { delete: '/srv/backups' });
    await select(p.id);
    await page.keyboard.press('d');
    await dialog().waitFor({ state: 'visible' });
    expect(await focusedTestId()).toBe('dialog-request');
    await page.keyboard.press('2');
    await expect(page.getByTestId('deny-reason').inputValue()).resolves.toBe('Payload looks wrong');
    const answer = get(core().url, `/proposals/${p.id}?wait=30`);
    await page.keyboard.press('Enter');
    await dialog().waitFor({ state: 'hidden' });
    expect((await answer).body).toMatchObject({ status: 'denied', reason: 'Payload looks wrong' });
    // Decided here, it stays on screen with its outcome.
    await expect(page.getByTestId('proposal-outcome').innerText()).resolves.toMatch(/Denied[\s\S]*Payload looks wrong/);
  });

  test('5. the selection never moves by itself: decided elsewhere or expired, the proposal stays on screen with its outcome, and A/D do nothing', async () => {
    const first = await propose('echo', { n: 1 });
    const second = await propose('echo', { n: 2 });
    await select(first.id);
    await op('deny', { id: first.id, reason: 'Decided in the CLI' });
    const outcome = page.getByTestId('proposal-outcome');
    await expect(outcome.innerText()).resolves.toMatch(/Denied[\s\S]*Decided in the CLI/);
    await expect(page.getByTestId('proposal-hash').innerText()).resolves.toBe(first.hash);
    await page.keyboard.press('a');
    await page.keyboard.press('d');
    await roundTrip();
    expect(await dialog().isVisible()).toBe(false);
    await page.keyboard.press('j');
    await expect(page.getByTestId('proposal-hash').innerText()).resolves.toBe(second.hash);

    const brief = await propose('echo', { n: 3 }, { ttl_seconds: 2 });
    await select(brief.id);
    await outcome.filter({ hasText: 'Expired' }).waitFor({ timeout: 10_000 });
    await expect(page.getByTestId('proposal-hash').innerText()).resolves.toBe(brief.hash);
    await op('deny', { id: second.id, reason: 'test done' });
  });

  test('7. the countdown warns in the last minute, and X in the dialog extends the expiry, witnessed by a receipt', async () => {
    const p = await propose('echo', { n: 7 }, { ttl_seconds: 50 });
    await select(p.id);
    await page.getByTestId('proposal-detail').getByTestId('expiry-warning').waitFor();
    const before = (await op('getProposal', { id: p.id })).body.expiresAt as string;
    await page.keyboard.press('a');
    await dialog().waitFor({ state: 'visible' });
    await page.keyboard.press('x');
    await dialog().getByTestId('expiry-line').waitFor();
    const after = (await get(core().url, `/proposals/${p.id}`)).body.expires_at as string;
    expect(Date.parse(after) - Date.parse(before)).toBe(300_000);
    const receipt = rawDb(core().app.core)
      .prepare("SELECT body FROM receipts WHERE proposal_id = ? AND event = 'extended'")
      .pluck()
      .get(p.id) as string;
    expect(JSON.parse(receipt)).toMatchObject({ details: { expires_at_before: before, expires_at: after } });
    await page.keyboard.press('Escape');
    await expect(page.getByTestId('proposal-detail').getByTestId('expiry-warning').count()).resolves.toBe(0);
    await op('deny', { id: p.id, reason: 'test done' });
  });

  test('13. what changed since the last approved request of the same action is marked; a first-of-its-kind request says so', async () => {
    const first = await propose('add', { a: 2, b: 3 });
    await select(first.id);
    await expect(page.getByTestId('change-summary').innerText()).resolves.toMatch(/First of its kind/);
    expect((await op('approve', { id: first.id })).status).toBe(200);

    const changed = await propose('add', { a: 2, b: 300 });
    await select(changed.id);
    // "changed: b", the field name set apart as code so a name never reads as part of the sentence.
    await expect(page.getByTestId('changed-fields').innerText()).resolves.toBe('changed: b');
    await expect(page.getByTestId('changed-fields').locator('code').allInnerTexts()).resolves.toEqual(['b']);
    const marked = page.getByTestId('proposal-payload').locator('[data-change="changed"]');
    expect(await marked.count()).toBe(1);
    await expect(marked.innerText()).resolves.toContain('"b": 300');
    // The dialog marks the same line, and says what the mark means.
    await page.getByTestId('approve-button').click();
    await page.getByTestId('decision-dialog').waitFor({ state: 'visible' });
    await expect(page.getByTestId('dialog-request').locator('[data-change="changed"]').innerText()).resolves.toContain('"b": 300');
    await expect(page.getByTestId('dialog-marks-legend').innerText()).resolves.toBe(
      'Lines marked at the left are new or changed since the last add that ran.',
    );
    await page.keyboard.press('Escape');
    await page.getByTestId('decision-dialog').waitFor({ state: 'hidden' });
    const same = await propose('add', { a: 2, b: 3 });
    await select(same.id);
    await expect(page.getByTestId('change-summary').innerText()).resolves.toMatch(/Same payload/);
    for (const id of [changed.id, same.id]) await op('deny', { id, reason: 'test done' });
  });

  test('14. a new proposal while the window is not focused asks for one OS notification; none while it is', async () => {
    await page.evaluate(() => (globalThis as unknown as { dispatchEvent(e: Event): void }).dispatchEvent(new Event('blur')));
    const away = await propose('echo', { n: 14 });
    await expect.poll(() => bridge.notified.includes(away.id), { timeout: 10_000 }).toBe(true);
    await page.evaluate(() => (globalThis as unknown as { dispatchEvent(e: Event): void }).dispatchEvent(new Event('focus')));
    const here = await propose('echo', { n: 15 });
    await bridge.settled();
    await roundTrip();
    expect(bridge.notified).toEqual([away.id]);
    for (const id of [away.id, here.id]) await op('deny', { id, reason: 'test done' });
  });

  test('6. with the core gone: a persistent banner, actions disabled, countdowns stopped, plain words; back: reconnected and resynchronised', async () => {
    const p = await propose('echo', { n: 6 });
    await select(p.id);
    const port = new URL(s.url).port;
    await s.app.close();
    await page.getByTestId('disconnected-banner').waitFor();
    expect(await page.getByTestId('approve-button').isDisabled()).toBe(true);
    expect(await page.getByTestId('deny-button').isDisabled()).toBe(true);
    await expect(pendingItem(page, p.id).getByTestId('countdown').innerText()).resolves.toBe('–:––');
    await page.keyboard.press('a');
    await roundTrip();
    expect(await dialog().isVisible()).toBe(false);
    await page.getByTestId('view-pending').getByRole('button', { name: 'Refresh' }).click();
    const refused = page.getByTestId('pending-refresh-error');
    await refused.waitFor();
    const words = await refused.innerText();
    expect(words).toMatch(/OpenExec is not reachable/);
    expect(words).not.toMatch(/fetch failed|listPending/);
    await screenshotBothSchemes(page, 'disconnected');

    const listsBefore = bridge.calls.filter((c) => c === 'listPending').length;
    restarted = await startServer({ ...ENV, OPENEXEC_DATA_DIR: s.dataDir, OPENEXEC_PORT: port });
    endpoint.token = restarted.app.consoleToken;
    await page.getByTestId('disconnected-banner').waitFor({ state: 'detached', timeout: 10_000 });
    expect(bridge.connection).toEqual(['disconnected', 'connected']);
    await expect.poll(() => bridge.calls.filter((c) => c === 'listPending').length, { timeout: 10_000 }).toBeGreaterThan(listsBefore);
    await page.getByTestId('pending-refresh-error').waitFor({ state: 'detached' });
    await expect(pendingItem(page, p.id).getByTestId('countdown').innerText()).resolves.toMatch(/^\d+:\d\d$/);
    expect(await page.getByTestId('approve-button').isDisabled()).toBe(false);
    const after = await propose('echo', { n: 61 });
    expect(after.id).toBeTruthy();
  });
});
