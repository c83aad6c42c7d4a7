/**
 * The `pgexecute` part of `npm run bench`: the execution engine itself, without HTTP
 * (`pghttp`, pg-http-execute-bench.ts, goes through the API), in clawshield mode, the built-in `add`, each request with a fresh valid
 * artifact and a unique nonce, on SQLite (NORMAL and FULL) and on PostgreSQL (fsync on; one
 * instance, and at the highest level two instances on one database taking half the requests
 * each), in one run. The engines take turns within each level, the first one rotating from
 * level to level, so the machine's noise weighs on each alike. Without PostgreSQL it prints why
 * and reports `skipped`.
 */
import { join } from 'node:path';
import { rmSync } from 'node:fs';
import pg from 'pg';
import { sealRegistry } from '../src/main/core/actions/action-registry.ts';
import { BUILTIN_ACTIONS } from '../src/main/core/actions/builtin-actions.ts';
import { systemClock } from '../src/main/core/clock.ts';
import { Ed25519Signer, Ed25519Verifier } from '../src/main/core/crypto/ed25519.ts';
import { AllowList } from '../src/main/core/engine/allow-list.ts';
import { Engine, type ExecuteRequest } from '../src/main/core/engine/engine.ts';
import { ExecutionStore } from '../src/main/core/engine/execution-store.ts';
import type { JsonObject } from '../src/main/core/json/json-value.ts';
import { parseJson } from '../src/main/core/json/parse.ts';
import { Ledger } from '../src/main/core/ledger/ledger.ts';
import { openDatabase } from '../src/main/core/store/database.ts';
import type { ExecutionRecords } from '../src/main/core/store/execution-records.ts';
import type { LedgerStore } from '../src/main/core/store/ledger-store.ts';
import { PostgresExecutionRecords } from '../src/main/core/store/postgres/pg-execution-records.ts';
import { PostgresLedgerStore } from '../src/main/core/store/postgres/pg-ledger-store.ts';
import { SettingsStore } from '../src/main/core/store/settings-store.ts';
import type { SettingRecords } from '../src/main/core/store/setting-records.ts';
import { PostgresSettingRecords } from '../src/main/core/store/postgres/pg-setting-records.ts';
import { SqliteSettingRecords } from '../src/main/core/store/sqlite/sqlite-records.ts';
import { SqliteExecutionRecords } from '../src/main/core/store/sqlite/sqlite-execution-records.ts';
import { SqliteLedgerStore } from '../src/main/core/store/sqlite/sqlite-ledger-store.ts';
import { ProposalStore } from '../src/main/core/proposals/proposal-store.ts';
import { TestApprover } from '../test/support/clawshield.ts';
import { tempDir } from '../test/support/harness.ts';
import { migratedDatabase, postgresAvailability, startCluster, type PgCluster } from '../test/support/postgres.ts';
import { timedCalls } from './execute-bench.ts';
import { compareEngines, loadAverage, type Setup } from './engine-comparison.ts';

const TENANT = 'tenant-001';

/** The engine as OpenExecCore builds it, on any ledger engine, with only `add` allowed. */
function engineOn(ledger: LedgerStore, executions: ExecutionRecords, settings: SettingRecords, approver: TestApprover): Engine {
  const registry = sealRegistry({ add: BUILTIN_ACTIONS['add']! });
  return new Engine(ledger, executions, registry, new AllowList(settings, registry, ['add']), systemClock, {
    mode: 'clawshield',
    approvalPolicy: {
      approvers: [{ kind: 'clawshield', verifier: new Ed25519Verifier(approver.signer.publicKey) }],
      tenantId: TENANT,
      clockSkewMs: 0,
    },
  });
}

interface Engines {
  engines: Engine[];
  close(): Promise<void>;
}

function sqliteEngine(dir: string, synchronous: 'NORMAL' | 'FULL', approver: TestApprover): Engines {
  const db = openDatabase(join(dir, `ledger-${synchronous}.db`), { synchronous });
  const store = new ExecutionStore(db);
  const receipts = new Ledger(db, Ed25519Signer.generate(), systemClock);
  const ledger = new SqliteLedgerStore(db, receipts, store, new ProposalStore(db));
  const engine = engineOn(
    ledger,
    new SqliteExecutionRecords(store, receipts.read),
    new SqliteSettingRecords(new SettingsStore(db)),
    approver,
  );
  return {
    engines: [engine],
    async close() {
      engine.close();
      db.close();
    },
  };
}

/** `count` instances on one new database, each with a pool and a receipt key of its own. */
async function postgresEngines(cluster: PgCluster, name: string, count: number, approver: TestApprover) {
  const db = await migratedDatabase(cluster, name);
  const parts = await Promise.all(
    Array.from({ length: count }, async () => {
      const key = Ed25519Signer.generate();
      const ledger = await PostgresLedgerStore.open({ url: db.appUrl, signer: key });
      const pool = new pg.Pool({ connectionString: db.appUrl, max: 4 });
      return {
        ledger,
        pool,
        engine: engineOn(ledger, new PostgresExecutionRecords(pool, key.keyId), new PostgresSettingRecords(pool), approver),
      };
    }),
  );
  return {
    engines: parts.map((p) => p.engine),
    async close() {
      for (const p of parts) p.engine.close();
      await Promise.all(parts.flatMap((p) => [p.ledger.close(), p.pool.end()]));
    },
  };
}

/** Minted just before the run, so every artifact is fresh; signing is not timed. */
function requests(tag: string, count: number, approver: TestApprover): ExecuteRequest[] {
  return Array.from({ length: count }, (_, i) => {
    const wire = `{"a":${i},"b":${count}}`;
    const artifact = approver.mint('add', wire, { tenant: TENANT });
    return { action: 'add', payload: parseJson(wire) as JsonObject, nonce: `${tag}-${i}`, artifact };
  });
}

export async function benchPostgresExecute(perLevel: number, concurrencies = [1, 16, 64]) {
  const available = postgresAvailability();
  if (!available.ok) {
    process.stderr.write(`pgexecute bench skipped: ${available.reason}\n`);
    return { skipped: available.reason };
  }
  const loadBefore = loadAverage();
  const approver = new TestApprover();
  const dir = tempDir('openexec-pgexecute-bench-');
  const cluster = await startCluster(available, { fsync: true });
  const opened: Engines[] = [];
  try {
    const setups = new Map<Setup, Engines>([
      ['SQLite NORMAL', sqliteEngine(dir, 'NORMAL', approver)],
      ['SQLite FULL', sqliteEngine(dir, 'FULL', approver)],
      ['PostgreSQL', await postgresEngines(cluster, 'bench_execute_one', 1, approver)],
      ['PostgreSQL ×2', await postgresEngines(cluster, 'bench_execute_two', 2, approver)],
    ]);
    opened.push(...setups.values());
    const { figures, ratios } = await compareEngines(
      (engine, tag, count, concurrency) => {
        const { engines } = setups.get(engine)!;
        const batch = requests(tag, count, approver);
        return timedCalls(count, concurrency, async (i) => (await engines[i % engines.length]!.execute(batch[i]!)).kind === 'executed');
      },
      perLevel,
      concurrencies,
    );
    return {
      what: 'Engine.execute without HTTP, clawshield mode, built-in add; PostgreSQL: throwaway cluster on 127.0.0.1, fsync on',
      loadAverage: { before: loadBefore, after: loadAverage() },
      figures,
      ratios,
    };
  } finally {
    for (const o of opened) await o.close();
    await cluster.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
