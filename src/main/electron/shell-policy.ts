/**
 * What the Electron shell allows beyond the window itself: a development server, DevTools, and
 * the application menu. Decided here, as plain data from plain inputs, so tests can check every
 * case in Node; src/main/index.ts only applies the answer.
 */
import type { MenuItemConstructorOptions } from 'electron';

export interface ShellInputs {
  /** `app.isPackaged`. */
  isPackaged: boolean;
  /**
   * True only in a main-process bundle that `electron-vite dev` built (`import.meta.env.DEV`).
   * The bundle `npm start`, `npm run build` and packaging run is a production build: false.
   */
  devBuild: boolean;
  env: Readonly<Record<string, string | undefined>>;
}

export interface ShellPolicy {
  /** electron-vite's dev server to load the renderer from, or null for the built files. */
  devServerUrl: string | null;
  /** Whether the window may open DevTools at all (`webPreferences.devTools`). */
  devTools: boolean;
  /** Lines for stderr: what was asked for and refused, or switched on. */
  notices: string[];
}

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

function loopbackHttpUrl(raw: string): string | null {
  try {
    const url = new URL(raw);
    return url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname) ? url.href : null;
  } catch {
    return null;
  }
}

/**
 * `ELECTRON_RENDERER_URL` is honoured only in electron-vite's dev mode: a development bundle,
 * not packaged, started by `electron-vite dev` (which sets NODE_ENV_ELECTRON_VITE=development for
 * the Electron it spawns), and only for a loopback http origin. Anywhere else a page from that
 * URL would be handed the operator's approve button, so the variable is ignored, with a notice.
 * DevTools need an explicit `OPENEXEC_DEVTOOLS=1`, in any build.
 */
export function shellPolicy({ isPackaged, devBuild, env }: ShellInputs): ShellPolicy {
  const notices: string[] = [];
  let devServerUrl: string | null = null;
  const rendererUrl = env['ELECTRON_RENDERER_URL'];
  if (rendererUrl) {
    const devMode = devBuild && !isPackaged && env['NODE_ENV_ELECTRON_VITE'] === 'development';
    const url = loopbackHttpUrl(rendererUrl);
    if (!devMode) notices.push('ignoring ELECTRON_RENDERER_URL: it is honoured only under `electron-vite dev`');
    else if (url === null) notices.push('ignoring ELECTRON_RENDERER_URL: not a loopback http URL');
    else devServerUrl = url;
  }
  const flag = env['OPENEXEC_DEVTOOLS'];
  const devTools = flag === '1';
  if (devTools) notices.push('DevTools are enabled (OPENEXEC_DEVTOOLS=1): whoever uses them can act as the operator');
  else if (flag !== undefined && flag !== '' && flag !== '0')
    notices.push(`ignoring OPENEXEC_DEVTOOLS=${flag}: set it to 1 to enable DevTools`);
  return { devServerUrl, devTools, notices };
}

/**
 * The application menu: editing for the text fields, the window, and quit. Nothing that
 * reloads the page (an approval dialog would vanish mid-decision) or opens DevTools.
 */
export function applicationMenuTemplate(platform: NodeJS.Platform): MenuItemConstructorOptions[] {
  const edit: MenuItemConstructorOptions = {
    label: 'Edit',
    submenu: [
      { role: 'undo' },
      { role: 'redo' },
      { type: 'separator' },
      { role: 'cut' },
      { role: 'copy' },
      { role: 'paste' },
      { role: 'selectAll' },
    ],
  };
  const window: MenuItemConstructorOptions = { label: 'Window', submenu: [{ role: 'minimize' }, { role: 'close' }] };
  if (platform === 'darwin') {
    return [{ label: 'OpenExec Console', submenu: [{ role: 'hide' }, { type: 'separator' }, { role: 'quit' }] }, edit, window];
  }
  return [{ label: 'File', submenu: [{ role: 'quit' }] }, edit, window];
}
