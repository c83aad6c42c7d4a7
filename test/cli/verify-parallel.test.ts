import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { cpSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { tempDir } from '../support/harness.ts';
import { cli } from '../support/cli.ts';
import { fillLedger } from '../support/fill-ledger.ts';
import { loadConfig } from '../../src/main/app/config.ts';
import { OpenExecCore } from '../../src/main/core/openexec-core.ts';

/**
 * verify-ledger shares the chain out to threads by ranges; its verdict must be the one a walk
 * from the first receipt gives: the first bad receipt in seq order, with the count before it.
 */
describe('verify-ledger on several threads', () => {
  let original: string;
  let work: string;
  const N = 3000;
  beforeAll(async () => {
    original = tempDir();
    work = tempDir('openexec-parallel-');
    const core = await OpenExecCore.open(loadConfig({ OPENEXEC_DATA_DIR: original }));
    try {
      fillLedger(core, N);
    } finally {
      core.close();
    }
  });
  afterAll(() => {
    rmSync(original, { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
  });

  function withEditedBodies(name: string, seqs: number[]): string {
    const dir = join(work, name);
    mkdirSync(dir);
    cpSync(original, dir, { recursive: true });
    const db = new Database(join(dir, 'openexec.db'));
    db.exec('DROP TRIGGER receipts_append_only_update');
    for (const seq of seqs) db.prepare(`UPDATE receipts SET body = replace(body, '"v":2', '"v":3') WHERE seq = ?`).run(seq);
    db.close();
    return dir;
  }

  test('an untouched ledger of three ranges verifies on one thread and on three alike', async () => {
    for (const workers of ['1', '3']) {
      const r = await cli(original, 'verify-ledger', '--workers', workers);
      expect(r.stdout, r.stderr).toContain(`ledger valid: ${N} receipts`);
      expect(r.code).toBe(0);
    }
  });

  test.each([
    [[1600, 2500], 1600],
    [[2500], 2500],
    [[1, 2999], 1],
  ])('bodies edited at %j: the first one in seq order is named, on any number of threads', async (seqs, first) => {
    const dir = withEditedBodies(`edit-${seqs.join('-')}`, seqs);
    for (const workers of ['1', '3']) {
      const r = await cli(dir, 'verify-ledger', '--workers', workers, '--json');
      const verdict = JSON.parse(r.stdout) as { chainValid: boolean; firstBadSeq: number; checked: number; problem: string };
      expect(verdict, `workers ${workers}`).toMatchObject({ chainValid: false, firstBadSeq: first, checked: first - 1 });
      expect(verdict.problem).toMatch(/hash does not match the receipt body/);
      expect(r.code).toBe(3);
    }
  });

  test('--workers must be a small whole number', async () => {
    const r = await cli(original, 'verify-ledger', '--workers', 'many');
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe("openexec: --workers must be a whole number from 1 to 99, got 'many'");
  });
});
