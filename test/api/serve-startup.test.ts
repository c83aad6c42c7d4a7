import { describe, expect, test } from 'vitest';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, closeSync, openSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { get, post, REPO_ROOT, tempDir } from '../support/harness.ts';
import { NODE_BIN, spawnServer, waitForExit } from '../support/server-process.ts';

/** Runs `npm run serve`'s entry expecting it to refuse to start; returns its exit code and stderr. */
function refusedStart(env: Record<string, string>, args: string[] = []): Promise<{ code: number | null; stderr: string; stdout: string }> {
  const child = spawn(NODE_BIN, ['--import', 'tsx', 'src/main/headless.ts', ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, OPENEXEC_PORT: '0', OPENEXEC_DATA_DIR: tempDir(), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  let stdout = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, stderr, stdout })));
}

describe('npm run serve: start-up and shutdown', () => {
  test.each([
    [{ OPENEXEC_MODE: 'paranoid' }, /^openexec: OPENEXEC_MODE: unknown mode 'paranoid'/],
    [{ CLAWSHIELD_PUBLIC_KEY: 'not a key' }, /^openexec: CLAWSHIELD_PUBLIC_KEY: /],
    [{ OPENEXEC_DB_URL: 'mysql://db/openexec' }, /^openexec: OPENEXEC_DB_URL: unsupported scheme 'mysql'/],
    [
      { OPENEXEC_DB_URL: 'postgresql://db.example/openexec' },
      /^openexec: OPENEXEC_DB_URL: postgresql:\/\/db\.example\/openexec would send the ledger and the database password to db\.example without TLS/,
    ],
    [{ OPENEXEC_PORT: 'eighty' }, /^openexec: OPENEXEC_PORT: /],
    [{ OPENEXEC_HOST: '0.0.0.0' }, /^openexec: OPENEXEC_HOST: 0\.0\.0\.0 is not a loopback address/],
    [
      { OPENEXEC_HOST: '0.0.0.0', OPENEXEC_ALLOW_NON_LOOPBACK: '1' },
      /^openexec: OPENEXEC_HOST: 0\.0\.0\.0 is not a loopback address and OPENEXEC_TLS_CERT\/OPENEXEC_TLS_KEY are not set/,
    ],
  ])('%o stops start-up with one clear line', async (env, message) => {
    const r = await refusedStart(env);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stdout).toBe('');
  });

  test('plain HTTP on a non-loopback bind needs the flag and OPENEXEC_ALLOW_PLAINTEXT, and then warns loudly', async () => {
    const dataDir = tempDir();
    const server = await spawnServer({ OPENEXEC_DATA_DIR: dataDir, OPENEXEC_HOST: '0.0.0.0', OPENEXEC_ALLOW_PLAINTEXT: '1' }, [
      '--allow-non-loopback',
    ]);
    expect(server.output()).toMatch(/warning: the API listens on 0\.0\.0\.0, which is not loopback/);
    expect(server.output()).toMatch(/warning: PLAIN HTTP BEYOND LOOPBACK \(OPENEXEC_ALLOW_PLAINTEXT=1\): the console token/);
    server.child.kill('SIGTERM');
    await waitForExit(server.child);
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('prints its address when ready, keeps keys and token 0600, stops cleanly on SIGTERM and SIGINT', async () => {
    const dataDir = tempDir();
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      const server = await spawnServer({ OPENEXEC_DATA_DIR: dataDir, OPENEXEC_DB_URL: 'sqlite:///ledger/main.db' });
      expect(server.output()).toMatch(/^OpenExec listening on http:\/\/127\.0\.0\.1:\d+ \(mode demo, data /m);
      expect((await get(server.url, '/ready')).body).toEqual({ ready: true });
      for (const f of ['receipt-key.pem', 'operator-key.pem', 'console-token']) {
        expect((statSync(join(dataDir, f)).mode & 0o777).toString(8), f).toBe('600');
      }
      expect(statSync(join(dataDir, 'ledger/main.db')).isFile()).toBe(true);
      server.child.kill(signal);
      const exit = await waitForExit(server.child);
      expect(exit.code).toBe(0);
      expect(server.output()).toContain(`OpenExec stopped (${signal})`);
    }
    rmSync(dataDir, { recursive: true, force: true });
  });
});

describe('the data directory', () => {
  test("one OpenExec at a time; a second start leaves the first one's token alone", async () => {
    const dataDir = tempDir();
    const first = await spawnServer({ OPENEXEC_DATA_DIR: dataDir });
    const token = readFileSync(join(dataDir, 'console-token'), 'utf8');
    const second = await refusedStart({ OPENEXEC_DATA_DIR: dataDir });
    expect(second.code).toBe(2);
    expect(second.stderr).toMatch(/^openexec: OPENEXEC_DATA_DIR: another OpenExec \(pid \d+\) is using /);
    expect(readFileSync(join(dataDir, 'console-token'), 'utf8')).toBe(token);
    first.child.kill('SIGKILL');
    await waitForExit(first.child);
    // A lock left by a killed process is taken over.
    const third = await spawnServer({ OPENEXEC_DATA_DIR: dataDir });
    third.child.kill('SIGTERM');
    expect((await waitForExit(third.child)).code).toBe(0);
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('a data directory others can write to is refused; the ledger file is 0600', async () => {
    const dataDir = tempDir();
    chmodSync(dataDir, 0o777);
    const r = await refusedStart({ OPENEXEC_DATA_DIR: dataDir });
    expect(r.stderr).toMatch(/is writable by other users; run chmod 700/);
    chmodSync(dataDir, 0o700);
    const elsewhere = tempDir();
    const server = await spawnServer({ OPENEXEC_DATA_DIR: dataDir, OPENEXEC_DB_URL: `sqlite:///${join(elsewhere, 'ledger.db')}` });
    await post(server.url, '/execute', { action: 'echo', payload: {}, nonce: 'perm' });
    for (const f of ['ledger.db', 'ledger.db-wal']) expect((statSync(join(elsewhere, f)).mode & 0o777).toString(8), f).toBe('600');
    server.child.kill('SIGTERM');
    await waitForExit(server.child);
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(elsewhere, { recursive: true, force: true });
  });
});

describe('start-up never hangs, and says what an operator must know', () => {
  test.runIf(process.platform !== 'win32')(
    'a FIFO as receipt-key.pem fails fast with one line naming it; SIGTERM during start-up still stops it',
    async () => {
      const dataDir = tempDir();
      const key = join(dataDir, 'receipt-key.pem');
      execFileSync('mkfifo', ['-m', '600', key]);
      const r = await refusedStart({ OPENEXEC_DATA_DIR: dataDir });
      expect(r.code).toBe(2);
      expect(r.stderr).toBe(`openexec: key file ${key} is not a regular file\n`);
      // Were the open to block, the child would sit in it past this SIGTERM, unable to handle it,
      // and never exit; now it has long failed (or, on a slow machine, stops on the signal).
      const child = spawn(NODE_BIN, ['--import', 'tsx', 'src/main/headless.ts'], {
        cwd: REPO_ROOT,
        env: { ...process.env, OPENEXEC_PORT: '0', OPENEXEC_DATA_DIR: dataDir },
        stdio: 'ignore',
      });
      const term = setTimeout(() => child.kill('SIGTERM'), 3000);
      const exit = await waitForExit(child);
      clearTimeout(term);
      expect(exit.code === 2 || exit.signal === 'SIGTERM').toBe(true);
      rmSync(dataDir, { recursive: true, force: true });
    },
  );

  test('clawshield mode without CLAWSHIELD_PUBLIC_KEY says that only console approvals can execute', async () => {
    const dataDir = tempDir();
    const server = await spawnServer({ OPENEXEC_DATA_DIR: dataDir, OPENEXEC_MODE: 'clawshield', CLAWSHIELD_PUBLIC_KEY: '' });
    expect(server.output()).toMatch(
      /^openexec: warning: clawshield mode without CLAWSHIELD_PUBLIC_KEY: only approvals given in this console .* can execute/m,
    );
    server.child.kill('SIGTERM');
    await waitForExit(server.child);
    rmSync(dataDir, { recursive: true, force: true });
  });
});

describe('stdout and stderr that cannot be written never stop the server', () => {
  /** The server with stderr on `stderr` (stdout stays a pipe, for its address). */
  async function serveWithStderr(stderr: 'pipe' | number): Promise<{ child: ChildProcess; url: string; dataDir: string }> {
    const dataDir = tempDir();
    const child = spawn(NODE_BIN, ['--import', 'tsx', 'src/main/headless.ts'], {
      cwd: REPO_ROOT,
      env: { ...process.env, OPENEXEC_PORT: '0', OPENEXEC_DATA_DIR: dataDir },
      stdio: ['ignore', 'pipe', stderr],
    });
    // A reader that is gone: every write the server makes to stderr now fails with EPIPE.
    child.stderr?.destroy();
    let out = '';
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /OpenExec listening on (http:\/\/\S+)/.exec(out);
        if (m) resolve(m[1]!);
      });
      child.on('exit', (code) => reject(new Error(`server exited with ${code}: ${out}`)));
    });
    return { child, url, dataDir };
  }

  test.each([
    ['stderr on a full device (/dev/full: ENOSPC)', () => openSync('/dev/full', 'w')],
    ['stderr a pipe nobody reads any more (EPIPE)', () => 'pipe' as const],
  ])('%s', async (_name, stderr) => {
    const fd = stderr();
    const { child, url, dataDir } = await serveWithStderr(fd);
    if (typeof fd === 'number') closeSync(fd);
    // Its start-up warnings went to stderr and failed; it still serves, reads and writes.
    for (let i = 0; i < 3; i++) {
      expect((await get(url, '/health')).status).toBe(200);
      expect((await post(url, '/execute', { action: 'echo', payload: { i }, nonce: `stdio-${i}` })).status).toBe(200);
    }
    expect(child.exitCode).toBeNull();
    child.kill('SIGTERM');
    expect((await waitForExit(child)).code).toBe(0);
    rmSync(dataDir, { recursive: true, force: true });
  });
});
