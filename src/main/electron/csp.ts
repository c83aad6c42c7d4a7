/**
 * The renderer's Content-Security-Policy. Electron-free so tests can compare it with the meta
 * tag in src/renderer/index.html (test/electron/csp.test.ts).
 *
 * Nothing remote, no inline script, no eval, no plugins, no frames, no network at all
 * (`connect-src 'none'`): the renderer talks only to window.openexec. React's `style={{...}}`
 * sets styles through the CSSOM, which `style-src 'self'` does not block.
 */
export const RENDERER_CSP_DIRECTIVES = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'none'",
  "media-src 'none'",
  "object-src 'none'",
  "frame-src 'none'",
  "child-src 'none'",
  "worker-src 'none'",
  "manifest-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
] as const;

/** The policy in the page's meta tag (frame-ancestors is ignored there, so it is header-only). */
export const RENDERER_CSP_META = RENDERER_CSP_DIRECTIVES.join('; ');

/** The policy sent as a response header by the session. */
export const RENDERER_CSP_HEADER = `${RENDERER_CSP_META}; frame-ancestors 'none'`;

/**
 * Development only (electron-vite dev server): Vite's client and React Fast Refresh need an
 * inline preamble, a websocket and injected styles. Never used for a built app.
 */
export function devRendererCsp(devOrigin: string): string {
  const ws = devOrigin.replace(/^http/, 'ws');
  return [
    "default-src 'none'",
    `script-src 'self' 'unsafe-inline' ${devOrigin}`,
    `style-src 'self' 'unsafe-inline' ${devOrigin}`,
    `img-src 'self' data: ${devOrigin}`,
    `font-src 'self' ${devOrigin}`,
    `connect-src ${devOrigin} ${ws}`,
    "object-src 'none'",
    "frame-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');
}
