import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, lstatSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { post, startServer, tempDir, type RunningServer } from '../support/harness.ts';
import { loadConfig } from '../../src/main/app/config.ts';
import { startOpenExec } from '../../src/main/app/openexec-app.ts';
import { cli, CLI_BIN } from '../support/cli.ts';
import { executeWire } from '../support/clawshield.ts';
import { consoleCall } from '../support/console-http.ts';
import type { BackupDto, HardeningReportDto } from '../../src/shared/hardening.ts';
import { rawDb } from '../support/raw-db.ts';

function verifyCopy(dataDir: string, copy: string): Promise<{ code: number; out: string }> {
  return new Promise((resolve) =>
    execFile(
      CLI_BIN,
      ['verify-ledger', '--json'],
      { env: { ...process.env, OPENEXEC_DATA_DIR: dataDir, OPENEXEC_DB_URL: `sqlite:///${copy}` } },
      (err, out) => resolve({ code: err ? Number((err as { code?: number }).code) : 0, out }),
    ),
  );
}

describe('openexec backup', () => {
  let s: RunningServer;
  const outDir = tempDir('openexec-backup-');
  beforeAll(async () => {
    s = await startServer({ OPENEXEC_ALLOWED_ACTIONS: 'add,echo' });
  });
  afterAll(async () => {
    await s.stop();
    rmSync(outDir, { recursive: true, force: true });
  });

  test('a copy taken under concurrent /execute load verifies and is recorded in the ledger', async () => {
    let stop = false;
    let sent = 0;
    const worker = async (w: number) => {
      while (!stop) {
        const res = await post(s.url, '/execute', executeWire('add', '{"a":1,"b":2}', `load-${w}-${sent++}`));
        expect(res.status).toBe(200);
      }
    };
    const load = Array.from({ length: 8 }, (_, w) => worker(w));
    while (sent < 40) await new Promise((r) => setTimeout(r, 5));
    const file = join(outDir, 'under-load.db');
    const run = await cli(s.dataDir, 'backup', '--out', file, '--json');
    const before = sent;
    while (sent < before + 40) await new Promise((r) => setTimeout(r, 5));
    stop = true;
    await Promise.all(load);

    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const b = JSON.parse(run.stdout) as BackupDto;
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(b.sha256).toBe(createHash('sha256').update(readFileSync(file)).digest('hex'));
    expect(existsSync(`${file}-wal`)).toBe(false);
    const verified = await verifyCopy(s.dataDir, file);
    expect(verified.code).toBe(0);
    expect(JSON.parse(verified.out)).toMatchObject({ valid: true, checked: b.seq, sideTableProblems: [] });
    // The copy's head is the live ledger's receipt of that number; the backup receipt names it.
    const live = rawDb(s.app.core).prepare('SELECT hash FROM receipts WHERE seq = ?').pluck().get(b.seq);
    expect(live).toBe(b.hash);
    const receipt = JSON.parse(rawDb(s.app.core).prepare('SELECT body FROM receipts WHERE seq = ?').pluck().get(b.receiptSeq) as string);
    expect(receipt).toMatchObject({ event: 'config', details: { kind: 'backup', seq: b.seq, hash: b.hash, sha256: b.sha256, file } });
    expect(b.receiptSeq).toBeGreaterThan(b.seq);

    const report = (await consoleCall(s.url, s.app.consoleToken, 'hardeningReport')).body as HardeningReportDto;
    expect(report.checks.find((c) => c.id === 'receipt_key_backup')).toMatchObject({ status: 'pass' });
  });

  test('an existing file is refused and left as it was; the server takes only an absolute path', async () => {
    const file = join(outDir, 'exists.db');
    writeFileSync(file, 'keep me');
    const run = await cli(s.dataDir, 'backup', '--out', file);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/already exists/);
    expect(readFileSync(file, 'utf8')).toBe('keep me');
    // The server refuses it too, whoever asks.
    const direct = await consoleCall(s.url, s.app.consoleToken, 'backup', { path: file });
    expect(direct.status).toBe(409);
    expect(readFileSync(file, 'utf8')).toBe('keep me');
    const relative = await consoleCall(s.url, s.app.consoleToken, 'backup', { path: 'rel.db' });
    expect(relative.status).toBe(400);
    expect((await cli(s.dataDir, 'backup')).code).toBe(2);
  });

  test('a symlink swapped in at the path while the copy is taken is refused, never followed, and nothing is recorded', async () => {
    const earlier = join(outDir, 'earlier.db');
    const first = await s.app.console.backup({ path: earlier });
    if (!first.ok) throw new Error(first.error.message);
    const earlierBytes = readFileSync(earlier);
    for (let i = 0; i < 20; i++) expect((await post(s.url, '/execute', executeWire('add', '{"a":1,"b":1}', `swap-${i}`))).status).toBe(200);
    const target = join(outDir, 'swapped.db');
    const receiptsBefore = s.app.core.ledger.size();
    // Someone who can write the directory: once the backup has begun, a symlink to another
    // (valid) ledger copy stands where the new copy was to be.
    const taking = s.app.console.backup({ path: target });
    await new Promise((r) => setImmediate(r));
    rmSync(target, { force: true });
    symlinkSync(earlier, target);
    const taken = await taking;
    expect(taken.ok).toBe(false);
    if (taken.ok) return;
    expect(taken.error.message).toBe(`${target} already exists; a backup never overwrites a file`);
    // Not written through the link, not verified or hashed through it, and no receipt.
    expect(readFileSync(earlier).equals(earlierBytes)).toBe(true);
    expect(lstatSync(target).isSymbolicLink()).toBe(true);
    expect(s.app.core.ledger.size()).toBe(receiptsBefore);
    expect(readdirSync(s.dataDir).filter((f) => f.startsWith('backup-'))).toEqual([]);
  });

  test('restored: start-up on the copy says it is shorter than the ledger was; with a witness directory it refuses', async () => {
    const dataDir = tempDir();
    const witness = tempDir('openexec-witness-');
    const env = { OPENEXEC_DATA_DIR: dataDir, OPENEXEC_PORT: '0', OPENEXEC_ALLOWED_ACTIONS: 'add' };
    const first = await startOpenExec(loadConfig({ ...env, OPENEXEC_WITNESS_DIR: witness }));
    for (let i = 0; i < 5; i++) await post(first.address, '/execute', executeWire('add', '{"a":1,"b":2}', `r-${i}`));
    const file = join(outDir, 'restore-me.db');
    const b = (await consoleCall(first.address, first.consoleToken, 'backup', { path: file })).body as BackupDto;
    await post(first.address, '/execute', executeWire('add', '{"a":1,"b":2}', 'r-after'));
    expect(first.warnings().join('\n')).not.toMatch(/restored/);
    await first.close();

    // The restore the README describes: the copy in place of the database, its -wal and -shm removed.
    const db = join(dataDir, 'openexec.db');
    for (const f of [`${db}-wal`, `${db}-shm`]) rmSync(f, { force: true });
    copyFileSync(file, db);
    await expect(startOpenExec(loadConfig({ ...env, OPENEXEC_WITNESS_DIR: witness }))).rejects.toThrow(
      new RegExp(`^OPENEXEC_WITNESS_DIR: the ledger has ${b.seq} receipts, fewer than the \\d+ of the checkpoint witnessed`),
    );
    const restored = await startOpenExec(loadConfig(env));
    try {
      const notice = restored.warnings().filter((w) => /restored from an older copy/.test(w));
      expect(notice).toEqual([
        expect.stringContaining(`the ledger has ${b.seq} receipts, but it had ${b.receiptSeq} when the backup to ${file} was recorded`),
      ]);
    } finally {
      await restored.close();
      rmSync(dataDir, { recursive: true, force: true });
      rmSync(witness, { recursive: true, force: true });
    }
  });
});
