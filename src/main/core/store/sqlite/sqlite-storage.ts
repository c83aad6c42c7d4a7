import type { Clock } from '../../clock.ts';
import type { Ed25519Signer } from '../../crypto/ed25519.ts';
import { KeyFileError, loadOrCreateSigningKey } from '../../crypto/key-file.ts';
import { closeInterruptedAtStart } from '../../engine/close-at-start.ts';
import { ExecutionStore } from '../../engine/execution-store.ts';
import { AgentTable } from '../../agents/agent-table.ts';
import { ToolPinTable } from '../../actions/tool-pin-table.ts';
import { GrantStore } from '../../grants/grant-store.ts';
import { CheckpointTable } from '../../ledger/checkpoint/checkpoint-table.ts';
import { Ledger } from '../../ledger/ledger.ts';
import { LedgerReader } from '../../ledger/ledger-reader.ts';
import { ProposalStore } from '../../proposals/proposal-store.ts';
import type { CoreStorage } from '../core-storage.ts';
import { openDatabase, type Synchronous } from '../database.ts';
import { SettingsStore } from '../settings-store.ts';
import { WalCheckpointer } from '../wal-checkpointer.ts';
import { SqliteExecutionRecords } from './sqlite-execution-records.ts';
import { SqliteLedgerStore } from './sqlite-ledger-store.ts';
import { SqliteMerkleTree } from './sqlite-merkle-tree.ts';
import {
  SqliteAgentRecords,
  SqliteCheckpointRecords,
  SqliteGrantRecords,
  SqliteProposalRecords,
  SqliteSettingRecords,
  SqliteToolPinRecords,
} from './sqlite-records.ts';

export interface SqliteStorageOptions {
  dbPath: string;
  synchronous: Synchronous;
  /** The ledger's receipt key (created only for an empty ledger). */
  receiptKeyFile: string;
  clock: Clock;
}

/** SQLite's storage, with its WAL checkpoint thread (which tests stop to keep every WAL frame). */
export interface SqliteStorage extends CoreStorage {
  readonly checkpointer: WalCheckpointer;
}

/**
 * The core's storage on one SQLite file: one connection, private to these stores (README, "One
 * owner per table"), the ledger signed by one receipt key, and WAL checkpoints on a thread.
 */
export function sqliteStorage(options: SqliteStorageOptions): SqliteStorage {
  const db = openDatabase(options.dbPath, { synchronous: options.synchronous });
  try {
    const receiptKey = loadReceiptKey(new LedgerReader(db).signedBy(), options.receiptKeyFile);
    const ledger = new Ledger(db, receiptKey, options.clock);
    const executionStore = new ExecutionStore(db);
    const proposalStore = new ProposalStore(db);
    const ledgerStore = new SqliteLedgerStore(db, ledger, executionStore, proposalStore);
    const checkpointer = new WalCheckpointer(db);
    return {
      engine: 'sqlite',
      ledgerStore,
      executions: new SqliteExecutionRecords(executionStore, ledger.read),
      proposals: new SqliteProposalRecords(proposalStore),
      grants: new SqliteGrantRecords(new GrantStore(db)),
      agents: new SqliteAgentRecords(new AgentTable(db)),
      toolPins: new SqliteToolPinRecords(new ToolPinTable(db)),
      settings: new SqliteSettingRecords(new SettingsStore(db)),
      checkpoints: new SqliteCheckpointRecords(new CheckpointTable(db)),
      tree: new SqliteMerkleTree(ledger),
      receiptKey,
      sqliteLedger: ledger,
      checkpointer,
      // One writer: every execution left started is this ledger's to close, synchronously, before
      // anything else is written.
      closeInterrupted: async () => closeInterruptedAtStart(ledger, executionStore),
      async close() {
        checkpointer.close();
        if (db.open) db.close();
      },
    };
  } catch (err) {
    db.close();
    throw err;
  }
}

/**
 * The receipt key, created only for an empty ledger: a new key over existing receipts would
 * make every earlier signature unverifiable, so a missing or different key stops start-up.
 */
function loadReceiptKey(signedBy: string | null, file: string): Ed25519Signer {
  if (signedBy === null) return loadOrCreateSigningKey(file).signer;
  let signer: Ed25519Signer;
  try {
    signer = loadOrCreateSigningKey(file, { mayCreate: false }).signer;
  } catch (err) {
    if (err instanceof KeyFileError && /is missing$/.test(err.message)) {
      throw new KeyFileError(`${file} is missing, but the ledger is signed by receipt key ${signedBy}: restore that key file`);
    }
    throw err;
  }
  if (signer.keyId !== signedBy) {
    throw new KeyFileError(
      `${file} holds key ${signer.keyId}, but the ledger is signed by receipt key ${signedBy}: restore the original key file`,
    );
  }
  return signer;
}
