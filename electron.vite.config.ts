import { resolve } from 'node:path';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'electron-vite';
import type { Plugin } from 'vite';
import { devRendererCsp } from './src/main/electron/csp';

/**
 * In `electron-vite dev` only, relax the page's CSP meta tag for Vite's client and React
 * Fast Refresh (an inline preamble and a websocket). Built files keep the strict policy.
 */
function devCspPlugin(): Plugin {
  return {
    name: 'openexec-dev-csp',
    apply: 'serve',
    transformIndexHtml(html, ctx) {
      const origin = ctx.server?.resolvedUrls?.local[0] ?? 'http://localhost:5173';
      const policy = devRendererCsp(new URL(origin).origin);
      return html.replace(/(<meta http-equiv="Content-Security-Policy" content=")[^"]*(")/, `$1${policy}$2`);
    },
  };
}

export default defineConfig({
  main: {
    build: {
      outDir: 'out/main',
      rollupOptions: { input: { index: resolve(import.meta.dirname, 'src/main/index.ts') } },
    },
  },
  preload: {
    build: {
      outDir: 'out/preload',
      // A sandboxed preload is one CommonJS file that requires nothing but `electron`.
      externalizeDeps: false,
      rollupOptions: {
        input: { index: resolve(import.meta.dirname, 'src/preload/index.ts') },
        external: ['electron'],
        output: { format: 'cjs', entryFileNames: '[name].cjs', codeSplitting: false },
      },
    },
  },
  renderer: {
    root: resolve(import.meta.dirname, 'src/renderer'),
    base: './',
    plugins: [react(), devCspPlugin()],
    build: {
      outDir: resolve(import.meta.dirname, 'out/renderer'),
      emptyOutDir: true,
      modulePreload: { polyfill: false },
      minify: true,
      assetsInlineLimit: 0,
      rollupOptions: { input: { index: resolve(import.meta.dirname, 'src/renderer/index.html') } },
    },
  },
});
