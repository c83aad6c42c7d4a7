/**
 * "Approve similar…" and the Grants view, in Chromium against a real core: the operator sees
 * the exact terms before signing, the grant then covers requests like the approved one (and
 * nothing else), and revoking it in the view ends it at once.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { post } from '../support/harness.ts';
import { mustFailWhenBlocked, rendererTestBlocker } from '../support/browser.ts';
import { startConsoleSession, type ConsoleSession } from '../support/console-session.ts';
import { pendingItem, readWholeRequest, showView } from '../support/console-ui.ts';

const blocker = rendererTestBlocker();
const skip = blocker !== null && !mustFailWhenBlocked();
if (skip) console.log(`grants console tests skipped: ${blocker}`);

describe.skipIf(skip)('grants in the console (Chromium, real core)', () => {
  let session: ConsoleSession;
  beforeAll(async () => {
    if (blocker) throw new Error(`CI=true and the console cannot be tested: ${blocker}`);
    session = await startConsoleSession({ OPENEXEC_MODE: 'clawshield', OPENEXEC_PROPOSAL_TTL: '600' });
  });
  afterAll(async () => {
    await session?.close();
  });

  test('Approve similar… shows the terms, signs them, the grant covers the like of it; revoke in the Grants view', async () => {
    const { page, problems } = await session.open();
    const first = await post(session.server.url, '/proposals', {
      action: 'echo',
      payload: { to: 'cfo@example.com', body: 'report 1' },
      nonce: 'ui-g-1',
    });
    await pendingItem(page, first.body.id).click();
    await page.getByTestId('approve-button').click();
    await page.getByTestId('decision-dialog').waitFor({ state: 'visible' });
    await page.getByTestId('approve-similar').check();
    // Nothing may vary yet: the whole payload is fixed.
    await expect(page.getByTestId('grant-fixed').innerText()).resolves.toBe('{"body":"report 1","to":"cfo@example.com"}');
    await page.getByTestId('vary-body').check();
    await page.getByTestId('grant-schema').waitFor();
    await expect(page.getByTestId('grant-fixed').innerText()).resolves.toBe('{"to":"cfo@example.com"}');
    await expect(page.getByTestId('grant-schema').innerText()).resolves.toContain('"type": "string"');
    await page.getByTestId('preset-uses').check();
    await page.getByTestId('grant-uses').fill('2');
    await expect(page.getByTestId('grant-preview').innerText()).resolves.toMatch(/2 more requests for echo/);
    await readWholeRequest(page);
    await page.getByTestId('confirm-decision').click();
    await page.getByTestId('decision-dialog').waitFor({ state: 'hidden' });

    // Like it: runs at once. Not like it: waits for the operator.
    const like = await post(session.server.url, '/proposals', {
      action: 'echo',
      payload: { to: 'cfo@example.com', body: 'report 2' },
      nonce: 'ui-g-2',
    });
    expect(like.body).toMatchObject({ status: 'executed' });
    const unlike = await post(session.server.url, '/proposals', {
      action: 'echo',
      payload: { to: 'press@example.com', body: 'report 2' },
      nonce: 'ui-g-3',
    });
    expect(unlike.body).toMatchObject({ status: 'pending' });

    await showView(page, 'grants');
    const row = page.getByTestId('grant-row');
    await expect(row.getByTestId('grant-uses-left').innerText()).resolves.toBe('1 of 2 uses left');
    await row.getByTestId('revoke-grant').click();
    await page.getByText('No live grants').waitFor();
    const after = await post(session.server.url, '/proposals', {
      action: 'echo',
      payload: { to: 'cfo@example.com', body: 'report 3' },
      nonce: 'ui-g-4',
    });
    expect(after.body).toMatchObject({ status: 'pending' });
    await page.getByTestId('grants-show-ended').check();
    await expect(page.getByTestId('grant-row').innerText()).resolves.toContain('Revoked');
    expect(problems).toEqual([]);
  });

  test('a grant limited by time says it has no use limit and how long is left, not a bare "used 0×" and a clock', async () => {
    const p = await post(session.server.url, '/proposals', {
      action: 'echo',
      payload: { to: 'ops@example.com', n: 1 },
      nonce: 'ui-g-time',
    });
    expect((await session.op('approveSimilar', { id: p.body.id, vary: ['n'], forSeconds: 3600 })).status).toBe(200);
    const { page, problems } = await session.open();
    await showView(page, 'grants');
    const row = page.getByTestId('grant-row');
    await expect(row.getByTestId('grant-uses-left').innerText()).resolves.toBe('no use limit, 0 used');
    await expect(row.getByTestId('grant-time-left').innerText()).resolves.toMatch(/^[\d:]+ left$/);
    await row.getByTestId('revoke-grant').click();
    await page.getByTestId('grants-show-ended').check();
    const ended = page.getByTestId('grant-row').filter({ hasText: 'no use limit' });
    await expect(ended.getByTestId('grant-time-left').innerText()).resolves.toMatch(/^time limit [A-Z][a-z]{2} \d{2}, \d{4}, [\d:]+$/);
    expect(problems).toEqual([]);
  });
});
