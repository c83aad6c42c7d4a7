/**
 * In Chromium against a real core: the ledger filtered and grouped by verified agent; changed
 * MCP tool definitions read side by side and accepted (only the one read); a quorum action's
 * approvals shown with who signed, and the choice of which operator signs; "Approve similar…"
 * naming the proposal's agent in the terms before they are signed.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { post, tempDir } from '../support/harness.ts';
import { mustFailWhenBlocked, rendererTestBlocker } from '../support/browser.ts';
import { axeViolations, startConsoleSession, type ConsoleSession } from '../support/console-session.ts';
import { openDecision, pendingItem, readWholeRequest, showView, waitForLedgerRows } from '../support/console-ui.ts';
import { payload, WIRE } from '../support/declared.ts';
import { addOperator } from '../../src/main/core/crypto/operator-keys.ts';
import { toolDefinitionHash } from '../../src/main/core/actions/tool-pins.ts';

const blocker = rendererTestBlocker();
const skip = blocker !== null && !mustFailWhenBlocked();
if (skip) console.log(`agents and operators console tests skipped: ${blocker}`);

describe.skipIf(skip)('agents, MCP tool pins and operators in the console (Chromium, real core)', () => {
  let session: ConsoleSession;
  const tokens: Record<string, string> = {};
  const bearer = (agent: string) => ({ authorization: `Bearer ${tokens[agent]}` });

  beforeAll(async () => {
    if (blocker) throw new Error(`CI=true and the console cannot be tested: ${blocker}`);
    const manifest = join(tempDir(), 'actions.yaml');
    writeFileSync(manifest, JSON.stringify({ actions: { wire: WIRE } }));
    session = await startConsoleSession({ OPENEXEC_MODE: 'clawshield', OPENEXEC_PROPOSAL_TTL: '600', OPENEXEC_ACTIONS: manifest });
    for (const name of ['alpha', 'beta']) tokens[name] = (await session.op('addAgent', { name })).body.token;
  });
  afterAll(async () => {
    await session?.close();
  });

  test('the ledger filters by agent, shows the agent on each row, and groups the search by agent', async () => {
    for (const [agent, n] of [
      ['alpha', 1],
      ['alpha', 2],
      ['beta', 3],
    ] as const) {
      const r = await post(session.server.url, '/proposals', { action: 'echo', payload: { n }, nonce: `led-${n}` }, bearer(agent));
      expect(r.status).toBe(202);
    }
    await post(session.server.url, '/proposals', { action: 'echo', payload: { n: 4 }, nonce: 'led-4' });
    const { page, problems } = await session.open();
    await showView(page, 'ledger');
    const seqs = async (query: Record<string, unknown>) =>
      ((await session.op('searchReceipts', { ...query, limit: 200 })).body.items as { seq: number }[]).map((r) => r.seq);
    await waitForLedgerRows(page, await seqs({}));

    await page.getByTestId('ledger-filter-agent').fill('alpha');
    const alpha = await seqs({ agent: 'alpha' });
    expect(alpha).toHaveLength(2);
    await waitForLedgerRows(page, alpha);
    await expect(page.getByTestId('receipt-agent').allInnerTexts()).resolves.toEqual(['· agent alpha', '· agent alpha']);
    // The receipt's detail names its agent too, whole.
    await page.getByTestId('receipt-row').first().click();
    await expect(page.getByTestId('receipt-detail-agent').innerText()).resolves.toBe('alpha');

    await page.getByTestId('ledger-filter-agent').fill('');
    await waitForLedgerRows(page, await seqs({}));
    await page.getByTestId('ledger-by-agent').click();
    const groups = page.getByTestId('agent-group');
    await groups.first().waitFor();
    await expect(groups.allInnerTexts()).resolves.toEqual(['alpha: 2 receipts', 'beta: 1 receipt']);
    const total = (await session.op('searchReceipts', { count: true, limit: 1 })).body.total.count as number;
    await expect(page.getByTestId('agent-group-none').innerText()).resolves.toBe(`No agent token: ${total - 3}`);
    await page.locator('[data-testid="agent-group"][data-agent="beta"]').click();
    await waitForLedgerRows(page, await seqs({ agent: 'beta' }));
    await expect(page.getByTestId('ledger-filter-agent').inputValue()).resolves.toBe('beta');
    expect(await axeViolations(page)).toEqual([]);
    expect(problems).toEqual([]);
  });

  test('a changed MCP tool definition: both shown, escaped; accepting a newer one unread is refused; accepting the one read', async () => {
    const { toolPins } = session.server.app.core;
    const def = (description: string) => payload({ name: 'send', description, inputSchema: { type: 'object' }, annotations: null });
    await toolPins.observe('mcp:mail/send', def('Sends one mail'));
    await toolPins.observe('mcp:mail/list', def('Lists mail'));
    // The upstream now says something else, with a right-to-left override in it.
    const changed = def('Sends one mail \u202eto everyone');
    expect(await toolPins.observe('mcp:mail/send', changed)).toMatchObject({ status: 'changed' });

    const { page, problems } = await session.open();
    await showView(page, 'tools');
    const card = page.locator('[data-testid="pin-changed"][data-action="mcp:mail/send"]');
    await card.waitFor();
    await expect(card.getByTestId('pin-old').innerText()).resolves.toContain('Sends one mail');
    const shown = await card.getByTestId('pin-new').innerText();
    expect(shown).not.toContain('\u202e');
    await expect(card.getByTestId('pin-new').getByTestId('char-mark').innerText()).resolves.toBe('RLO');
    await expect(card.getByTestId('pin-summary').innerText()).resolves.toMatch(/changed: description/);
    // The card is named by its tool alone, not "… Show escapes".
    expect(await page.getByRole('article', { name: 'mcp:mail/send', exact: true }).count()).toBe(1);
    await card.getByTestId('pin-toggle-escaped').click();
    await expect(card.getByTestId('pin-new').innerText()).resolves.toContain('\\u202e');
    await expect(page.getByTestId('pin-row').innerText()).resolves.toContain('mcp:mail/list');
    expect(await axeViolations(page)).toEqual([]);

    // Changed again after the operator read it: what is on screen is not what is waiting.
    const newer = def('Sends mail to anyone');
    await toolPins.observe('mcp:mail/send', newer);
    await card.getByTestId('accept-definition').click();
    await expect(page.getByTestId('accept-error').innerText()).resolves.toMatch(/read it again before accepting/);
    expect(await toolPins.hashOf('mcp:mail/send')).toBe(toolDefinitionHash(def('Sends one mail')));

    // Reloaded (the view now shows the newer one), then accepted: a config receipt.
    await card.getByTestId('pin-new').getByText('Sends mail to anyone').waitFor();
    await card.getByTestId('accept-definition').click();
    await page.getByTestId('accept-done').waitFor();
    await page.getByTestId('no-changed-pins').waitFor();
    expect(await toolPins.hashOf('mcp:mail/send')).toBe(toolDefinitionHash(newer));
    const last = (await session.op('searchReceipts', { events: ['config'], limit: 1 })).body.items[0];
    expect(last.reason).toBe('mcp tool definition accepted: mcp:mail/send');
    expect(problems).toEqual([]);
  });

  test('a quorum action: who has approved and how many are still needed; the operator who signs is chosen, never twice', async () => {
    const bob = addOperator(session.server.dataDir, 'bob');
    const p = await post(session.server.url, '/proposals', { action: 'wire', payload: { to: 'acct-9' }, nonce: 'quorum-ui' });
    const id = p.body.id as string;
    const { page, problems } = await session.open();
    await pendingItem(page, id).click();
    await expect(page.getByTestId('proposal-detail').getByTestId('quorum-count').innerText()).resolves.toMatch(
      /^0 of 2 given: 2 more needed/,
    );

    await openDecision(page, id, 'approve');
    const dialog = page.getByTestId('decision-dialog');
    await expect(dialog.getByTestId('sign-as').inputValue()).resolves.toBe('operator');
    await expect(dialog.getByTestId('sign-as').locator('option').allInnerTexts()).resolves.toEqual([
      `operator (key ${session.server.app.core.operatorSigner.keyId}), primary`,
      `bob (key ${bob.keyId})`,
    ]);
    expect(await dialog.getByTestId('approve-similar').count()).toBe(0);
    await readWholeRequest(page);
    await page.getByTestId('confirm-decision').click();
    await dialog.waitFor({ state: 'hidden' });

    const detail = page.getByTestId('proposal-detail');
    await detail.getByTestId('quorum-approval').waitFor();
    await expect(detail.getByTestId('quorum-count').innerText()).resolves.toMatch(/^1 of 2 given: 1 more needed/);
    await expect(detail.getByTestId('quorum-approval').innerText()).resolves.toContain(
      `operator key ${session.server.app.core.operatorSigner.keyId}`,
    );

    await openDecision(page, id, 'approve');
    await readWholeRequest(page);
    // The primary has approved: said plainly, and Sign stays off.
    await expect(dialog.getByTestId('sign-as-twice').innerText()).resolves.toMatch(
      /has already approved this proposal\. The same operator key counts only once/,
    );
    expect(await page.getByTestId('confirm-decision').isDisabled()).toBe(true);
    await dialog.getByTestId('sign-as').selectOption('bob');
    expect(await dialog.getByTestId('sign-as-twice').count()).toBe(0);
    expect(await axeViolations(page)).toEqual([]);
    await page.getByTestId('confirm-decision').click();
    await dialog.waitFor({ state: 'hidden' });
    await page.getByTestId('proposal-outcome').waitFor();
    const after = (await session.op('getProposal', { id })).body;
    expect(after.status).toBe('executed');
    expect(after.quorum.approvals.map((a: { operator: string; keyId: string }) => [a.operator, a.keyId])).toEqual([
      ['operator', session.server.app.core.operatorSigner.keyId],
      ['bob', bob.keyId],
    ]);
    expect(problems).toEqual([]);
  });

  test('the proposing agent: named in the detail and the dialog; a long name gives way in the queue, never the action or its time', async () => {
    const long = 'deploy-agent-with-a-rather-long-name-for-the-queue';
    const token = (await session.op('addAgent', { name: long })).body.token as string;
    const named = await post(
      session.server.url,
      '/proposals',
      { action: 'wire', payload: { to: 'acct-long' }, nonce: 'agent-shown-1' },
      { authorization: `Bearer ${token}` },
    );
    const anonymous = await post(session.server.url, '/proposals', { action: 'echo', payload: { n: 77 }, nonce: 'agent-shown-2' });
    const { page, problems } = await session.open({ viewport: { width: 900, height: 700 } });
    const item = pendingItem(page, named.body.id);
    await item.waitFor();
    // The action and the countdown stay whole and inside the item; the agent's name is shortened.
    const fits = (testId: string) =>
      item.evaluate((el, id) => {
        const inner = el.querySelector(`[data-testid="${id}"]`) ?? el.querySelector(`.${id}`);
        if (!inner) return `no ${id}`;
        const [a, b] = [el.getBoundingClientRect(), inner.getBoundingClientRect()];
        return inner.scrollWidth <= inner.clientWidth && b.right <= a.right && b.width > 0 ? 'fits' : `${id} cut`;
      }, testId);
    await expect(fits('queue-action')).resolves.toBe('fits');
    await expect(fits('countdown')).resolves.toBe('fits');
    await expect(item.locator('.queue-action').innerText()).resolves.toBe('wire');
    await expect(item.getByTestId('queue-agent').getAttribute('title')).resolves.toBe(`agent ${long}, verified by its agent token`);

    await item.click();
    // The payload section is named by its heading's words, not "… Show escapes E".
    expect(await page.getByRole('region', { name: 'Payload (canonical JSON, text shown readably)', exact: true }).count()).toBe(1);
    await expect(page.getByTestId('proposal-agent').innerText()).resolves.toBe(`${long} (verified by its agent token)`);
    await page.getByTestId('approve-button').click();
    await page.getByTestId('decision-dialog').waitFor({ state: 'visible' });
    await expect(page.getByTestId('dialog-agent').innerText()).resolves.toBe(`Proposed by agent: ${long} (verified by its agent token)`);
    expect(await axeViolations(page)).toEqual([]);
    await page.keyboard.press('Escape');
    await page.getByTestId('decision-dialog').waitFor({ state: 'hidden' });

    await pendingItem(page, anonymous.body.id).click();
    await expect(page.getByTestId('proposal-agent').innerText()).resolves.toBe(
      'none: sent without an agent token, so the sender is not identified',
    );
    for (const id of [named.body.id, anonymous.body.id]) await session.op('deny', { id, reason: 'test done' });
    expect(problems).toEqual([]);
  });

  test("Approve similar… names the proposal's agent in the terms, and the grant covers only that agent", async () => {
    const first = await post(
      session.server.url,
      '/proposals',
      { action: 'echo', payload: { to: 'cfo@example.com', body: 'r1' }, nonce: 'sim-agent-1' },
      bearer('alpha'),
    );
    const { page, problems } = await session.open();
    await pendingItem(page, first.body.id).click();
    await page.getByTestId('approve-button').click();
    await page.getByTestId('decision-dialog').waitFor({ state: 'visible' });
    await page.getByTestId('approve-similar').check();
    await page.getByTestId('vary-body').check();
    await page.getByTestId('grant-schema').waitFor();
    await expect(page.getByTestId('grant-agent').innerText()).resolves.toBe('from agent alpha only (verified by its token)');
    await readWholeRequest(page);
    await page.getByTestId('confirm-decision').click();
    await page.getByTestId('decision-dialog').waitFor({ state: 'hidden' });
    const like = { action: 'echo', payload: { to: 'cfo@example.com', body: 'r2' } };
    const byAlpha = await post(session.server.url, '/proposals', { ...like, nonce: 'sim-agent-2' }, bearer('alpha'));
    expect(byAlpha.body).toMatchObject({ status: 'executed' });
    const byBeta = await post(session.server.url, '/proposals', { ...like, nonce: 'sim-agent-3' }, bearer('beta'));
    expect(byBeta.body).toMatchObject({ status: 'pending' });
    const grants = (await session.op('listGrants')).body as { agent: string | null }[];
    expect(grants.map((g) => g.agent)).toEqual(['alpha']);
    expect(problems).toEqual([]);
  });
});
