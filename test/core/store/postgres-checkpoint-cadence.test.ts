/**
 * Checkpoints on a PostgreSQL ledger run as on SQLite (the one Checkpoints over MerkleTreeReads):
 * issued on the cadence as an instance appends, copied to the witness directory co-signed by
 * the operator, and a ledger that lost or rewrote witnessed receipts refused at start-up. Real
 * throwaway cluster.
 */
import { describe, expect, test } from 'vitest';
import { readdirSync } from 'node:fs';
import { Ed25519Signer } from '../../../src/main/core/crypto/ed25519.ts';
import { tempDir } from '../../support/harness.ts';
import { postgresAvailability } from '../../support/postgres.ts';
import { usePostgres } from '../../support/postgres-suite.ts';
import { asOwnerWithoutTriggers, pgLedgerProofs, twoInstanceLedger } from '../../support/pg-ledger-fixture.ts';

const until = async (check: () => Promise<boolean>): Promise<void> => {
  for (let i = 0; i < 500 && !(await check()); i++) await new Promise((r) => setTimeout(r, 10));
};

describe.skipIf(!postgresAvailability().ok)('checkpoints on a PostgreSQL ledger (real throwaway cluster)', () => {
  const pgs = usePostgres('cadence');

  test('an instance checkpoints every N of its receipts, signed by its own key and witnessed in the directory', async () => {
    const { db, a, ka, size } = await twoInstanceLedger(pgs);
    const witnessDir = tempDir('openexec-pgwitness-');
    const { checkpoints } = pgLedgerProofs(pgs.pool(db.appUrl), a, ka, { every: 5, witnessDir, operator: Ed25519Signer.generate() });
    await checkpoints.issue();
    checkpoints.start();
    try {
      for (let n = 1; n <= 4; n++) await a.witness((tx) => tx.append({ event: 'config', reason: `cadence ${n}` }));
      // Four receipts since the checkpoint of `size`: not due yet. The fifth makes it due.
      expect((await checkpoints.latest())?.size).toBe(size);
      await a.witness((tx) => tx.append({ event: 'config', reason: 'cadence 5' }));
      await until(async () => (await checkpoints.latest())?.size === size + 5);
      const latest = await checkpoints.latest();
      expect(latest?.size).toBe(size + 5);
      expect(latest?.note.startsWith(`openexec.local/receipts/${ka.keyId}\n`)).toBe(true);
      expect(readdirSync(witnessDir).sort()).toEqual([`checkpoint-${size + 5}.txt`, `checkpoint-${size}.txt`].sort());
      expect(checkpoints.latestWitnessed()?.size).toBe(size + 5);
      await expect(checkpoints.checkAgainstWitness()).resolves.toBeUndefined();
    } finally {
      checkpoints.stop();
    }
  });

  test('start-up against the witness directory: receipts removed or rewritten after it was witnessed are refused', async () => {
    const { db, a, ka, size } = await twoInstanceLedger(pgs);
    const witnessDir = tempDir('openexec-pgwitness-');
    const operator = Ed25519Signer.generate();
    const instance = () => pgLedgerProofs(pgs.pool(db.appUrl), a, ka, { witnessDir, operator }).checkpoints;
    await instance().issue();
    await expect(instance().checkAgainstWitness()).resolves.toBeUndefined();

    const owner = pgs.pool(db.ownerUrl);
    await asOwnerWithoutTriggers(
      owner,
      ['receipts', 'merkle_nodes'],
      `UPDATE merkle_nodes SET hash = sha256(hash) WHERE level = 5 AND idx = 0`,
    );
    await expect(instance().checkAgainstWitness()).rejects.toThrow(
      `the ledger's first ${size} receipts do not match the checkpoint witnessed in`,
    );
    await asOwnerWithoutTriggers(
      owner,
      ['receipts', 'receipt_search', 'receipt_bodies'],
      // The newest receipt is either instance's (they end appending at once), with bodies or without.
      `DELETE FROM receipt_search WHERE seq = ${size}; DELETE FROM receipt_bodies WHERE seq = ${size}; DELETE FROM receipts WHERE seq = ${size}`,
    );
    await expect(instance().checkAgainstWitness()).rejects.toThrow(
      `the ledger has ${size - 1} receipts, fewer than the ${size} of the checkpoint witnessed in`,
    );
  });
});
