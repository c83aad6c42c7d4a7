/**
 * The one console window, created with every webPreferences item of the security checklist.
 */
import { BrowserWindow } from 'electron';

export interface ConsoleWindowOptions {
  /** Absolute path of the built preload (out/preload/index.cjs). */
  preloadPath: string;
  /** The renderer: an absolute index.html path, or a loopback dev server URL. */
  renderer: { file: string } | { url: string };
}

export const CONSOLE_WEB_PREFERENCES = {
  sandbox: true,
  contextIsolation: true,
  nodeIntegration: false,
  nodeIntegrationInWorker: false,
  nodeIntegrationInSubFrames: false,
  webSecurity: true,
  allowRunningInsecureContent: false,
  webviewTag: false,
  experimentalFeatures: false,
  navigateOnDragDrop: false,
  safeDialogs: true,
  spellcheck: false,
  enableWebSQL: false,
} as const;

export async function createConsoleWindow(options: ConsoleWindowOptions): Promise<BrowserWindow> {
  const win = new BrowserWindow({
    width: 1280,
    height: 820,
    minWidth: 900,
    minHeight: 560,
    show: false,
    title: 'OpenExec Console',
    backgroundColor: '#16181d',
    webPreferences: { ...CONSOLE_WEB_PREFERENCES, preload: options.preloadPath },
  });
  win.once('ready-to-show', () => win.show());
  if ('file' in options.renderer) await win.loadFile(options.renderer.file);
  else await win.loadURL(options.renderer.url);
  return win;
}
