import type { Browser, Page } from 'playwright-core';
import { installConsoleBridge, type ConsoleTestBridge } from './console-test-bridge.ts';
import { serveStatic, type StaticServer } from './static-server.ts';
import { launchChromium, RENDERER_DIR, VIEWPORT, watchPageProblems } from './browser.ts';
import type { RunningServer } from './harness.ts';

export interface ConsolePage {
  page: Page;
  /** Page errors and console errors seen so far. */
  problems: string[];
  close(): Promise<void>;
}

/** The built renderer in Chromium, its `window.openexec` bridged to a running core's /console routes. */
export async function openConsolePage(s: RunningServer): Promise<ConsolePage> {
  const statics: StaticServer = await serveStatic(RENDERER_DIR);
  const browser: Browser = await launchChromium();
  const page = await browser.newPage({ viewport: VIEWPORT, colorScheme: 'dark' });
  const problems = watchPageProblems(page);
  const bridge: ConsoleTestBridge = await installConsoleBridge(page, { url: s.url, token: s.app.consoleToken });
  await page.goto(`${statics.url}/`);
  return {
    page,
    problems,
    async close() {
      await bridge.close();
      await browser.close();
      await statics.close();
    },
  };
}
