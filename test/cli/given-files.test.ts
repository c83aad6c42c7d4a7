import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, rmSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../support/harness.ts';
import { cli } from '../support/cli.ts';
import { loadConfig } from '../../src/main/app/config.ts';
import { OpenExecCore } from '../../src/main/core/openexec-core.ts';

/**
 * Files a reviewer names, or finds inside evidence handed to them (a tarball can carry FIFOs),
 * that are not regular files: each command answers with one line, at once, instead of blocking
 * on the first read (a FIFO) or reading forever (/dev/zero).
 */
describe('verifiers refuse a named path that is not a regular file', () => {
  let ledger: string;
  let work: string;
  const fifo = (path: string) => {
    execFileSync('mkfifo', [path]);
    return path;
  };

  beforeAll(async () => {
    ledger = tempDir();
    work = tempDir('openexec-given-');
    const core = await OpenExecCore.open(loadConfig({ OPENEXEC_DATA_DIR: ledger }));
    try {
      await core.engine.execute({ action: 'echo', payload: Object.create(null), nonce: 'g-1', artifact: null });
    } finally {
      core.close();
    }
  });
  afterAll(() => {
    rmSync(ledger, { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
  });

  test('verify-bundle of a FIFO or of /dev/zero', async () => {
    const bundle = fifo(join(work, 'bundle.json'));
    for (const file of [bundle, '/dev/zero']) {
      const r = await cli(ledger, 'verify-bundle', file);
      expect(r.stderr.trim()).toBe(`openexec: cannot read the bundle ${file}: not a regular file`);
      expect(r.code).toBe(1);
    }
  });

  test('verify-ledger with a FIFO among the checkpoint notes, as --public-key, or as the key beside a copied ledger', async () => {
    const notes = join(work, 'notes');
    mkdirSync(notes);
    const note = fifo(join(notes, 'checkpoint-1.txt'));
    const withNote = await cli(ledger, 'verify-ledger', '--checkpoint', notes);
    expect(withNote.stderr.trim()).toBe(`openexec: ${note}: not a regular file`);
    expect(withNote.code).toBe(3);

    const key = fifo(join(work, 'receipt-public.pem'));
    const withKey = await cli(ledger, 'verify-ledger', '--public-key', key);
    expect(withKey.stderr.trim()).toBe(`openexec: cannot read the public key ${key}: not a regular file`);
    expect(withKey.code).toBe(1);

    const copy = join(work, 'copy');
    cpSync(ledger, copy, { recursive: true });
    unlinkSync(join(copy, 'receipt-key.pem'));
    fifo(join(copy, 'receipt-key.pem'));
    const beside = await cli(copy, 'verify-ledger');
    expect(beside.stderr.trim()).toBe(
      `openexec: cannot use the receipt key ${join(copy, 'receipt-key.pem')}: ${join(copy, 'receipt-key.pem')} is not a regular file`,
    );
    expect(beside.code).toBe(1);
  });
});
