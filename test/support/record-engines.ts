/**
 * The record stores of both engines, for the contract suites in test/core/store/records, as the
 * app opens them (sqliteStorage, postgresStorage): SQLite over real files in a temporary
 * directory, PostgreSQL on a throwaway cluster. Each `connect()` is a storage of its own on the
 * same database (its own connection, or pools, and on PostgreSQL its own receipt key), as a
 * second OpenExec process would have.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, test } from 'vitest';
import { systemClock } from '../../src/main/core/clock.ts';
import type { CoreStorage } from '../../src/main/core/store/core-storage.ts';
import { postgresStorage } from '../../src/main/core/store/postgres/pg-storage.ts';
import { sqliteStorage } from '../../src/main/core/store/sqlite/sqlite-storage.ts';
import { tempDir } from './harness.ts';
import { migratedDatabase, postgresAvailability, startCluster } from './postgres.ts';

export type RecordSet = Pick<CoreStorage, 'proposals' | 'grants' | 'agents' | 'toolPins' | 'settings' | 'checkpoints'>;

export interface RecordsDatabase {
  /** Every record store over a new storage of its own on this database. */
  connect(): Promise<RecordSet>;
  /** Appends one receipt and returns its seq, for rows that name the receipt witnessing them. */
  receipt(): Promise<number>;
}

interface RecordsEnv {
  fresh(): Promise<RecordsDatabase>;
  teardown(): Promise<void>;
}

export interface RecordEngine {
  name: string;
  /** Why it cannot run here, or null. */
  skip: string | null;
  setup(): Promise<RecordsEnv>;
}

/**
 * Databases on one engine: `database()` makes a new, empty one and answers how to open one
 * more storage on it; every storage opened is closed at teardown, then `stop` runs.
 */
function recordsOn(database: () => Promise<() => Promise<CoreStorage>>, stop: () => Promise<void>): RecordsEnv {
  const opened: CoreStorage[] = [];
  return {
    async fresh() {
      const openOne = await database();
      const connect = async () => {
        const storage = await openOne();
        opened.push(storage);
        return storage;
      };
      const { ledgerStore } = await connect();
      return {
        connect,
        receipt: async () => (await ledgerStore.witness((tx) => tx.append({ event: 'config', reason: 'a receipt for the records' }))).seq,
      };
    },
    async teardown() {
      await Promise.all(opened.map((s) => s.close()));
      await stop();
    },
  };
}

function sqlite(): RecordEngine {
  return {
    name: 'SQLite',
    skip: null,
    async setup() {
      const dir = tempDir('openexec-records-');
      let files = 0;
      return recordsOn(
        async () => {
          const n = ++files;
          // One ledger, one receipt key: every storage on the file signs with it.
          const options = {
            dbPath: join(dir, `records-${n}.db`),
            synchronous: 'NORMAL' as const,
            receiptKeyFile: join(dir, `receipt-${n}.key`),
            clock: systemClock,
          };
          return async () => sqliteStorage(options);
        },
        async () => {},
      );
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
      const keys = tempDir('openexec-record-keys-');
      let databases = 0;
      let instances = 0;
      return recordsOn(
        async () => {
          const { appUrl } = await migratedDatabase(cluster, `${prefix}_${++databases}`);
          // Each storage an instance of its own, with its own receipt key.
          return () => postgresStorage({ url: appUrl, receiptKeyFile: join(keys, `receipt-${++instances}.key`), clock: systemClock });
        },
        () => cluster.stop(),
      );
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
  let env: RecordsEnv | undefined;
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
