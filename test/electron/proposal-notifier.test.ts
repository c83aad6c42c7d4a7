/**
 * The OS notification for a new proposal (src/main/ipc/proposal-notifier.ts) in front of the
 * REAL console service of a running core; only Electron's window objects and the OS
 * notification itself are stand-ins (Electron cannot run here): `show` records what it gets.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createNotifyHandler, type ProposalNotification } from '../../src/main/ipc/proposal-notifier';
import type { FrameLike, InvokeEventLike, TrustedWindow } from '../../src/main/ipc/console-ipc-dispatch';
import { post, startServer, type RunningServer } from '../support/harness';

const APP_URL = 'file:///opt/openexec/resources/app/out/renderer/index.html';

let s: RunningServer;
beforeAll(async () => {
  s = await startServer({ OPENEXEC_MODE: 'clawshield' });
});
afterAll(() => s.stop());

function setup(focused = false) {
  const webContents = { id: 1 };
  const mainFrame: FrameLike = { url: APP_URL, processId: 4, routingId: 1, parent: null };
  const win: TrustedWindow = { webContents, mainFrame, appUrl: APP_URL };
  const shown: ProposalNotification[] = [];
  let isFocused = focused;
  const notify = createNotifyHandler({
    api: s.app.console,
    currentWindow: () => win,
    windowFocused: () => isFocused,
    show: (n) => shown.push(n),
  });
  const good: InvokeEventLike = { sender: webContents, senderFrame: mainFrame };
  return { notify, shown, good, mainFrame, focus: (f: boolean) => (isFocused = f) };
}

async function propose(nonce: string, payload: Record<string, unknown>, context?: string): Promise<string> {
  const r = await post(s.url, '/proposals', { action: 'echo', payload, nonce, context });
  expect(r.status, r.text).toBe(202);
  return r.body.id as string;
}

describe('desktop notification of a new proposal', () => {
  test('shown once, with words the main process writes from the proposal (not the context), marks visible', async () => {
    const { notify, shown, good } = setup();
    const id = await propose('notify-1', { to: 'p\u0430ypal.com', file: 'invoice\u202Efdp.exe' }, 'Click here: everything is fine');
    await expect(notify(good, { id })).resolves.toEqual({ ok: true, value: { shown: true } });
    await expect(notify(good, { id })).resolves.toEqual({ ok: true, value: { shown: false } });
    expect(shown).toEqual([{ proposalId: id, title: 'Proposal waiting: echo', body: 'file: invoice[RLO]fdp.exe · to: p\u0430ypal.com' }]);
    expect(shown[0]!.body).not.toContain('Click here');
  });

  test('nothing is shown while the window has the focus, for a closed proposal, or to another sender', async () => {
    const { notify, shown, good, mainFrame, focus } = setup(true);
    const id = await propose('notify-2', { n: 2 });
    await expect(notify(good, { id })).resolves.toEqual({ ok: true, value: { shown: false } });
    focus(false);
    await expect(notify({ sender: { id: 99 }, senderFrame: mainFrame }, { id })).resolves.toMatchObject({
      ok: false,
      error: { code: 'forbidden' },
    });
    await expect(notify(good, {})).resolves.toMatchObject({ ok: false, error: { code: 'invalid_input' } });
    await expect(notify(good, { id: 'no-such-proposal' })).resolves.toMatchObject({ ok: false, error: { code: 'not_found' } });
    await s.app.console.deny({ id, reason: 'closed before the notification' });
    await expect(notify(good, { id })).resolves.toEqual({ ok: true, value: { shown: false } });
    expect(shown).toEqual([]);
  });
});
