/**
 * The record stores of both engines, for the contract suites in test/core/store/records: the
 * SQLite adapters over real files in a temporary directory, and the PostgreSQL stores on a
 * throwaway cluster. Each `connect()` is a connection (a pool) of its own on the same
 * database, as a second OpenExec process would have.
 */
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, test } from 'vitest';
import { systemClock } from '../../src/main/core/clock.ts';
import { Ed25519Signer } from '../../src/main/core/crypto/ed25519.ts';
import { ToolPinTable } from '../../src/main/core/actions/tool-pin-table.ts';
import { AgentTable } from '../../src/main/core/agents/agent-table.ts';
import { GrantStore } from '../../src/main/core/grants/grant-store.ts';
import { CheckpointTable } from '../../src/main/core/ledger/checkpoint/checkpoint-table.ts';
import { Ledger } from '../../src/main/core/ledger/ledger.ts';
import { ProposalStore } from '../../src/main/core/proposals/proposal-store.ts';
import type { AgentRecords } from '../../src/main/core/store/agent-records.ts';
import type { CheckpointRecords } from '../../src/main/core/store/checkpoint-records.ts';
import { openDatabase, type SqliteDatabase } from '../../src/main/core/store/database.ts';
import type { GrantRecords } from '../../src/main/core/store/grant-records.ts';
import type { ProposalRecords } from '../../src/main/core/store/proposal-records.ts';
import type { SettingRecords } from '../../src/main/core/store/setting-records.ts';
import { SettingsStore } from '../../src/main/core/store/settings-store.ts';
import type { ToolPinRecords } from '../../src/main/core/store/tool-pin-records.ts';
import {
  SqliteAgentRecords,
  SqliteCheckpointRecords,
  SqliteGrantRecords,
  SqliteProposalRecords,
  SqliteSettingRecords,
  SqliteToolPinRecords,
} from '../../src/main/core/store/sqlite/sqlite-records.ts';
import { PostgresAgentRecords } from '../../src/main/core/store/postgres/pg-agent-records.ts';
import { PostgresCheckpointRecords } from '../../src/main/core/store/postgres/pg-checkpoint-records.ts';
import { PostgresGrantRecords } from '../../src/main/core/store/postgres/pg-grant-records.ts';
import { PostgresLedgerStore } from '../../src/main/core/store/postgres/pg-ledger-store.ts';
import { PostgresProposalRecords } from '../../src/main/core/store/postgres/pg-proposal-records.ts';
import { PostgresSettingRecords } from '../../src/main/core/store/postgres/pg-setting-records.ts';
import { PostgresToolPinRecords } from '../../src/main/core/store/postgres/pg-tool-pin-records.ts';
import { tempDir } from './harness.ts';
import { migratedDatabase, postgresAvailability, startCluster } from './postgres.ts';

export interface RecordSet {
  proposals: ProposalRecords;
  grants: GrantRecords;
  agents: AgentRecords;
  toolPins: ToolPinRecords;
  settings: SettingRecords;
  checkpoints: CheckpointRecords;
}

export interface RecordsDatabase {
  /** Every record store over a new connection of its own to this database. */
  connect(): RecordSet;
  /** Appends one receipt and returns its seq, for rows that name the receipt witnessing them. */
  receipt(): Promise<number>;
}

export interface RecordEngine {
  name: string;
  /** Why it cannot run here, or null. */
  skip: string | null;
  setup(): Promise<{ fresh(): Promise<RecordsDatabase>; teardown(): Promise<void> }>;
}

function sqlite(): RecordEngine {
  return {
    name: 'SQLite',
    skip: null,
    async setup() {
      const dir = tempDir('openexec-records-');
      const open: SqliteDatabase[] = [];
      let files = 0;
      const connect = (path: string) => {
        const db = openDatabase(path, { synchronous: 'NORMAL' });
        open.push(db);
        return db;
      };
      return {
        async fresh() {
          const path = join(dir, `records-${++files}.db`);
          const ledger = new Ledger(connect(path), Ed25519Signer.generate(), systemClock);
          return {
            connect() {
              const db = connect(path);
              return {
                proposals: new SqliteProposalRecords(new ProposalStore(db)),
                grants: new SqliteGrantRecords(new GrantStore(db)),
                agents: new SqliteAgentRecords(new AgentTable(db)),
                toolPins: new SqliteToolPinRecords(new ToolPinTable(db)),
                settings: new SqliteSettingRecords(new SettingsStore(db)),
                checkpoints: new SqliteCheckpointRecords(new CheckpointTable(db)),
              };
            },
            receipt: async () => ledger.witness(() => ledger.append({ event: 'config', reason: 'a receipt for the records' })).seq,
          };
        },
        async teardown() {
          for (const db of open) db.close();
        },
      };
    },
  };
}

function postgres(prefix: string): RecordEngine {
  const available = postgresAvailability();
  return {
    name: 'PostgreSQL',
    skip: available.ok ? null : available.reason,
    async setup() {
      if (!available.ok) throw new Error(available.reason);
      const cluster = await startCluster(available);
      const pools: pg.Pool[] = [];
      const stores: PostgresLedgerStore[] = [];
      let databases = 0;
      return {
        async fresh() {
          const db = await migratedDatabase(cluster, `${prefix}_${++databases}`);
          const ledger = await PostgresLedgerStore.open({ url: db.appUrl, signer: Ed25519Signer.generate(), maxConnections: 2 });
          stores.push(ledger);
          return {
            connect() {
              const pool = new pg.Pool({ connectionString: db.appUrl, max: 4 });
              pools.push(pool);
              return {
                proposals: new PostgresProposalRecords(pool),
                grants: new PostgresGrantRecords(pool),
                agents: new PostgresAgentRecords(pool),
                toolPins: new PostgresToolPinRecords(pool),
                settings: new PostgresSettingRecords(pool),
                checkpoints: new PostgresCheckpointRecords(pool),
              };
            },
            receipt: async () => (await ledger.witness((tx) => tx.append({ event: 'config', reason: 'a receipt for the records' }))).seq,
          };
        },
        async teardown() {
          await Promise.all(stores.map((s) => s.close()));
          await Promise.all(pools.map((p) => p.end()));
          await cluster.stop();
        },
      };
    },
  };
}

/** Both engines; `prefix` names the PostgreSQL databases of one test file. */
export function recordEngines(prefix: string): RecordEngine[] {
  return [sqlite(), postgres(prefix)];
}

/**
 * Call inside `describe.each(recordEngines(…))`: the engine is set up before the block and torn
 * down after it; `it` skips (printing why at collection) when the engine cannot run here.
 */
export function useRecordEngine(engine: RecordEngine): { fresh(): Promise<RecordsDatabase>; it: ReturnType<typeof test.skipIf> } {
  let env: Awaited<ReturnType<RecordEngine['setup']>> | undefined;
  beforeAll(async () => {
    if (engine.skip === null) env = await engine.setup();
  });
  afterAll(async () => {
    await env?.teardown();
  });
  return {
    fresh() {
      if (env === undefined) throw new Error(`${engine.name} is not set up`);
      return env.fresh();
    },
    it: test.skipIf(engine.skip !== null),
  };
}
