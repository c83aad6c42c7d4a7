/**
 * Witnessed appends (a nonce reservation and one receipt per piece, group-committed) through
 * the PostgreSQL LedgerStore and through the SQLite one (the engine's path on both), at several
 * concurrencies, beside the machine's floor: a `SELECT 1` round trip, an fsync'd PostgreSQL
 * commit and an fsync'd file write.
 */
import { closeSync, fsyncSync, openSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { systemClock } from '../src/main/core/clock.ts';
import { Ed25519Signer } from '../src/main/core/crypto/ed25519.ts';
import { ExecutionStore, type Reservation } from '../src/main/core/engine/execution-store.ts';
import { Ledger } from '../src/main/core/ledger/ledger.ts';
import type { ReceiptDraft } from '../src/main/core/ledger/receipt-body.ts';
import { openDatabase } from '../src/main/core/store/database.ts';
import { PostgresLedgerStore } from '../src/main/core/store/postgres/pg-ledger-store.ts';
import { SqliteLedgerStore } from '../src/main/core/store/sqlite/sqlite-ledger-store.ts';
import { ProposalStore } from '../src/main/core/proposals/proposal-store.ts';
import { tempDir } from '../test/support/harness.ts';
import { migratedDatabase, type PgCluster } from '../test/support/postgres.ts';
import { percentile } from './execute-bench.ts';
import { newReservation } from '../test/support/record-fixtures.ts';

export interface Floors {
  /** `SELECT 1` on one connection, p50. */
  selectOneMs: number;
  /** One-row INSERT committed with fsync on, p50. */
  pgCommitMs: number;
  /** A 4 KiB write and fsync of a file in a temporary directory, p50 (what a SQLite FULL commit pays at least). */
  fileFsyncMs: number;
}

export interface AppendFigures {
  concurrency: number;
  appends: number;
  appendsPerSecond: number;
  p50ms: number;
  p99ms: number;
}

async function timed(times: number, once: (i: number) => Promise<unknown> | unknown): Promise<number> {
  const ms: number[] = [];
  for (let i = 0; i < times; i++) {
    const s = performance.now();
    await once(i);
    ms.push(performance.now() - s);
  }
  return percentile(
    ms.sort((a, b) => a - b),
    50,
  );
}

export async function measureFloors(cluster: PgCluster): Promise<Floors> {
  const db = await cluster.createDatabase('bench_floor');
  const client = new pg.Client({ connectionString: db.ownerUrl });
  await client.connect();
  const dir = tempDir('openexec-fsync-floor-');
  try {
    await client.query('CREATE TABLE floor (i integer)');
    const selectOneMs = await timed(500, () => client.query('SELECT 1'));
    const pgCommitMs = await timed(300, (i) => client.query('INSERT INTO floor VALUES ($1)', [i]));
    const fd = openSync(join(dir, 'floor'), 'w');
    const page = Buffer.alloc(4096, 1);
    const fileFsyncMs = await timed(300, () => {
      writeSync(fd, page);
      fsyncSync(fd);
    });
    closeSync(fd);
    return { selectOneMs, pgCommitMs, fileFsyncMs };
  } finally {
    await client.end();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** One piece of work: what /execute witnesses before its handler runs, as a ledger sees it. */
function piece(i: number): { reservation: Reservation; draft: ReceiptDraft } {
  const nonce = `bench-${i}-${randomUUID()}`;
  const reservation = newReservation(nonce, { request_hash: 'ab'.repeat(32), action: 'echo' });
  const draft: ReceiptDraft = {
    event: 'executed',
    action: 'echo',
    nonce,
    exec_id: reservation.id,
    request_hash: reservation.request_hash,
    payload: { message: `invoice ${i} for customer ${i % 97}` },
  };
  return { reservation, draft };
}

/** `total` pieces through `submit`, `concurrency` at a time. */
async function drive(total: number, concurrency: number, submit: (i: number) => Promise<unknown>): Promise<AppendFigures> {
  const latencies: number[] = [];
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        const i = next++;
        const s = performance.now();
        await submit(i);
        latencies.push(performance.now() - s);
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    concurrency,
    appends: total,
    appendsPerSecond: Math.round(total / seconds),
    p50ms: percentile(latencies, 50),
    p99ms: percentile(latencies, 99),
  };
}

export async function benchPostgresAppends(cluster: PgCluster, concurrencies: number[], total: number): Promise<AppendFigures[]> {
  const figures: AppendFigures[] = [];
  for (const concurrency of concurrencies) {
    const db = await migratedDatabase(cluster, `bench_append_${concurrency}`);
    const store = await PostgresLedgerStore.open({ url: db.appUrl, signer: Ed25519Signer.generate() });
    const submit = (i: number) =>
      store.witness(async (tx) => {
        const { reservation, draft } = piece(i);
        if (!(await tx.reserveNonce(reservation))) throw new Error('a fresh nonce was refused');
        return tx.append(draft);
      });
    try {
      // Warm the pool and register the key outside the timed run.
      await drive(Math.min(100, total), concurrency, submit);
      figures.push(await drive(total, concurrency, submit));
    } finally {
      await store.close();
    }
  }
  return figures;
}

export async function benchSqliteAppends(
  synchronous: 'NORMAL' | 'FULL',
  concurrencies: number[],
  total: number,
): Promise<(AppendFigures & { synchronous: string })[]> {
  const figures: (AppendFigures & { synchronous: string })[] = [];
  for (const concurrency of concurrencies) {
    const dir = tempDir('openexec-sqlite-append-bench-');
    const db = openDatabase(join(dir, 'ledger.db'), { synchronous });
    const ledger = new Ledger(db, Ed25519Signer.generate(), systemClock);
    const store = new SqliteLedgerStore(db, ledger, new ExecutionStore(db), new ProposalStore(db));
    const submit = (i: number) =>
      store.witness(async (tx) => {
        const { reservation, draft } = piece(i);
        await tx.reserveNonce(reservation);
        return tx.append(draft);
      });
    try {
      await drive(Math.min(100, total), concurrency, submit);
      figures.push({ synchronous, ...(await drive(total, concurrency, submit)) });
    } finally {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return figures;
}
