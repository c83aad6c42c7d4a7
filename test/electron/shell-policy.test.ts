import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MenuItemConstructorOptions } from 'electron';
import { describe, expect, test, vi } from 'vitest';
import { applicationMenuTemplate, shellPolicy, type ShellInputs } from '../../src/main/electron/shell-policy';

const DEV_URL = 'http://localhost:5173/';
/** What `electron-vite dev` gives the Electron it spawns, in the bundle it built. */
const electronViteDev: ShellInputs = {
  isPackaged: false,
  devBuild: true,
  env: { ELECTRON_RENDERER_URL: 'http://localhost:5173', NODE_ENV_ELECTRON_VITE: 'development' },
};

describe('ELECTRON_RENDERER_URL', () => {
  test('is honoured under electron-vite dev, for a loopback http origin', () => {
    expect(shellPolicy(electronViteDev)).toEqual({ devServerUrl: DEV_URL, devTools: false, notices: [] });
    const v6 = { ...electronViteDev, env: { ...electronViteDev.env, ELECTRON_RENDERER_URL: 'http://[::1]:5173' } };
    expect(shellPolicy(v6).devServerUrl).toBe('http://[::1]:5173/');
  });

  test.each([
    [
      'npm start (a production bundle, the variable set in the shell)',
      { ...electronViteDev, devBuild: false, env: { ELECTRON_RENDERER_URL: DEV_URL } },
    ],
    ['npm start with NODE_ENV_ELECTRON_VITE forged too', { ...electronViteDev, devBuild: false }],
    [
      'electron-vite preview',
      { ...electronViteDev, devBuild: false, env: { ...electronViteDev.env, NODE_ENV_ELECTRON_VITE: 'production' } },
    ],
    ['a dev bundle not started by electron-vite dev', { ...electronViteDev, env: { ELECTRON_RENDERER_URL: DEV_URL } }],
    ['a packaged app', { ...electronViteDev, isPackaged: true }],
  ])('is ignored, with a notice: %s', (_name, inputs) => {
    const policy = shellPolicy(inputs);
    expect(policy.devServerUrl).toBeNull();
    expect(policy.notices).toEqual(['ignoring ELECTRON_RENDERER_URL: it is honoured only under `electron-vite dev`']);
  });

  test.each(['https://localhost:5173', 'http://example.com:5173', 'http://10.0.0.2:5173', 'file:///tmp/evil.html', 'not a url'])(
    'is refused when it is not loopback http, even in dev: %s',
    (url) => {
      const policy = shellPolicy({ ...electronViteDev, env: { ...electronViteDev.env, ELECTRON_RENDERER_URL: url } });
      expect(policy.devServerUrl).toBeNull();
      expect(policy.notices).toEqual(['ignoring ELECTRON_RENDERER_URL: not a loopback http URL']);
    },
  );

  test('unset: the built files, and nothing to say', () => {
    expect(shellPolicy({ isPackaged: true, devBuild: false, env: {} })).toEqual({ devServerUrl: null, devTools: false, notices: [] });
  });
});

describe('DevTools', () => {
  const production = { isPackaged: false, devBuild: false };
  test('are off unless OPENEXEC_DEVTOOLS=1, also in electron-vite dev', () => {
    expect(shellPolicy({ ...production, env: {} }).devTools).toBe(false);
    expect(shellPolicy(electronViteDev).devTools).toBe(false);
    expect(shellPolicy({ ...production, env: { OPENEXEC_DEVTOOLS: '0' } })).toEqual({ devServerUrl: null, devTools: false, notices: [] });
  });

  test('OPENEXEC_DEVTOOLS=1 turns them on and says so', () => {
    const policy = shellPolicy({ ...production, env: { OPENEXEC_DEVTOOLS: '1' } });
    expect(policy.devTools).toBe(true);
    expect(policy.notices).toEqual(['DevTools are enabled (OPENEXEC_DEVTOOLS=1): whoever uses them can act as the operator']);
  });

  test.each(['true', 'yes', ' 1'])('any other value is not a yes: %j', (value) => {
    const policy = shellPolicy({ ...production, env: { OPENEXEC_DEVTOOLS: value } });
    expect(policy.devTools).toBe(false);
    expect(policy.notices).toEqual([`ignoring OPENEXEC_DEVTOOLS=${value}: set it to 1 to enable DevTools`]);
  });

  test('the window gets webPreferences.devTools from the policy, false by default', async () => {
    vi.doMock('electron', () => ({ BrowserWindow: class {} }));
    const { CONSOLE_WEB_PREFERENCES, consoleWebPreferences } = await import('../../src/main/electron/window');
    vi.doUnmock('electron');
    expect(CONSOLE_WEB_PREFERENCES.devTools).toBe(false);
    expect(consoleWebPreferences('/p/index.cjs', false)).toMatchObject({ devTools: false, sandbox: true, preload: '/p/index.cjs' });
    expect(consoleWebPreferences('/p/index.cjs', true)).toMatchObject({ devTools: true, sandbox: true, contextIsolation: true });
  });
});

describe('the application menu', () => {
  function roles(items: readonly MenuItemConstructorOptions[]): string[] {
    return items.flatMap((item) => [...(item.role ? [item.role] : []), ...(Array.isArray(item.submenu) ? roles(item.submenu) : [])]);
  }

  test.each(['linux', 'win32', 'darwin'] as const)('%s: edit, window and quit; no reload, no DevTools', (platform) => {
    const menu = applicationMenuTemplate(platform);
    const all = roles(menu);
    expect(all).toEqual(expect.arrayContaining(['undo', 'redo', 'cut', 'copy', 'paste', 'selectAll', 'minimize', 'close', 'quit']));
    const allowed = new Set(['undo', 'redo', 'cut', 'copy', 'paste', 'selectAll', 'minimize', 'close', 'quit', 'hide']);
    expect(all.filter((role) => !allowed.has(role))).toEqual([]);
    // Only roles: no item carries its own click handler or accelerator (e.g. a hand-made reload).
    const flat = (items: readonly MenuItemConstructorOptions[]): MenuItemConstructorOptions[] =>
      items.flatMap((i) => [i, ...(Array.isArray(i.submenu) ? flat(i.submenu) : [])]);
    expect(flat(menu).filter((i) => i.click !== undefined || i.accelerator !== undefined)).toEqual([]);
    expect(menu.map((m) => m.label)).toEqual(platform === 'darwin' ? ['OpenExec Console', 'Edit', 'Window'] : ['File', 'Edit', 'Window']);
  });
});

const builtMain = join(import.meta.dirname, '../../out/main/index.js');
const missingBuild = !existsSync(builtMain);
if (missingBuild) console.log(`skipping built-main test: ${builtMain} is missing (run \`npm run build\`)`);

describe('built main process (out/main/index.js)', () => {
  test.skipIf(missingBuild && process.env['CI'] !== 'true')('is a production bundle: it cannot honour ELECTRON_RENDERER_URL', () => {
    expect(existsSync(builtMain), 'out/main/index.js must be built').toBe(true);
    const text = readFileSync(builtMain, 'utf8');
    // `npm start` runs `electron-vite build`, which writes import.meta.env.DEV as false.
    expect(text).not.toContain('import.meta.env');
    expect(text).toMatch(/shellPolicy\(\{[^}]*devBuild: false/);
    expect(text).toContain('setApplicationMenu');
  });
});
