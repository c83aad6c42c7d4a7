/**
 * A real core, the built renderer served on 127.0.0.1 and Chromium, for Chromium tests that
 * open several pages (colour schemes, window sizes) on one core. Each page gets its own
 * console test bridge.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { installConsoleBridge, type ConsoleTestBridge } from './console-test-bridge.ts';
import { consoleCall } from './console-http.ts';
import { REPO_ROOT, startServer, type RunningServer } from './harness.ts';
import { serveStatic, type StaticServer } from './static-server.ts';
import { launchChromium, RENDERER_DIR, watchPageProblems } from './browser.ts';

export interface ConsolePage {
  page: Page;
  bridge: ConsoleTestBridge;
  problems: string[];
}

export interface PageOptions {
  viewport?: { width: number; height: number };
  colorScheme?: 'light' | 'dark';
}

export interface ConsoleSession {
  server: RunningServer;
  /** `POST /console/<method>` with the console token. */
  op(method: string, input?: unknown): ReturnType<typeof consoleCall>;
  /** A fresh page (own context) showing the console, loaded and connected. */
  open(options?: PageOptions): Promise<ConsolePage>;
  close(): Promise<void>;
}

export async function startConsoleSession(env: Record<string, string> = {}): Promise<ConsoleSession> {
  const server = await startServer(env);
  let statics: StaticServer | null = null;
  let browser: Browser | null = null;
  const pages: ConsolePage[] = [];
  try {
    statics = await serveStatic(RENDERER_DIR);
    browser = await launchChromium();
  } catch (err) {
    await statics?.close();
    await server.stop();
    throw err;
  }
  const b = browser;
  const base = statics.url;
  return {
    server,
    op: (method, input = {}) => consoleCall(server.url, server.app.consoleToken, method, input),
    async open(options = {}) {
      const context = await b.newContext({
        viewport: options.viewport ?? { width: 1280, height: 800 },
        colorScheme: options.colorScheme ?? 'light',
        locale: 'en-US',
        timezoneId: 'UTC',
      });
      const page = await context.newPage();
      const problems = watchPageProblems(page);
      const bridge = await installConsoleBridge(page, { url: server.url, token: server.app.consoleToken });
      await page.goto(`${base}/`);
      await page.getByTestId('view-pending').waitFor();
      const opened = { page, bridge, problems };
      pages.push(opened);
      return opened;
    },
    async close() {
      for (const p of pages) await p.bridge.close();
      await b.close();
      await statics?.close();
      await server.stop();
    },
  };
}

const AXE_SOURCE = readFileSync(join(REPO_ROOT, 'node_modules', 'axe-core', 'axe.min.js'), 'utf8');

export interface AxeFinding {
  id: string;
  impact: string;
  help: string;
  targets: string[];
  summary: string;
}

/**
 * Runs axe-core in the page and returns its serious and critical violations. Injected with
 * evaluate (DevTools protocol), which the page's CSP (`script-src 'self'`) does not govern,
 * unlike an inline script tag.
 */
export async function axeViolations(page: Page): Promise<AxeFinding[]> {
  if (!(await page.evaluate('typeof window.axe === "object"'))) await page.evaluate(AXE_SOURCE);
  return (await page.evaluate(`window.axe.run(document, { resultTypes: ['violations'] }).then((r) =>
    r.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => ({
        id: v.id,
        impact: v.impact,
        help: v.help,
        targets: v.nodes.map((n) => n.target.join(' ')),
        summary: v.nodes.map((n) => n.failureSummary).join(' | ').slice(0, 600),
      })))`)) as AxeFinding[];
}
