import { afterEach, describe, expect, test } from 'vitest';
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../../src/main/app/config.ts';
import { startOpenExec } from '../../src/main/app/openexec-app.ts';
import { post, tempDir } from '../support/harness.ts';
import { skipNoted } from '../support/skip.ts';

const dirs: string[] = [];
function dir(): string {
  const d = tempDir('openexec-dbfiles-');
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const posix = process.platform !== 'win32';
const root = typeof process.getuid === 'function' && process.getuid() === 0;

/** Starts with the database at `dbPath` (outside the data directory); the refusal's message, or null when it started. */
async function startWith(dbPath: string, dataDir = dir()): Promise<string | null> {
  const config = loadConfig({ OPENEXEC_PORT: '0', OPENEXEC_DATA_DIR: dataDir, OPENEXEC_DB_URL: `sqlite:///${dbPath}` });
  try {
    const app = await startOpenExec(config);
    await app.close();
    return null;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

/** A database that has been used once (so it exists, with its -wal and -shm), then stopped. */
async function usedDatabase(): Promise<{ dbPath: string; dataDir: string }> {
  const dataDir = dir();
  const dbPath = join(dir(), 'ledger.db');
  const app = await startOpenExec(loadConfig({ OPENEXEC_PORT: '0', OPENEXEC_DATA_DIR: dataDir, OPENEXEC_DB_URL: `sqlite:///${dbPath}` }));
  expect((await post(app.address, '/execute', { action: 'echo', payload: {}, nonce: 'n1' })).status).toBe(200);
  await app.close();
  return { dbPath, dataDir };
}

function expectOneLine(message: string | null, pattern: RegExp): void {
  expect(message).toMatch(pattern);
  expect(message).not.toContain('\n');
}

const quoted = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe.runIf(posix)("a database named by OPENEXEC_DB_URL gets the data directory's rules", () => {
  test('a database directory other users can write to is refused, naming the variable and the directory', async () => {
    const elsewhere = dir();
    chmodSync(elsewhere, 0o777);
    const dbPath = join(elsewhere, 'ledger.db');
    expectOneLine(
      await startWith(dbPath),
      new RegExp(`^OPENEXEC_DB_URL: ${quoted(elsewhere)} is writable by other users; run chmod 700 ${quoted(elsewhere)}$`),
    );
    chmodSync(elsewhere, 0o1777); // sticky, like /tmp: still writable by others, still refused
    expectOneLine(await startWith(dbPath), /^OPENEXEC_DB_URL: .* is writable by other users/);
    chmodSync(elsewhere, 0o770);
    expectOneLine(await startWith(dbPath), /^OPENEXEC_DB_URL: .* is writable by other users/);
    chmodSync(elsewhere, 0o700);
    expect(await startWith(dbPath)).toBeNull();
  });

  test('a database file, -wal or -shm that group or others can write is refused, naming the file', async () => {
    const { dbPath, dataDir } = await usedDatabase();
    for (const [file, mode] of [
      [dbPath, 0o660],
      [dbPath, 0o606],
      [`${dbPath}-wal`, 0o666],
      [`${dbPath}-shm`, 0o620],
    ] as const) {
      writeFileSync(file, '', { flag: 'a' });
      chmodSync(file, mode);
      expectOneLine(
        await startWith(dbPath, dataDir),
        new RegExp(`^OPENEXEC_DB_URL: ${quoted(file)} is writable by other users; run chmod 600 ${quoted(file)}$`),
      );
      chmodSync(file, 0o600);
    }
    // Refusals released the data directory's lock; the database itself is intact.
    expect(await startWith(dbPath, dataDir)).toBeNull();
  });

  test('a -wal planted before the first start is refused', async () => {
    const elsewhere = dir();
    const dbPath = join(elsewhere, 'fresh.db');
    writeFileSync(`${dbPath}-wal`, '', { mode: 0o666 });
    chmodSync(`${dbPath}-wal`, 0o666);
    expectOneLine(await startWith(dbPath), /^OPENEXEC_DB_URL: .*fresh\.db-wal is writable by other users/);
  });

  test('links and non-files are refused rather than followed or opened (a FIFO would hang the open)', async () => {
    const { dbPath, dataDir } = await usedDatabase();
    const link = join(dir(), 'link.db');
    symlinkSync(dbPath, link);
    expectOneLine(await startWith(link, dataDir), new RegExp(`^OPENEXEC_DB_URL: ${quoted(link)} is a symbolic link; name the real file$`));
    const fifo = join(dir(), 'fifo.db');
    execFileSync('mkfifo', [fifo]);
    expectOneLine(await startWith(fifo, dataDir), new RegExp(`^OPENEXEC_DB_URL: ${quoted(fifo)} is not a regular file$`));
    const notDir = join(dir(), 'plain');
    writeFileSync(notDir, '');
    expectOneLine(
      await startWith(join(notDir, 'x.db'), dataDir),
      /^OPENEXEC_DB_URL: cannot create the database directory .*plain: (EEXIST|ENOTDIR)$/,
    );
  });

  test('a missing database directory is created 0700 and the database starts', async () => {
    const dbPath = join(dir(), 'a', 'b', 'ledger.db');
    expect(await startWith(dbPath)).toBeNull();
  });

  const name = 'a database, -wal or directory owned by another user is refused';
  test.skipIf(skipNoted(!root, name, 'not root: cannot make files owned by another user'))(name, async () => {
    const { dbPath, dataDir } = await usedDatabase();
    for (const file of [dbPath, `${dbPath}-wal`]) {
      writeFileSync(file, '', { flag: 'a' });
      chownSync(file, 65534, 65534);
      expectOneLine(await startWith(dbPath, dataDir), new RegExp(`^OPENEXEC_DB_URL: ${quoted(file)} belongs to another user$`));
      chownSync(file, 0, 0);
    }
    const otherDir = join(dir(), 'theirs');
    mkdirSync(otherDir, { mode: 0o700 });
    chownSync(otherDir, 65534, 65534);
    expectOneLine(await startWith(join(otherDir, 'x.db'), dataDir), /^OPENEXEC_DB_URL: .*theirs belongs to another user$/);
  });
});
