/**
 * Which URLs are the console itself. Both the IPC sender check and the window's navigation
 * guard (src/main/electron/security.ts) ask this, so it lives on its own, Electron-free.
 */

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * True when `url` is the app itself: the same file:// document (any #fragment), or, for a
 * development server, the same loopback http origin.
 */
export function isAppUrl(url: string, appUrl: string): boolean {
  let actual: URL;
  let expected: URL;
  try {
    actual = new URL(url);
    expected = new URL(appUrl);
  } catch {
    return false;
  }
  if (expected.protocol === 'file:') {
    return actual.protocol === 'file:' && actual.host === expected.host && actual.pathname === expected.pathname;
  }
  if (expected.protocol === 'http:' && LOOPBACK_HOSTS.has(expected.hostname)) {
    return actual.origin === expected.origin;
  }
  return false;
}
