import { afterAll, describe, expect, test } from 'vitest';
import { rmSync } from 'node:fs';
import { post, tempDir } from '../support/harness.ts';
import { spawnServer, waitForExit } from '../support/server-process.ts';
import { loadConfig } from '../../src/main/app/config.ts';
import { OpenExecCore } from '../../src/main/core/openexec-core.ts';
import { verifyChain } from '../../src/main/core/ledger/verify-ledger.ts';
import { rawDb } from '../support/raw-db.ts';

describe('SIGKILL in the middle of a stream of executions', () => {
  const dataDir = tempDir();
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  test('the ledger verifies and every acknowledged execution has its receipt', async () => {
    const server = await spawnServer({ OPENEXEC_DATA_DIR: dataDir });
    const acknowledged: string[] = [];
    let stop = false;
    const worker = async (w: number) => {
      for (let i = 0; !stop; i++) {
        try {
          const r = await post(server.url, '/execute', { action: 'add', payload: { a: w, b: i }, nonce: `crash-${w}-${i}` });
          if (r.status === 200) acknowledged.push(r.body.id as string);
        } catch {
          return; // the connection died with the server
        }
      }
    };
    const workers = Array.from({ length: 8 }, (_, w) => worker(w));
    while (acknowledged.length < 200) await new Promise((r) => setTimeout(r, 5));
    server.child.kill('SIGKILL');
    stop = true;
    await Promise.all(workers);
    expect((await waitForExit(server.child)).signal).toBe('SIGKILL');

    const core = await OpenExecCore.open(loadConfig({ OPENEXEC_DATA_DIR: dataDir }));
    try {
      expect(verifyChain(rawDb(core), core.receiptVerifier)).toMatchObject({ valid: true, firstBadSeq: null });
      const receiptFor = rawDb(core).prepare("SELECT count(*) FROM receipts WHERE event = 'executed' AND exec_id = ?").pluck();
      const missing = acknowledged.filter((id) => receiptFor.get(id) !== 1);
      expect(missing).toEqual([]);
    } finally {
      core.close();
    }

    // It starts again on the same data and continues the same chain.
    const again = await spawnServer({ OPENEXEC_DATA_DIR: dataDir });
    const r = await post(again.url, '/execute', { action: 'echo', payload: { after: 'crash' }, nonce: 'after-crash' });
    expect(r.status).toBe(200);
    again.child.kill('SIGTERM');
    expect((await waitForExit(again.child)).code).toBe(0);
    const core2 = await OpenExecCore.open(loadConfig({ OPENEXEC_DATA_DIR: dataDir }));
    try {
      const check = verifyChain(rawDb(core2), core2.receiptVerifier);
      expect(check.valid).toBe(true);
      expect(check.checked).toBeGreaterThan(acknowledged.length);
    } finally {
      core2.close();
    }
  }, 60_000);
});
