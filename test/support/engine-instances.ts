/**
 * The execution engine on both ledger engines, for tests that hold both to the same
 * guarantees: on SQLite over a real file (each instance a connection of its own, signing with
 * the ledger's one key), on PostgreSQL over a throwaway cluster (each instance a pool of its
 * own and, unless told otherwise, a receipt key of its own), each instance with its own record
 * stores. ClawShield mode, with `approver` the one trusted approver.
 */
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, test } from 'vitest';
import {
  sealRegistry,
  type ActionDefinition,
  type ActionHandler,
  type ActionRegistry,
} from '../../src/main/core/actions/action-registry.ts';
import { systemClock } from '../../src/main/core/clock.ts';
import { Ed25519Signer, Ed25519Verifier } from '../../src/main/core/crypto/ed25519.ts';
import { AllowList } from '../../src/main/core/engine/allow-list.ts';
import { Engine, type EngineOptions } from '../../src/main/core/engine/engine.ts';
import { ExecutionStore } from '../../src/main/core/engine/execution-store.ts';
import { Ledger } from '../../src/main/core/ledger/ledger.ts';
import { LedgerReader } from '../../src/main/core/ledger/ledger-reader.ts';
import { openDatabase, type SqliteDatabase } from '../../src/main/core/store/database.ts';
import type { ExecutionRecords } from '../../src/main/core/store/execution-records.ts';
import type { LedgerStore } from '../../src/main/core/store/ledger-store.ts';
import { PostgresExecutionRecords } from '../../src/main/core/store/postgres/pg-execution-records.ts';
import { PostgresLedgerStore } from '../../src/main/core/store/postgres/pg-ledger-store.ts';
import { FOLLOWER_APPLICATION_NAME } from '../../src/main/core/store/postgres/pg-follow.ts';
import { verifyStoreChain } from '../../src/main/core/store/postgres/pg-verify.ts';
import { SettingsStore } from '../../src/main/core/store/settings-store.ts';
import type { SettingRecords } from '../../src/main/core/store/setting-records.ts';
import { PostgresSettingRecords } from '../../src/main/core/store/postgres/pg-setting-records.ts';
import {
  SqliteGrantRecords,
  SqliteProposalRecords,
  SqliteSettingRecords,
  SqliteToolPinRecords,
} from '../../src/main/core/store/sqlite/sqlite-records.ts';
import type { GrantRecords } from '../../src/main/core/store/grant-records.ts';
import type { ProposalRecords } from '../../src/main/core/store/proposal-records.ts';
import type { ToolPinRecords } from '../../src/main/core/store/tool-pin-records.ts';
import { PostgresGrantRecords } from '../../src/main/core/store/postgres/pg-grant-records.ts';
import { PostgresProposalRecords } from '../../src/main/core/store/postgres/pg-proposal-records.ts';
import { PostgresToolPinRecords } from '../../src/main/core/store/postgres/pg-tool-pin-records.ts';
import { ToolPinTable } from '../../src/main/core/actions/tool-pin-table.ts';
import { GrantStore } from '../../src/main/core/grants/grant-store.ts';
import { ProposalStore } from '../../src/main/core/proposals/proposal-store.ts';
import { SqliteExecutionRecords } from '../../src/main/core/store/sqlite/sqlite-execution-records.ts';
import { SqliteLedgerStore } from '../../src/main/core/store/sqlite/sqlite-ledger-store.ts';
import type { TestApprover } from './clawshield.ts';
import { tempDir } from './harness.ts';
import { setTimeout as sleep } from 'node:timers/promises';
import { Refusal } from '../../src/main/core/errors.ts';
import type { ClosedOrphans } from '../../src/main/core/engine/close-orphans.ts';
import { migratedDatabase, postgresAvailability, startCluster } from './postgres.ts';
import { asOwnerWithoutTriggers } from './pg-ledger-fixture.ts';

/** An instance's record stores, on its own connection, as OpenExecCore gives them to the engine. */
export interface InstanceRecords {
  proposals: ProposalRecords;
  grants: GrantRecords;
  settings: SettingRecords;
  toolPins: ToolPinRecords;
}

export interface EngineInstance {
  engine: Engine;
  registry: ActionRegistry;
  ledger: LedgerStore;
  executions: ExecutionRecords;
  key: Ed25519Signer;
  records: InstanceRecords;
  allowList: AllowList;
}

