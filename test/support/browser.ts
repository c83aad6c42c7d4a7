import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { REPO_ROOT } from './harness.ts';

export const CHROMIUM_PATH = process.env['OPENEXEC_CHROMIUM'] ?? '/usr/bin/chromium';
export const RENDERER_DIR = join(REPO_ROOT, 'out', 'renderer');
export const RESULTS_DIR = join(REPO_ROOT, 'test-results');
/** The size of the Electron window (src/main/electron/window.ts). */
export const VIEWPORT = { width: 1280, height: 820 };

/** Why the renderer cannot be tested in a browser here, or null when it can. */
export function rendererTestBlocker(): string | null {
  if (!existsSync(CHROMIUM_PATH)) return `Chromium not found at ${CHROMIUM_PATH} (apt-get install -y chromium)`;
  if (!existsSync(join(RENDERER_DIR, 'index.html'))) return 'out/renderer is missing (run `npm run build`)';
  return null;
}

/** Under CI a missing browser or build is a failure, elsewhere a skip that says why. */
export function mustFailWhenBlocked(): boolean {
  return process.env['CI'] === 'true';
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-quic',
      '--no-first-run',
    ],
  });
}

/** Collects what would make a page "broken": uncaught errors and console errors. */
export function watchPageProblems(page: Page): string[] {
  const problems: string[] = [];
  page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error') problems.push(`console.error: ${msg.text()}`);
  });
  return problems;
}

export function resultsPath(name: string): string {
  mkdirSync(RESULTS_DIR, { recursive: true });
  return join(RESULTS_DIR, name);
}

/**
 * The little of the DOM that browser-side callbacks read: tests type-check under the node
 * tsconfig, which has no DOM lib. Use as `(globalThis as unknown as PageGlobal).document`.
 */
export interface PageElement {
  readonly textContent: string | null;
  readonly value: string;
  readonly disabled: boolean;
  readonly dataset: Record<string, string | undefined>;
  querySelector(selector: string): PageElement | null;
  querySelectorAll(selector: string): ArrayLike<PageElement>;
}
export interface PageGlobal {
  readonly document: PageElement;
}
