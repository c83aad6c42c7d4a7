import { EventEmitter } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test, vi } from 'vitest';
import { RENDERER_CSP_HEADER, RENDERER_CSP_META } from '../../src/main/electron/csp';
import { hardenSession, hardenWebContents } from '../../src/main/electron/security';

const APP_URL = 'file:///app/out/renderer/index.html';
const root = join(import.meta.dirname, '../..');

function metaCsp(html: string): string | null {
  return /<meta http-equiv="Content-Security-Policy" content="([^"]*)"/.exec(html)?.[1] ?? null;
}

describe('Content-Security-Policy', () => {
  test('the page meta tag is exactly the policy the main process sends', () => {
    expect(metaCsp(readFileSync(join(root, 'src/renderer/index.html'), 'utf8'))).toBe(RENDERER_CSP_META);
    expect(RENDERER_CSP_HEADER).toBe(`${RENDERER_CSP_META}; frame-ancestors 'none'`);
  });

  test('no remote origins, no inline script, no eval', () => {
    for (const policy of [RENDERER_CSP_META, RENDERER_CSP_HEADER]) {
      expect(policy).not.toMatch(/unsafe-inline|unsafe-eval|wasm-unsafe-eval|https?:|wss?:|\*/);
      expect(policy).toMatch(/default-src 'none'/);
      expect(policy).toMatch(/script-src 'self'(;|$)/);
      expect(policy).toMatch(/connect-src 'none'/);
      expect(policy).toMatch(/object-src 'none'/);
    }
  });

  const builtHtml = join(root, 'out/renderer/index.html');
  test.skipIf(!existsSync(builtHtml) && process.env['CI'] !== 'true')('the built page keeps the policy and has no inline script', () => {
    const html = readFileSync(builtHtml, 'utf8');
    expect(metaCsp(html)).toBe(RENDERER_CSP_META);
    const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
    expect(scripts.length).toBeGreaterThan(0);
    for (const [, attrs, body] of scripts) {
      expect(attrs).toMatch(/\bsrc="\.\/assets\//);
      expect(body?.trim()).toBe('');
    }
    expect(html).not.toMatch(/\son[a-z]+="/i);
  });
});

function fakeSession() {
  const calls: Record<string, unknown> = {};
  const session = {
    setPermissionRequestHandler: (h: unknown) => (calls['request'] = h),
    setPermissionCheckHandler: (h: unknown) => (calls['check'] = h),
    setDevicePermissionHandler: (h: unknown) => (calls['device'] = h),
    setSpellCheckerEnabled: (on: boolean) => (calls['spellcheck'] = on),
    webRequest: {
      onBeforeRequest: (h: unknown) => (calls['before'] = h),
      onHeadersReceived: (h: unknown) => (calls['headers'] = h),
    },
  };
  return { session, calls };
}

describe('hardenSession', () => {
  const { session, calls } = fakeSession();
  hardenSession(session as never, { appUrl: APP_URL, csp: RENDERER_CSP_HEADER });

  test('every permission request and check is denied', () => {
    for (const permission of ['media', 'geolocation', 'notifications', 'clipboard-read', 'openExternal', 'fullscreen']) {
      const callback = vi.fn();
      (calls['request'] as (...a: unknown[]) => void)({}, permission, callback, {});
      expect(callback).toHaveBeenCalledWith(false);
      expect((calls['check'] as (...a: unknown[]) => boolean)({}, permission, 'file://', {})).toBe(false);
    }
    expect((calls['device'] as () => boolean)()).toBe(false);
    expect(calls['spellcheck']).toBe(false);
  });

  test('only the app files, devtools, data: and blob: may load; the network is refused', () => {
    const cancelled = (url: string) => {
      let answer: { cancel?: boolean } = {};
      (calls['before'] as (d: unknown, cb: (r: { cancel?: boolean }) => void) => void)({ url }, (r) => (answer = r));
      return answer.cancel;
    };
    expect(cancelled(APP_URL)).toBe(false);
    expect(cancelled('file:///app/out/renderer/assets/index-abc.js')).toBe(false);
    expect(cancelled('blob:file:///3f2c9a1e-0000-4000-8000-000000000000')).toBe(false);
    expect(cancelled('file:///etc/passwd')).toBe(true);
    expect(cancelled('file:///app/out/main/index.js')).toBe(true);
    expect(cancelled('https://example.com/x.js')).toBe(true);
    expect(cancelled('http://127.0.0.1:5000/console/health')).toBe(true);
    expect(cancelled('ws://127.0.0.1:5000/')).toBe(true);
  });

  test('the CSP header replaces any policy a response brings', () => {
    let out: { responseHeaders?: Record<string, string[]> } = {};
    (calls['headers'] as (d: unknown, cb: (r: typeof out) => void) => void)(
      { url: APP_URL, responseHeaders: { 'content-security-policy': ['default-src *'], 'X-Other': ['1'] } },
      (r) => (out = r),
    );
    expect(out.responseHeaders).toEqual({ 'Content-Security-Policy': [RENDERER_CSP_HEADER], 'X-Other': ['1'] });
  });
});

describe('hardenWebContents', () => {
  function fakeContents() {
    const emitter = new EventEmitter() as EventEmitter & { setWindowOpenHandler: (h: unknown) => void; openHandler?: unknown };
    emitter.setWindowOpenHandler = (h) => (emitter.openHandler = h);
    return emitter;
  }
  const prevented = (contents: EventEmitter, name: string, ...args: unknown[]) => {
    const event = { preventDefault: vi.fn(), ...(args[0] as object) };
    contents.emit(name, event, ...args.slice(1));
    return event.preventDefault.mock.calls.length > 0;
  };

  test('window.open is denied, navigation away and webviews are refused', () => {
    const contents = fakeContents();
    hardenWebContents(contents as never, APP_URL);
    expect((contents.openHandler as (d: unknown) => unknown)({ url: 'https://example.com' })).toEqual({ action: 'deny' });
    expect(prevented(contents, 'will-navigate', {}, 'https://example.com/')).toBe(true);
    expect(prevented(contents, 'will-navigate', {}, 'file:///tmp/other.html')).toBe(true);
    expect(prevented(contents, 'will-navigate', {}, `${APP_URL}#/ledger`)).toBe(false);
    expect(prevented(contents, 'will-frame-navigate', { isMainFrame: false, url: APP_URL })).toBe(true);
    expect(prevented(contents, 'will-frame-navigate', { isMainFrame: true, url: 'https://example.com/' })).toBe(true);
    expect(prevented(contents, 'will-redirect', {})).toBe(true);
    expect(prevented(contents, 'will-attach-webview', {})).toBe(true);
  });
});

describe('window webPreferences', () => {
  test('follow the security checklist', async () => {
    vi.doMock('electron', () => ({ BrowserWindow: class {} }));
    const { CONSOLE_WEB_PREFERENCES } = await import('../../src/main/electron/window');
    vi.doUnmock('electron');
    expect(CONSOLE_WEB_PREFERENCES).toMatchObject({
      sandbox: true,
      contextIsolation: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      experimentalFeatures: false,
    });
  });
});
