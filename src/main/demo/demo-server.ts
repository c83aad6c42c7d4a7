import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { DEMO_TENANT } from './approver.ts';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
export const DEMO_MANIFEST = join(REPO_ROOT, 'demo/actions.yaml');
export const OPENEXEC_BIN = join(REPO_ROOT, 'bin/openexec');
const FILES_PLACEHOLDER = '${DEMO_FILES}';
const STARTUP_TIMEOUT_MS = 60_000;

export class DemoSetupError extends Error {}

const WELCOME = `Welcome to the OpenExec demo.
This file was read by a declared action (/usr/bin/cat), on a signed decision of the operator.
`;

/**
 * The environment for every process the demo starts: the caller's, without any OpenExec or
 * ClawShield setting, so that the demo never points at (or writes into) the caller's own ledger.
 */
export function demoEnv(extra: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && !k.startsWith('OPENEXEC_') && !k.startsWith('CLAWSHIELD_')) env[k] = v;
  }
  return { ...env, ...extra };
}

/** A fresh data directory: the one given (created, or empty), else a new temporary one. */
export function freshDataDir(given: string | undefined): { dataDir: string; temporary: boolean } {
  if (given === undefined) return { dataDir: mkdtempSync(join(tmpdir(), 'openexec-demo-')), temporary: true };
  const dataDir = resolve(given);
  if (existsSync(dataDir)) {
    if (readdirSync(dataDir).length > 0)
      throw new DemoSetupError(`--data-dir ${dataDir} is not empty; the demo starts a fresh ledger (give a new or empty directory)`);
    chmodSync(dataDir, 0o700);
  } else {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  }
  return { dataDir, temporary: false };
}

/**
 * Writes the demo's manifest into the data directory, with its files folder filled in, and the
 * files the actions use. Returns the manifest's path and its action names (the allow-list).
 */
export function installDemoActions(dataDir: string): { manifest: string; actions: string[] } {
  const files = join(dataDir, 'files');
  mkdirSync(join(files, 'notes'), { recursive: true, mode: 0o700 });
  writeFileSync(join(files, 'welcome.txt'), WELCOME, { mode: 0o600 });
  const text = readFileSync(DEMO_MANIFEST, 'utf8').replaceAll(FILES_PLACEHOLDER, files);
  const manifest = join(dataDir, 'actions.yaml');
  writeFileSync(manifest, text, { mode: 0o600 });
  const actions = Object.keys((parse(text) as { actions: Record<string, unknown> }).actions);
  return { manifest, actions };
}

export interface DemoServer {
  url: string;
  child: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

/** The console window could not be opened (no Electron binary, a failed build, another console open …). */
export class WindowUnavailable extends DemoSetupError {}

/** Whether a window could be shown at all: a desktop, or an X11 or Wayland display. */
export function displayAvailable(env: NodeJS.ProcessEnv = process.env): boolean {
  return process.platform === 'darwin' || process.platform === 'win32' || Boolean(env['DISPLAY'] || env['WAYLAND_DISPLAY']);
}

export type DemoHost = 'window' | 'headless';

/** How each host is started, and the line it prints once its API listens. */
const HOSTS: Record<DemoHost, { args: string[]; ready: RegExp; timeoutMs: number }> = {
  // `npm start`: builds the console, then opens it in Electron; exits 1 in one line without Electron.
  window: { args: [join(REPO_ROOT, 'scripts/start.mjs')], ready: /openexec: API listening on (http:\/\/\S+)/, timeoutMs: 180_000 },
  // `npm run serve`.
  headless: {
    args: ['--import', 'tsx', join(REPO_ROOT, 'src/main/headless.ts')],
    ready: /OpenExec listening on (http:\/\/\S+)/,
    timeoutMs: STARTUP_TIMEOUT_MS,
  },
};

/**
 * OpenExec in its own process (the console window, or `npm run serve`), in ClawShield mode,
 * trusting the demo's approver key.
 */
export function startDemoServer(
  host: DemoHost,
  dataDir: string,
  approverPem: string,
  manifest: string,
  actions: string[],
): Promise<DemoServer> {
  const { args, ready, timeoutMs } = HOSTS[host];
  const Failure = host === 'window' ? WindowUnavailable : DemoSetupError;
  const child = spawn(process.execPath, args, {
    cwd: REPO_ROOT,
    env: demoEnv({
      OPENEXEC_DATA_DIR: dataDir,
      OPENEXEC_HOST: '127.0.0.1',
      OPENEXEC_PORT: '0',
      OPENEXEC_MODE: 'clawshield',
      CLAWSHIELD_PUBLIC_KEY: approverPem,
      CLAWSHIELD_TENANT_ID: DEMO_TENANT,
      // Every agent request names its agent: the receipts say who asked.
      OPENEXEC_REQUIRE_AGENT_TOKEN: '1',
      OPENEXEC_ACTIONS: manifest,
      OPENEXEC_ALLOWED_ACTIONS: actions.join(','),
    }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  // However the demo ends (an uncaught error, process.exit), its server does not outlive it.
  const killOnExit = () => child.kill('SIGTERM');
  process.once('exit', killOnExit);
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  exited.then(
    () => process.off('exit', killOnExit),
    () => undefined,
  );
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  return new Promise((resolvePromise, reject) => {
    const lastLine = () => out.trim().split('\n').pop() ?? '';
    const timer = setTimeout(() => {
      void stop();
      reject(new Failure(`OpenExec did not start within ${timeoutMs / 1000} s: ${lastLine()}`));
    }, timeoutMs);
    const onData = () => {
      const m = ready.exec(out);
      if (!m) return;
      clearTimeout(timer);
      child.stdout!.off('data', onData);
      resolvePromise({ url: m[1]!, child, output: () => out, stop });
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Failure(`OpenExec exited (code ${code}) before it was ready: ${lastLine()}`));
    });
  });
}
