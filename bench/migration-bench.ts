import { rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { tempDir } from '../test/support/harness.ts';
import { loadConfig } from '../src/main/app/config.ts';
import { OpenExecCore } from '../src/main/core/openexec-core.ts';
import { loadOrCreateSigningKey } from '../src/main/core/crypto/key-file.ts';
import type { JsonObject } from '../src/main/core/json/json-value.ts';
import { migrate } from '../src/main/core/store/migrations.ts';
import type { ReceiptRow } from '../src/main/core/ledger/receipt-row.ts';
import { rng, WORDS } from '../test/support/fill-ledger.ts';
import { appendAsBefore, BEFORE_COMPACT_RECEIPTS } from '../test/support/previous-layout.ts';
import { rawDb } from '../test/support/raw-db.ts';
import { storagePerReceipt } from './storage-bytes.ts';

/**
 * The one-time cost of migration 11 (receipts-layout.ts): `count` receipts written as the
 * previous version wrote them (the same drafts as the ledger bench), the database opened as the
 * server opens it, migrated and timed; then start-up on the migrated ledger and its storage
 * (the full-text index is not built here: the ledger bench measures it).
 */
export async function benchMigration(count: number) {
  const dir = tempDir('openexec-migration-bench-');
  const path = join(dir, 'openexec.db');
  const random = rng(42);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  try {
    const signer = loadOrCreateSigningKey(join(dir, 'receipt-key.pem')).signer;
    const db = new Database(path);
    db.pragma('journal_mode = WAL');
    db.pragma('foreign_keys = ON');
    db.pragma('secure_delete = ON');
    migrate(db, BEFORE_COMPACT_RECEIPTS);
    let tip: ReceiptRow | null = null;
    for (let done = 0; done < count; done += 10_000) {
      db.transaction(() => {
        for (let i = done; i < Math.min(count, done + 10_000); i++) {
          const payload = Object.assign(Object.create(null) as JsonObject, {
            to: `${pick(WORDS)}-${i % 997}@example.com`,
            subject: `${pick(WORDS)} ${pick(WORDS)} ${i}`,
            amount: BigInt(i % 10_000),
          });
          tip = appendAsBefore(
            db,
            signer,
            {
              event: i % 7 === 3 ? 'refused' : 'executed',
              action: i % 3 === 0 ? 'add' : 'echo',
              nonce: `bench-${i}`,
              payload,
              request_hash: 'ab'.repeat(32),
              context: i % 5 === 0 ? `${pick(WORDS)} requested by agent ${i % 17}` : null,
              reason: i % 7 === 3 ? `Action refused: ${pick(WORDS)}` : null,
              approver_key_id: i % 2 === 0 ? '0123456789abcdef' : 'fedcba9876543210',
            },
            tip,
          );
        }
      })();
    }
    db.pragma('wal_checkpoint(TRUNCATE)');
    const m0 = performance.now();
    migrate(db);
    const migrateSeconds = (performance.now() - m0) / 1000;
    db.close();
    const s0 = performance.now();
    const core = await OpenExecCore.open(loadConfig({ OPENEXEC_DATA_DIR: dir }));
    const startupSeconds = (performance.now() - s0) / 1000;
    try {
      return {
        receipts: count,
        migrateSeconds: Math.round(migrateSeconds * 10) / 10,
        migratedPerSecond: Math.round(count / migrateSeconds),
        startupSeconds: Math.round(startupSeconds * 1000) / 1000,
        storage: storagePerReceipt(rawDb(core)),
      };
    } finally {
      core.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
