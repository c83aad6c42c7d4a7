import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadConfig } from '../../src/main/app/config.ts';
import { startOpenExec, type OpenExecApp } from '../../src/main/app/openexec-app.ts';

export const REPO_ROOT = resolve(import.meta.dirname, '../..');
export { CONFORMANCE_DIR, conformance } from './conformance.ts';

export function tempDir(prefix = 'openexec-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export interface RunningServer {
  app: OpenExecApp;
  url: string;
  dataDir: string;
  stop(): Promise<void>;
}

/** A real server on 127.0.0.1 with a real SQLite file in a fresh data directory. */
export async function startServer(env: Record<string, string> = {}): Promise<RunningServer> {
  const dataDir = tempDir();
  const config = loadConfig({ OPENEXEC_PORT: '0', ...env, OPENEXEC_DATA_DIR: env['OPENEXEC_DATA_DIR'] ?? dataDir });
  const app = await startOpenExec(config);
  return {
    app,
    url: app.address,
    dataDir: config.dataDir,
    async stop() {
      await app.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export interface JsonResponse {
  status: number;
  body: any;
  text: string;
}

export async function request(
  url: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<JsonResponse> {
  const init: RequestInit = { method, headers: { ...headers } };
  if (body !== undefined) {
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
    (init.headers as Record<string, string>)['content-type'] ??= 'application/json';
  }
  const res = await fetch(url + path, init);
  const text = await res.text();
  let parsed: unknown = null;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = null;
  }
  return { status: res.status, body: parsed, text };
}

export const post = (url: string, path: string, body: unknown, headers?: Record<string, string>) =>
  request(url, 'POST', path, body, headers);
export const get = (url: string, path: string, headers?: Record<string, string>) => request(url, 'GET', path, undefined, headers);

/** Registers agent `name` on a running server through the console contract; its token. */
export async function agentToken(s: RunningServer, name: string): Promise<string> {
  const added = await s.app.console.addAgent({ name });
  if (!added.ok) throw new Error(added.error.message);
  return added.value.token;
}
