/**
 * The one console window, created with every webPreferences item of the security checklist.
 */
import { BrowserWindow } from 'electron';

export interface ConsoleWindowOptions {
  /** Absolute path of the built preload (out/preload/index.cjs). */
  preloadPath: string;
  /** The renderer: an absolute index.html path, or a loopback dev server URL. */
  renderer: { file: string } | { url: string };
  /** DevTools only when the shell policy allows them (OPENEXEC_DEVTOOLS=1). */
  devTools: boolean;
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
  devTools: false,
} as const;

/** The window's webPreferences: the checklist, the preload, and DevTools only when allowed. */
export function consoleWebPreferences(preloadPath: string, devTools: boolean) {
  return { ...CONSOLE_WEB_PREFERENCES, devTools, preload: preloadPath };
}

export async function createConsoleWindow(options: ConsoleWindowOptions): Promise<BrowserWindow> {
  const win = new BrowserWindow({
    width: 1280,
    height: 820,
    minWidth: 900,
    minHeight: 560,
    show: false,
    title: 'OpenExec Console',
    backgroundColor: '#16181d',
    webPreferences: consoleWebPreferences(options.preloadPath, options.devTools),
  });
  win.once('ready-to-show', () => win.show());
  if ('file' in options.renderer) await win.loadFile(options.renderer.file);
  else await win.loadURL(options.renderer.url);
  return win;
}
