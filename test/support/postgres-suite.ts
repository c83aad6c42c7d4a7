/**
 * One throwaway cluster for a describe block (started in beforeAll, stopped in afterAll), with
 * fresh migrated databases, pools and stores that are closed at the end.
 */
import { afterAll, beforeAll } from 'vitest';
import pg from 'pg';
import { Ed25519Signer } from '../../src/main/core/crypto/ed25519.ts';
import { PostgresLedgerStore, type PostgresLedgerOptions } from '../../src/main/core/store/postgres/pg-ledger-store.ts';
import { migratedDatabase, postgresAvailability, startCluster, type PgCluster, type TestDatabase } from './postgres.ts';

export interface PostgresSuite {
  readonly cluster: PgCluster;
  /** A new database at the current schema, with the app role's grants. */
  fresh(): Promise<TestDatabase>;
  /** A pool closed after the suite. */
  pool(url: string): pg.Pool;
  /** The store as the app role, closed after the suite. */
  openStore(db: TestDatabase, options?: Partial<PostgresLedgerOptions>): Promise<PostgresLedgerStore>;
  /** Runs `close` after the suite. */
  onClose(close: () => Promise<void>): void;
}

/** Call inside a describe.skipIf(!postgresAvailability().ok) block. */
export function usePostgres(prefix: string): PostgresSuite {
  let cluster: PgCluster | undefined;
  let databases = 0;
  const pools: pg.Pool[] = [];
  const closers: (() => Promise<void>)[] = [];
  beforeAll(async () => {
    const available = postgresAvailability();
    if (available.ok) cluster = await startCluster(available);
  });
  afterAll(async () => {
    for (const close of closers) await close();
    await Promise.all(pools.map((p) => p.end()));
    await cluster?.stop();
  });
  const suite: PostgresSuite = {
    get cluster() {
      if (!cluster) throw new Error('the cluster is not running');
      return cluster;
    },
    fresh: () => migratedDatabase(suite.cluster, `${prefix}_${++databases}`),
    pool(url) {
      const p = new pg.Pool({ connectionString: url, max: 2 });
      pools.push(p);
      return p;
    },
    async openStore(db, options = {}) {
      const store = await PostgresLedgerStore.open({ url: db.appUrl, signer: Ed25519Signer.generate(), ...options });
      closers.push(() => store.close());
      return store;
    },
    onClose: (close) => closers.push(close),
  };
  return suite;
}
