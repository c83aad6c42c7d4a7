import { describe, expect, test } from 'vitest';
import { spawn } from 'node:child_process';
import { chmodSync, readFileSync, rmSync, statSync } from 'node:fs';
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
    [{ OPENEXEC_DB_URL: 'postgresql://db/openexec' }, /^openexec: OPENEXEC_DB_URL: unsupported scheme 'postgresql'/],
    [{ OPENEXEC_PORT: 'eighty' }, /^openexec: OPENEXEC_PORT: /],
    [{ OPENEXEC_HOST: '0.0.0.0' }, /^openexec: OPENEXEC_HOST: 0\.0\.0\.0 is not a loopback address/],
  ])('%o stops start-up with one clear line', async (env, message) => {
    const r = await refusedStart(env);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stdout).toBe('');
  });

  test('a non-loopback bind needs the explicit flag, and then warns', async () => {
    const dataDir = tempDir();
    const server = await spawnServer({ OPENEXEC_DATA_DIR: dataDir, OPENEXEC_HOST: '0.0.0.0' }, ['--allow-non-loopback']);
    expect(server.output()).toMatch(/warning: the API listens on 0\.0\.0\.0, which is not loopback/);
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
  test('one OpenExec at a time; a second start leaves the first one\'s token alone', async () => {
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
