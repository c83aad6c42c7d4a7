/**
 * The `postgres` part of `npm run bench`: a throwaway cluster like the tests' (test/support/
 * postgres.ts) but with fsync on, the machine's floors, witnessed appends on PostgreSQL beside
 * the SQLite ledger's in the same run, and search over many receipts. Without PostgreSQL it
 * prints why and reports `skipped`.
 */
import { loadavg } from 'node:os';
import { postgresAvailability, startCluster } from '../test/support/postgres.ts';
import { benchPostgresAppends, benchSqliteAppends, measureFloors, type AppendFigures, type Floors } from './postgres-append-bench.ts';
import { benchPostgresSearch } from './postgres-search-bench.ts';

export interface PostgresBenchOptions {
  /** Timed appends per concurrency. */
  appends: number;
  /** Receipts the search runs over. */
  receipts: number;
  /** Runs of each query of the mix. */
  searchRuns: number;
}

const round = (x: number, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits;

/** Each figure beside the floor it cannot beat. */
function withRatios(figures: AppendFigures, floors: Floors, commitMs: number) {
  return {
    ...figures,
    // How many appends one durable commit carries: above 1 is group commit at work.
    appendsPerFloorCommit: round((figures.appendsPerSecond * commitMs) / 1000),
    p50OverFloorCommit: round(figures.p50ms / commitMs),
    p50OverRoundTrip: round(figures.p50ms / floors.selectOneMs),
  };
}

export async function benchPostgres(options: PostgresBenchOptions) {
  const available = postgresAvailability();
  if (!available.ok) {
    process.stderr.write(`postgres bench skipped: ${available.reason}\n`);
    return { skipped: available.reason };
  }
  const cluster = await startCluster(available, { fsync: true });
  try {
    const loadBefore = loadavg().map((x) => round(x));
    const floors = await measureFloors(cluster);
    const concurrencies = [1, 16, 64];
    const postgres = (await benchPostgresAppends(cluster, concurrencies, options.appends)).map((f) =>
      withRatios(f, floors, floors.pgCommitMs),
    );
    const sqlite = [
      ...(await benchSqliteAppends('FULL', concurrencies, options.appends)),
      ...(await benchSqliteAppends('NORMAL', concurrencies, options.appends)),
    ].map((f) => withRatios(f, floors, floors.fileFsyncMs));
    const search = await benchPostgresSearch(cluster, options.receipts, options.searchRuns);
    return {
      server: 'throwaway cluster on 127.0.0.1, fsync on, default settings otherwise',
      loadAverage: { before: loadBefore, after: loadavg().map((x) => round(x)) },
      floors,
      appends: { postgres, sqlite },
      search: { ...search, targetP95ms: 50 },
    };
  } finally {
    await cluster.stop();
  }
}
