/**
 * A `resync` event (what an HTTP event stream sends a subscriber it drops for falling behind)
 * makes the console fetch its data again, and the test bridge carry on with a new stream.
 */
import { describe, expect, test } from 'vitest';
import { EventHub } from '../../src/main/core/events/event-hub.ts';
import { ProposalService } from '../../src/main/core/proposals/proposal-service.ts';
import type { JsonObject } from '../../src/main/core/json/json-value.ts';
import { installConsoleBridge, type ConsoleTestBridge } from '../support/console-test-bridge.ts';
import { post, startServer } from '../support/harness.ts';
import { serveStatic } from '../support/static-server.ts';
import { launchChromium, mustFailWhenBlocked, RENDERER_DIR, rendererTestBlocker, VIEWPORT } from '../support/browser.ts';
import { pendingItem } from '../support/console-ui.ts';

const blocker = rendererTestBlocker();
const skip = blocker !== null && !mustFailWhenBlocked();
if (skip) console.log(`resync e2e skipped: ${blocker}`);

describe.skipIf(skip)('a resync event', () => {
  test('reloads what the console shows, and live events keep arriving afterwards', async () => {
    if (blocker) throw new Error(`CI=true and the console cannot be tested: ${blocker}`);
    const [s, statics, browser] = await Promise.all([startServer(), serveStatic(RENDERER_DIR), launchChromium()]);
    let bridge: ConsoleTestBridge | null = null;
    try {
      const page = await browser.newPage({ viewport: VIEWPORT });
      bridge = await installConsoleBridge(page, { url: s.url, token: s.app.consoleToken });
      await page.goto(`${statics.url}/`);
      await page.getByTestId('view-pending').getByText('Nothing is waiting for you').waitFor();

      // Committed, but announced on a hub nobody listens to: the page missed this event.
      const missed = (
        await new ProposalService(s.app.core, new EventHub(), { defaultTtlSeconds: 600, tenantId: null }).propose({
          action: 'echo',
          payload: Object.create(null) as JsonObject,
          nonce: 'missed-1',
          ttlSeconds: null,
          context: null,
        })
      ).proposal;
      await bridge.settled();
      expect(await pendingItem(page, missed.id).count()).toBe(0);

      s.app.events.emit({ type: 'resync', detail: 'events were missed' });
      await pendingItem(page, missed.id).waitFor({ timeout: 10_000 });

      const live = await post(s.url, '/proposals', { action: 'echo', payload: {}, nonce: 'after-resync' });
      expect(live.status).toBe(202);
      await pendingItem(page, live.body.id).waitFor({ timeout: 10_000 });
    } finally {
      await bridge?.close();
      await Promise.all([browser.close(), statics.close()]);
      await s.stop();
    }
  });
});
