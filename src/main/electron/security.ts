/**
 * Electron security checklist, applied in one place (docs/electron-security.md lists each item).
 */
import type { Session, WebContents } from 'electron';
import { isAppUrl } from '../ipc/app-url';

export interface HardenOptions {
  /** The URL the renderer is loaded from (file://…/index.html, or the dev server URL). */
  appUrl: string;
  /** The Content-Security-Policy to send with every response. */
  csp: string;
}

/**
 * What the session may load at all: the app's own files, devtools, data: images and blob: URLs
 * (only the page itself can mint those; the ledger export downloads one). Everything else —
 * http, https, ws, ftp, other files — is cancelled.
 */
export function isAllowedRequest(url: string, appUrl: string): boolean {
  if (url.startsWith('devtools://') || url.startsWith('data:') || url.startsWith('blob:')) return true;
  if (isAppUrl(url, appUrl)) return true;
  // Sibling files of the built renderer (scripts, styles) live under the same directory.
  try {
    const target = new URL(url);
    const app = new URL(appUrl);
    if (app.protocol === 'file:' && target.protocol === 'file:') {
      const root = app.pathname.slice(0, app.pathname.lastIndexOf('/') + 1);
      return target.pathname.startsWith(root) && !target.pathname.includes('/../');
    }
    if (app.protocol === 'http:') {
      return target.origin === app.origin || target.origin === app.origin.replace(/^http/, 'ws');
    }
  } catch {
    return false;
  }
  return false;
}

/** Denies every permission, refuses every network request, and sends the CSP header. */
export function hardenSession(session: Session, options: HardenOptions): void {
  session.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  session.setPermissionCheckHandler(() => false);
  session.setDevicePermissionHandler(() => false);
  session.setSpellCheckerEnabled(false);
  session.webRequest.onBeforeRequest((details, callback) => {
    callback({ cancel: !isAllowedRequest(details.url, options.appUrl) });
  });
  session.webRequest.onHeadersReceived((details, callback) => {
    const headers = { ...details.responseHeaders };
    for (const key of Object.keys(headers)) {
      if (key.toLowerCase() === 'content-security-policy') delete headers[key];
    }
    headers['Content-Security-Policy'] = [options.csp];
    callback({ responseHeaders: headers });
  });
}

/**
 * Applied to every WebContents the app creates: no navigation away from the app, no new
 * windows, no <webview>, no frame navigating elsewhere.
 */
export function hardenWebContents(contents: WebContents, appUrl: string): void {
  contents.setWindowOpenHandler(() => ({ action: 'deny' }));
  contents.on('will-navigate', (event, url) => {
    if (!isAppUrl(url, appUrl)) event.preventDefault();
  });
  contents.on('will-frame-navigate', (event) => {
    if (!event.isMainFrame || !isAppUrl(event.url, appUrl)) event.preventDefault();
  });
  contents.on('will-redirect', (event) => {
    event.preventDefault();
  });
  contents.on('will-attach-webview', (event) => {
    event.preventDefault();
  });
}
