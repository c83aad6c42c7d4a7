/**
 * The Actions view and the Pending preview in Chromium, against a real core that loaded a
 * manifest of declared actions (the same harness as console-e2e.test.ts).
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { stringify as toYaml } from 'yaml';
import { post, startServer, tempDir, type RunningServer } from '../support/harness.ts';
import { mustFailWhenBlocked, rendererTestBlocker } from '../support/browser.ts';
import { openConsolePage, type ConsolePage } from '../support/console-page.ts';
import { pendingItem, screenshot, showView } from '../support/console-ui.ts';
import { GREET, stringSchema } from '../support/declared.ts';

const blocker = rendererTestBlocker();
const skip = blocker !== null && !mustFailWhenBlocked();
if (skip) console.log(`actions e2e skipped: ${blocker}`);

describe.skipIf(skip)('declared actions in the console', () => {
  let s: RunningServer;
  let ui: ConsolePage;
  let page: Page;
  let problems: string[];
  const notes = tempDir();

  beforeAll(async () => {
    if (blocker) throw new Error(`CI=true and the console cannot be tested: ${blocker}`);
    const manifest = join(tempDir(), 'actions.yaml');
    writeFileSync(
      manifest,
      toYaml({
        actions: {
          greet: { ...GREET, annotations: { readOnlyHint: true } },
          note: {
            kind: 'write_file',
            description: 'Write a note',
            risk: 'medium',
            root: notes,
            path: '{file}',
            content: '{text}',
            payload_schema: stringSchema('file', 'text'),
            approval: { quorum: 2 },
          },
        },
      }),
    );
    s = await startServer({ OPENEXEC_MODE: 'clawshield', OPENEXEC_ACTIONS: manifest });
    ui = await openConsolePage(s);
    ({ page, problems } = ui);
    await page.getByTestId('view-pending').waitFor();
  });

  afterAll(async () => {
    await ui?.close();
    await s?.stop();
  });

  test('Actions: each action with its kind, risk, what it does and its switch', async () => {
    await showView(page, 'allow-list');
    const greet = page.locator('[data-testid="allow-entry"][data-action="greet"]');
    await greet.waitFor();
    await expect(greet.getByTestId('action-kind').innerText()).resolves.toBe('run');
    await expect(greet.getByTestId('action-risk').innerText()).resolves.toMatch(/low risk/i);
    await expect(greet.getByTestId('action-does').innerText()).resolves.toContain('program /usr/bin/printf');
    const note = page.locator('[data-testid="allow-entry"][data-action="note"]');
    await expect(note.getByTestId('action-does').innerText()).resolves.toContain(`root ${notes}`);
    // A quorum is said before any proposal asks for one; an action one approval runs says nothing.
    await expect(note.getByTestId('action-quorum').innerText()).resolves.toBe('needs 2 operators');
    expect(await greet.getByTestId('action-quorum').count()).toBe(0);
    await expect(page.locator('[data-testid="allow-entry"][data-action="echo"]').getByTestId('action-kind').innerText()).resolves.toBe(
      'built-in',
    );
    expect(await page.locator('#allow-greet').isChecked()).toBe(true);
    await screenshot(page, 'actions');
    expect(problems).toEqual([]);
  });

  test('Pending: the concrete command line above the payload', async () => {
    await showView(page, 'pending');
    const p = await post(s.url, '/proposals', { action: 'greet', payload: { name: "Ana's" }, nonce: 'e2e-greet' });
    expect(p.status, p.text).toBe(202);
    await pendingItem(page, p.body.id).click();
    const lines = page.getByTestId('effect-preview-lines');
    await expect(lines.innerText()).resolves.toBe(`/usr/bin/printf 'hello %s\\n' 'Ana'\\''s'`);
    await expect(page.getByTestId('effect-preview').innerText()).resolves.toContain(p.body.action_def_hash);
    // Above the payload, as the operator reads down.
    const previewY = (await page.getByTestId('effect-preview').boundingBox())!.y;
    const payloadY = (await page.getByTestId('proposal-payload').boundingBox())!.y;
    expect(previewY).toBeLessThan(payloadY);
    await screenshot(page, 'pending-preview');

    // At 900×700 the 64-digit definition hash wraps inside the detail, never past its edge.
    const size = page.viewportSize()!;
    await page.setViewportSize({ width: 900, height: 700 });
    try {
      const hash = page.getByTestId('definition-hash');
      await expect(hash.innerText()).resolves.toContain(p.body.action_def_hash);
      const detail = (await page.getByTestId('proposal-detail').boundingBox())!;
      const box = (await hash.boundingBox())!;
      expect(box.x + box.width).toBeLessThanOrEqual(detail.x + detail.width);
      expect(await hash.evaluate((el) => el.scrollWidth <= el.clientWidth)).toBe(true);
    } finally {
      await page.setViewportSize(size);
    }
    expect(problems).toEqual([]);
  });

  test('Status: the manifest in force', async () => {
    await showView(page, 'status');
    await expect(page.getByTestId('status-manifest').innerText()).resolves.toMatch(/actions\.yaml \(2 actions, sha256 [0-9a-f]{16}…\)/);
    expect(problems).toEqual([]);
  });
});