export interface InstanceOptions extends Partial<EngineOptions> {
  /** The allow-list as the operator stores it in the database (as OpenExecCore has it), not fixed to `actions`. */
  storedAllowList?: boolean;
  /** Options over this instance's own records (OpenExecCore's wiring), added to the others. */
  wired?: (records: InstanceRecords) => Partial<EngineOptions>;
  /** PostgreSQL: the ledger store hears every instance's receipts (`follow`); SQLite has one writer. */
  follow?: { onError?: (err: unknown) => void };
}

export interface EngineDatabase {
  /** A new OpenExec instance on this database with these actions (allowed), signing with `key` where the engine allows. */
  instance(
    actions: Record<string, ActionDefinition | ActionHandler>,
    key?: Ed25519Signer,
    options?: InstanceOptions,
  ): Promise<EngineInstance>;
  /** The whole chain checked as this engine's verifier does; `checked` receipts. */
  verify(): Promise<{ valid: boolean; checked: number; problem: string | null }>;
  /** Replaces `from` with `to` in receipt `seq`'s stored body (nothing else), as someone holding the database could. */
  tamper(seq: number, from: string, to: string): Promise<void>;
  /** Ends every instance's notification connection, as a server restart would; how many (none on SQLite). */
  cutFollowers(): Promise<number>;
}

export interface EngineSetup {
  name: string;
  skip: string | null;
  /** Whether each instance signs with a key of its own (PostgreSQL) or the ledger's one (SQLite). */
  keyPerInstance: boolean;
  setup(approver: TestApprover): Promise<{ fresh(): Promise<EngineDatabase>; teardown(): Promise<void> }>;
}

async function engineOn(
  ledger: LedgerStore,
  executions: ExecutionRecords,
  records: InstanceRecords,
  actions: Record<string, ActionDefinition | ActionHandler>,
  approver: TestApprover,
  { storedAllowList, wired, follow: _follow, ...options }: InstanceOptions = {},
) {
  const registry = sealRegistry(actions);
  const approvers = [{ kind: 'clawshield' as const, verifier: new Ed25519Verifier(approver.signer.publicKey) }];
  const allowList = new AllowList(records.settings, registry, storedAllowList ? null : Object.keys(actions));
  await allowList.load();
  const engine = new Engine(ledger, executions, registry, allowList, systemClock, {
    mode: 'clawshield',
    approvalPolicy: { approvers, tenantId: null, clockSkewMs: 0 },
    verifyThreads: 0,
    ...options,
    ...wired?.(records),
  });
  return { engine, allowList, registry };
}

function sqlite(): EngineSetup {
  return {
    name: 'SQLite',
    skip: null,
    keyPerInstance: false,
    async setup(approver) {
      const dir = tempDir('openexec-engines-');
      const open: { db: SqliteDatabase; engine: Engine }[] = [];
      let files = 0;
      return {
        async fresh() {
          const path = join(dir, `engine-${++files}.db`);
          const key = Ed25519Signer.generate();
          return {
            async instance(actions, _key, options) {
              const db = openDatabase(path, { synchronous: 'NORMAL' });
              const store = new ExecutionStore(db);
              const receipts = new Ledger(db, key, systemClock);
              const proposals = new ProposalStore(db);
              const ledger = new SqliteLedgerStore(db, receipts, store, proposals);
              const executions = new SqliteExecutionRecords(store, receipts.read);
              const records = {
                proposals: new SqliteProposalRecords(proposals),
                grants: new SqliteGrantRecords(new GrantStore(db)),
                settings: new SqliteSettingRecords(new SettingsStore(db)),
                toolPins: new SqliteToolPinRecords(new ToolPinTable(db)),
              };
              const { engine, allowList, registry } = await engineOn(ledger, executions, records, actions, approver, options);
              open.push({ db, engine });
              return { engine, registry, ledger, executions, key, records, allowList };
            },
            async verify() {
              const reader = LedgerReader.openReadOnly(path);
              try {
                return reader.verifyChain(new Ed25519Verifier(key.publicKey));
              } finally {
                reader.close();
              }
            },
            async tamper(seq, from, to) {
              const db = openDatabase(path, { synchronous: 'NORMAL' });
              try {
                db.exec('DROP TRIGGER IF EXISTS receipts_append_only_update');
                db.prepare('UPDATE receipts SET body = replace(body, ?, ?) WHERE seq = ?').run(from, to, seq);
              } finally {
                db.close();
              }
            },
            cutFollowers: async () => 0,
          };
        },
        async teardown() {
          for (const { db, engine } of open) {
            engine.close();
            db.close();
          }
        },
      };
    },
  };
}

