import { afterEach, describe, expect, test } from 'vitest';
import { execFileSync } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { chmodSync, mkdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { loadConfig, type LoadConfigOptions } from '../../src/main/app/config.ts';
import { startOpenExec } from '../../src/main/app/openexec-app.ts';
import { post, tempDir } from '../support/harness.ts';
import { skipNoted } from '../support/skip.ts';

const posix = process.platform !== 'win32';
const root = process.getuid?.() === 0;
const dirs: string[] = [];
const servers: Server[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

function dir(): string {
  const d = tempDir('openexec-starterr-');
  dirs.push(d);
  return d;
}

/** Starts with `env` over a fresh data directory; the refusal's message, or null when it started. */
async function refusal(env: Record<string, string>, options: LoadConfigOptions = {}): Promise<string | null> {
  try {
    const config = loadConfig({ OPENEXEC_PORT: '0', ...env }, options);
    const app = await startOpenExec(config);
    await app.close();
    return null;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

/** A data directory whose ledger already holds receipts (so a receipt key is bound to it). */
async function usedDataDir(): Promise<string> {
  const dataDir = dir();
  const app = await startOpenExec(loadConfig({ OPENEXEC_PORT: '0', OPENEXEC_DATA_DIR: dataDir }));
  expect((await post(app.address, '/execute', { action: 'echo', payload: {}, nonce: 'n' })).status).toBe(200);
  await app.close();
  return dataDir;
}

function occupiedPort(): Promise<number> {
  const server = createServer();
  servers.push(server);
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)));
}

type Case = [name: string, prepare: () => Promise<{ env: Record<string, string>; options?: LoadConfigOptions; names: string }>];

const VARIABLE_LINE = /^(OPENEXEC_[A-Z_]+|CLAWSHIELD_[A-Z_]+)(\/OPENEXEC_[A-Z_]+)?: \S/;

/**
 * Every start-up failure we can provoke: the line must name the variable to change or the file
 * to fix (`names`), be one line, and leave the data directory unlocked for the next start.
 */
const cases: Case[] = [
  ['unknown mode', async () => ({ env: { OPENEXEC_MODE: 'paranoid', OPENEXEC_DATA_DIR: dir() }, names: 'OPENEXEC_MODE' })],
  [
    'bad ClawShield key',
    async () => ({ env: { CLAWSHIELD_PUBLIC_KEY: 'nope', OPENEXEC_DATA_DIR: dir() }, names: 'CLAWSHIELD_PUBLIC_KEY' }),
  ],
  ['database URL scheme', async () => ({ env: { OPENEXEC_DB_URL: 'postgres://x/y', OPENEXEC_DATA_DIR: dir() }, names: 'OPENEXEC_DB_URL' })],
  [
    'in-memory database',
    async () => ({ env: { OPENEXEC_DB_URL: 'sqlite:///:memory:', OPENEXEC_DATA_DIR: dir() }, names: 'OPENEXEC_DB_URL' }),
  ],
  ['port text', async () => ({ env: { OPENEXEC_PORT: 'eighty', OPENEXEC_DATA_DIR: dir() }, names: 'OPENEXEC_PORT' })],
  ['synchronous', async () => ({ env: { OPENEXEC_SYNCHRONOUS: 'sometimes', OPENEXEC_DATA_DIR: dir() }, names: 'OPENEXEC_SYNCHRONOUS' })],
  ['proposal TTL', async () => ({ env: { OPENEXEC_PROPOSAL_TTL: '0', OPENEXEC_DATA_DIR: dir() }, names: 'OPENEXEC_PROPOSAL_TTL' })],
  ['clock skew', async () => ({ env: { OPENEXEC_CLOCK_SKEW: '-5', OPENEXEC_DATA_DIR: dir() }, names: 'OPENEXEC_CLOCK_SKEW' })],
  ['retention period', async () => ({ env: { OPENEXEC_RETENTION: 'ninety days', OPENEXEC_DATA_DIR: dir() }, names: 'OPENEXEC_RETENTION' })],
  ['retention under an hour', async () => ({ env: { OPENEXEC_RETENTION: '30m', OPENEXEC_DATA_DIR: dir() }, names: 'OPENEXEC_RETENTION' })],
  ['non-loopback host', async () => ({ env: { OPENEXEC_HOST: '0.0.0.0', OPENEXEC_DATA_DIR: dir() }, names: 'OPENEXEC_HOST' })],
  [
    'host not of this machine',
    async () => ({
      env: { OPENEXEC_HOST: '192.0.2.1', OPENEXEC_DATA_DIR: dir() },
      options: { allowNonLoopback: true },
      names: 'OPENEXEC_HOST',
    }),
  ],
  ['port in use', async () => ({ env: { OPENEXEC_PORT: String(await occupiedPort()), OPENEXEC_DATA_DIR: dir() }, names: 'OPENEXEC_PORT' })],
  [
    'data directory is a file',
    async () => {
      const file = join(dir(), 'file');
      writeFileSync(file, '');
      return { env: { OPENEXEC_DATA_DIR: file }, names: 'OPENEXEC_DATA_DIR' };
    },
  ],
  [
    'data directory under a file',
    async () => {
      const file = join(dir(), 'file');
      writeFileSync(file, '');
      return { env: { OPENEXEC_DATA_DIR: join(file, 'data') }, names: 'OPENEXEC_DATA_DIR' };
    },
  ],
  [
    'data directory writable by others',
    async () => {
      const d = dir();
      chmodSync(d, 0o777);
      return { env: { OPENEXEC_DATA_DIR: d }, names: 'OPENEXEC_DATA_DIR' };
    },
  ],
  [
    'lock file is a directory',
    async () => {
      const d = dir();
      mkdirSync(join(d, 'openexec.lock'));
      return { env: { OPENEXEC_DATA_DIR: d }, names: 'OPENEXEC_DATA_DIR' };
    },
  ],
  [
    'lock file is a FIFO',
    async () => {
      const d = dir();
      execFileSync('mkfifo', ['-m', '600', join(d, 'openexec.lock')]);
      return { env: { OPENEXEC_DATA_DIR: d }, names: 'OPENEXEC_DATA_DIR' };
    },
  ],
  [
    'database is not a database',
    async () => {
      const d = dir();
      writeFileSync(join(d, 'openexec.db'), 'this is not SQLite, but it is long enough to have a header...'.repeat(20), { mode: 0o600 });
      return { env: { OPENEXEC_DATA_DIR: d }, names: 'OPENEXEC_DB_URL' };
    },
  ],
  [
    'stored allow-list corrupt',
    async () => {
      const d = await usedDataDir();
      const db = new Database(join(d, 'openexec.db'));
      db.prepare('INSERT OR REPLACE INTO settings (key, value) VALUES (\'allow_list\', \'{"not":"a list"}\')').run();
      db.close();
      return { env: { OPENEXEC_DATA_DIR: d }, names: 'OPENEXEC_DB_URL' };
    },
  ],
  [
    'receipt key is not a key',
    async () => {
      const d = dir();
      writeFileSync(join(d, 'receipt-key.pem'), 'garbage\n', { mode: 0o600 });
      return { env: { OPENEXEC_DATA_DIR: d }, names: join(d, 'receipt-key.pem') };
    },
  ],
  [
    'receipt key missing under a signed ledger',
    async () => {
      const d = await usedDataDir();
      rmSync(join(d, 'receipt-key.pem'));
      return { env: { OPENEXEC_DATA_DIR: d }, names: join(d, 'receipt-key.pem') };
    },
  ],
  [
    'operator key readable by others',
    async () => {
      const d = await usedDataDir();
      chmodSync(join(d, 'operator-key.pem'), 0o644);
      return { env: { OPENEXEC_DATA_DIR: d }, names: join(d, 'operator-key.pem') };
    },
  ],
  [
    'receipt key is a FIFO',
    async () => {
      const d = dir();
      execFileSync('mkfifo', ['-m', '600', join(d, 'receipt-key.pem')]);
      return { env: { OPENEXEC_DATA_DIR: d }, names: join(d, 'receipt-key.pem') };
    },
  ],
  [
    'operator key is a link',
    async () => {
      const d = await usedDataDir();
      rmSync(join(d, 'operator-key.pem'));
      symlinkSync(join(d, 'receipt-key.pem'), join(d, 'operator-key.pem'));
      return { env: { OPENEXEC_DATA_DIR: d }, names: join(d, 'operator-key.pem') };
    },
  ],
  [
    'console token cannot be written',
    async () => {
      const d = dir();
      mkdirSync(join(d, 'console-token', 'occupied'), { recursive: true });
      return { env: { OPENEXEC_DATA_DIR: d }, names: 'OPENEXEC_DATA_DIR' };
    },
  ],
  [
    'server.json cannot be written',
    async () => {
      const d = dir();
      mkdirSync(join(d, 'server.json', 'occupied'), { recursive: true });
      return { env: { OPENEXEC_DATA_DIR: d }, names: 'OPENEXEC_DATA_DIR' };
    },
  ],
];

describe.runIf(posix)('every start-up error line names its variable or file', () => {
  test.each(cases)('%s', async (_name, prepare) => {
    const { env, options, names } = await prepare();
    const message = await refusal(env, options);
    expect(message).not.toBeNull();
    expect(message).not.toContain('\n');
    if (names.startsWith('/')) expect(message).toContain(names);
    else {
      expect(message).toMatch(VARIABLE_LINE);
      expect(message!.split(':')[0]!.split('/')).toContain(names);
    }
    // Whatever failed, the data directory's lock was released and no server.json is left behind.
    const dataDir = env['OPENEXEC_DATA_DIR']!;
    for (const f of ['openexec.lock', 'server.json'])
      expect(statSync(join(dataDir, f), { throwIfNoEntry: false })?.isFile() ?? false, f).toBe(false);
  });

  const name = 'a port that needs privileges names OPENEXEC_PORT';
  test.skipIf(skipNoted(root, name, 'running as root, which may listen on port 1'))(name, async () => {
    expect(await refusal({ OPENEXEC_PORT: '1', OPENEXEC_DATA_DIR: dir() })).toMatch(
      /^OPENEXEC_PORT: not permitted to listen on 127\.0\.0\.1:1/,
    );
  });
});

describe('clawshield mode without CLAWSHIELD_PUBLIC_KEY', () => {
  test('is named in the warnings the Status view shows, and only there when it applies', async () => {
    const warning = /^clawshield mode without CLAWSHIELD_PUBLIC_KEY: only approvals given in this console/;
    for (const [env, expected] of [
      [{ OPENEXEC_MODE: 'clawshield' }, true],
      [{ OPENEXEC_MODE: 'demo' }, false],
    ] as const) {
      const app = await startOpenExec(loadConfig({ OPENEXEC_PORT: '0', OPENEXEC_DATA_DIR: dir(), ...env }));
      const health = await app.console.health();
      await app.close();
      expect(health.ok).toBe(true);
      const warnings = health.ok ? health.value.warnings : [];
      expect(warnings.some((w) => warning.test(w))).toBe(expected);
    }
  });
});
