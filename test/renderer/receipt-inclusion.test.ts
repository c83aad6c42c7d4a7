/**
 * A receipt's place in the Merkle log, checked inside the window: the renderer fetches the
 * receipt's audit path and the latest signed checkpoint and verifies both itself (WebCrypto
 * SHA-256, noble Ed25519). Real core, real Chromium, and a tree node tampered in SQLite.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Page } from 'playwright-core';
import { post } from '../support/harness.ts';
import { mustFailWhenBlocked, rendererTestBlocker } from '../support/browser.ts';
import { startConsoleSession, type ConsoleSession } from '../support/console-session.ts';
import { receiptRow, showView } from '../support/console-ui.ts';
import { rawDb } from '../support/raw-db.ts';

const blocker = rendererTestBlocker();
const skip = blocker !== null && !mustFailWhenBlocked();
if (skip) console.log(`receipt inclusion tests skipped: ${blocker}`);

describe.skipIf(skip)('a receipt verified in the window is also proven in the Merkle log', () => {
  let session: ConsoleSession;
  let page: Page;

  beforeAll(async () => {
    if (blocker) throw new Error(`CI=true and the console cannot be tested: ${blocker}`);
    session = await startConsoleSession();
    for (let i = 0; i < 6; i++) await post(session.server.url, '/execute', { action: 'echo', payload: { i }, nonce: `inc-${i}` });
    page = (await session.open()).page;
    await showView(page, 'ledger');
  }, 120_000);
  afterAll(async () => {
    await session?.close();
  });

  const verifySeq = async (seq: number) => {
    await receiptRow(page, seq).click();
    await page.getByTestId('verify-button').click();
    const check = page.getByTestId('check-inclusion');
    await check.waitFor();
    return { ok: (await check.getAttribute('class'))?.includes('check-ok') ?? false, text: await check.innerText() };
  };

  test('every receipt: its audit path leads to the root the receipt key signed', async () => {
    for (const seq of [1, 4, 6]) {
      const { ok, text } = await verifySeq(seq);
      expect(ok, text).toBe(true);
      expect(text).toContain('in the signed checkpoint of 6 receipts');
    }
    expect((await session.server.app.core.checkpoints.latest())?.size).toBe(6);
  });

  test('a tree node rewritten in the database: the window says the proof fails', async () => {
    const db = rawDb(session.server.app.core);
    db.exec('DROP TRIGGER merkle_nodes_append_only_update');
    db.prepare('UPDATE merkle_nodes SET hash = zeroblob(32) WHERE level = 1 AND idx = 0').run();
    const { ok, text } = await verifySeq(4);
    expect(ok).toBe(false);
    expect(text).toContain('the proof does not lead to the root of the signed checkpoint of 6 receipts');
  });
});