function postgres(prefix: string): EngineSetup {
  const available = postgresAvailability();
  return {
    name: 'PostgreSQL',
    skip: available.ok ? null : available.reason,
    keyPerInstance: true,
    async setup(approver) {
      if (!available.ok) throw new Error(available.reason);
      const cluster = await startCluster(available);
      const stores: PostgresLedgerStore[] = [];
      const pools: pg.Pool[] = [];
      const engines: Engine[] = [];
      let databases = 0;
      return {
        async fresh() {
          const db = await migratedDatabase(cluster, `${prefix}_${++databases}`);
          let first: LedgerStore | undefined;
          return {
            async instance(actions, key = Ed25519Signer.generate(), options) {
              const follow = options?.follow ? { follow: options.follow } : {};
              const ledger = await PostgresLedgerStore.open({ url: db.appUrl, signer: key, ...follow });
              const pool = new pg.Pool({ connectionString: db.appUrl, max: 4 });
              stores.push(ledger);
              pools.push(pool);
              first ??= ledger;
              const executions = new PostgresExecutionRecords(pool, key.keyId);
              const records = {
                proposals: new PostgresProposalRecords(pool),
                grants: new PostgresGrantRecords(pool),
                settings: new PostgresSettingRecords(pool),
                toolPins: new PostgresToolPinRecords(pool),
              };
              const { engine, allowList, registry } = await engineOn(ledger, executions, records, actions, approver, options);
              engines.push(engine);
              return { engine, registry, ledger, executions, key, records, allowList };
            },
            verify: () => verifyStoreChain(first!),
            async tamper(seq, from, to) {
              const owner = new pg.Pool({ connectionString: db.ownerUrl, max: 1 });
              pools.push(owner);
              const sql = 'UPDATE receipts SET body = replace(body, $1, $2) WHERE seq = $3';
              await asOwnerWithoutTriggers(owner, ['receipts'], sql, [from, to, seq]);
            },
            async cutFollowers() {
              const cut = await cluster.superQuery(
                db.name,
                'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name LIKE $1 AND datname = $2',
                [`${FOLLOWER_APPLICATION_NAME}%`, db.name],
              );
              return cut.rowCount ?? 0;
            },
          };
        },
        async teardown() {
          for (const engine of engines) engine.close();
          await Promise.all(stores.map((s) => s.close()));
          await Promise.all(pools.map((p) => p.end()));
          await cluster.stop();
        },
      };
    },
  };
}

/**
 * Retires receipt key `keyId` at `at` (Engine.closeInterruptedOf) once the instance that held it,
 * just closed, has left the server's session list: a closed connection's backend leaves
 * pg_stat_activity a moment after its socket closes, and is refused as connected until then.
 */
export async function retireWhenGone(at: EngineInstance, keyId: string): Promise<ClosedOrphans> {
  for (let i = 0; ; i++) {
    try {
      return await at.engine.closeInterruptedOf(keyId);
    } catch (err) {
      if (!(err instanceof Refusal && err.code === 'conflict') || i >= 100) throw err;
      await sleep(20);
    }
  }
}

/** Both engines; `prefix` names the PostgreSQL databases of one test file. */
export function engineSetups(prefix: string): EngineSetup[] {
  return [sqlite(), postgres(prefix)];
}

/** Call inside `describe.each(engineSetups(…))`: set up before the block, torn down after it. */
export function useEngines(
  setup: EngineSetup,
  approver: TestApprover,
): { fresh(): Promise<EngineDatabase>; it: ReturnType<typeof test.skipIf> } {
  let env: Awaited<ReturnType<EngineSetup['setup']>> | undefined;
  beforeAll(async () => {
    if (setup.skip === null) env = await setup.setup(approver);
  });
  afterAll(async () => {
    await env?.teardown();
  });
  return {
    fresh() {
      if (env === undefined) throw new Error(`${setup.name} is not set up`);
      return env.fresh();
    },
    it: test.skipIf(setup.skip !== null),
  };
}
