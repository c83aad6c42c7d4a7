import type { Clock } from '../../clock.ts';
import { loadOrCreateSigningKey } from '../../crypto/key-file.ts';
import type { CoreStorage } from '../core-storage.ts';
import { PostgresAgentRecords } from './pg-agent-records.ts';
import { PostgresCheckpointRecords } from './pg-checkpoint-records.ts';
import { PostgresExecutionRecords } from './pg-execution-records.ts';
import { PostgresGrantRecords } from './pg-grant-records.ts';
import { PostgresLedgerStore } from './pg-ledger-store.ts';
import { PostgresMerkleTree } from './pg-merkle-tree.ts';
import { openPool, type PostgresStoreError } from './pg-pool.ts';
import { PostgresProposalRecords } from './pg-proposal-records.ts';
import { PostgresSettingRecords } from './pg-setting-records.ts';
import { PostgresToolPinRecords } from './pg-tool-pin-records.ts';

/** Connections for the record stores' reads and writes outside a witnessed write. */
const RECORD_CONNECTIONS = 4;

export interface PostgresStorageOptions {
  /** The application role's URL (SECURITY.md, "PostgreSQL: roles and trust"); the owner migrates. */
  url: string;
  /** This instance's receipt key, in its own data directory: created when missing. */
  receiptKeyFile: string;
  clock: Clock;
  /** Hears a lost idle connection or notification connection, or a failed read of other instances' receipts. */
  onError?: (err: unknown) => void;
}

/**
 * The core's storage on a PostgreSQL database that several instances share (README,
 * "PostgreSQL"): the ledger store, followed so that other instances' receipts are heard, and
 * the record stores on a pool of their own. Each instance signs with its own receipt key, which
 * its first receipt registers; a new key over an existing ledger is simply another instance.
 */
export async function postgresStorage(options: PostgresStorageOptions): Promise<CoreStorage> {
  const receiptKey = loadOrCreateSigningKey(options.receiptKeyFile).signer;
  const onIdleError = (err: PostgresStoreError) => options.onError?.(err);
  const ledgerStore = await PostgresLedgerStore.open({
    url: options.url,
    signer: receiptKey,
    clock: options.clock,
    onIdleError,
    follow: { onError: (err) => options.onError?.(err) },
  });
  let pool;
  try {
    pool = await openPool(options.url, { max: RECORD_CONNECTIONS, onIdleError });
  } catch (err) {
    await ledgerStore.close();
    throw err;
  }
  return {
    engine: 'postgres',
    ledgerStore,
    executions: new PostgresExecutionRecords(pool, receiptKey.keyId),
    proposals: new PostgresProposalRecords(pool),
    grants: new PostgresGrantRecords(pool),
    agents: new PostgresAgentRecords(pool),
    toolPins: new PostgresToolPinRecords(pool),
    settings: new PostgresSettingRecords(pool),
    checkpoints: new PostgresCheckpointRecords(pool),
    tree: new PostgresMerkleTree(pool),
    receiptKey,
    sqliteLedger: null,
    // Only this instance's: another's `started` execution may be running there right now.
    closeInterrupted: (engine) => engine.closeInterrupted(),
    async close() {
      await ledgerStore.close();
      await pool.end();
    },
  };
}
