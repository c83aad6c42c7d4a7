/**
 * Electron main entry: hosts the core and the loopback API in this process, opens the one
 * hardened console window, and exposes the console contract to it over IPC only.
 * The operator's signing key stays in this process; the renderer sees only ConsoleApi results.
 */
import { app, BrowserWindow, dialog, ipcMain, Menu, session } from 'electron';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { loadConfig } from './app/config';
import { startOpenExec, type OpenExecApp } from './app/openexec-app';
import { forwardConsoleEvents, registerConsoleIpc, sendConnectionState, trustedWindowOf } from './electron/console-ipc';
import { devRendererCsp, RENDERER_CSP_HEADER } from './electron/csp';
import { hardenSession, hardenWebContents } from './electron/security';
import { applicationMenuTemplate, shellPolicy } from './electron/shell-policy';
import { createConsoleWindow } from './electron/window';

const rendererFile = join(import.meta.dirname, '../renderer/index.html');
const preloadPath = join(import.meta.dirname, '../preload/index.cjs');

// import.meta.env.DEV is fixed when the bundle is built: true only in what `electron-vite dev` builds.
const policy = shellPolicy({ isPackaged: app.isPackaged, devBuild: import.meta.env.DEV, env: process.env });
for (const notice of policy.notices) console.warn(`openexec: ${notice}`);
const devUrl = policy.devServerUrl;
const appUrl = devUrl ?? pathToFileURL(rendererFile).href;

let core: OpenExecApp | null = null;
let win: BrowserWindow | null = null;

async function openWindow(): Promise<void> {
  win = await createConsoleWindow({
    preloadPath,
    renderer: devUrl ? { url: devUrl } : { file: rendererFile },
    devTools: policy.devTools,
  });
  win.on('closed', () => {
    win = null;
  });
}

function oneLine(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.split('\n')[0] ?? text;
}

async function main(): Promise<void> {
  await app.whenReady();
  Menu.setApplicationMenu(Menu.buildFromTemplate(applicationMenuTemplate(process.platform)));
  hardenSession(session.defaultSession, {
    appUrl,
    csp: devUrl ? devRendererCsp(new URL(devUrl).origin) : RENDERER_CSP_HEADER,
  });
  try {
    const config = await loadConfig(process.env, { dataDirDefault: app.getPath('userData') });
    core = await startOpenExec(config);
  } catch (err) {
    const message = oneLine(err);
    console.error(`openexec: ${message}`);
    dialog.showErrorBox('OpenExec Console could not start', message);
    app.exit(1);
    return;
  }
  console.log(`openexec: API listening on ${core.address}`);
  registerConsoleIpc(
    ipcMain,
    core.console,
    () => trustedWindowOf(win, appUrl),
    () => win,
  );
  forwardConsoleEvents(core.events, () => win);
  await openWindow();
  app.on('activate', () => {
    if (!win) void openWindow();
  });
}

app.enableSandbox();
if (!app.requestSingleInstanceLock()) {
  // Another console already owns the data directory and the port.
  app.quit();
} else {
  app.on('second-instance', () => {
    if (!win) return;
    if (win.isMinimized()) win.restore();
    win.focus();
  });
  app.on('web-contents-created', (_event, contents) => hardenWebContents(contents, appUrl));
  app.on('window-all-closed', () => app.quit());
  app.on('will-quit', (event) => {
    const running = core;
    if (!running) return;
    core = null;
    sendConnectionState(win, 'disconnected');
    event.preventDefault();
    running
      .close()
      .catch((err: unknown) => console.error(`openexec: shutdown: ${oneLine(err)}`))
      .finally(() => app.quit());
  });
  main().catch((err: unknown) => {
    console.error(`openexec: ${oneLine(err)}`);
    app.exit(1);
  });
}
