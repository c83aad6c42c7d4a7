/**
 * The PostgreSQL store's own guarantees, against a real throwaway cluster: migrations, the
 * roles and triggers that keep receipts append-only, the chain trigger, passwords kept out of
 * errors, NOTIFY between instances, and real separate processes appending to one ledger.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import pg from 'pg';
import { Ed25519Signer, Ed25519Verifier } from '../../../src/main/core/crypto/ed25519.ts';
import type { LedgerChange } from '../../../src/main/core/store/ledger-store.ts';
import { FOLLOWER_APPLICATION_NAME, LedgerFollower } from '../../../src/main/core/store/postgres/pg-follow.ts';
import { PostgresLedgerStore } from '../../../src/main/core/store/postgres/pg-ledger-store.ts';
import { migratePostgres, PG_SCHEMA_VERSION } from '../../../src/main/core/store/postgres/pg-migrations.ts';
import { openPool } from '../../../src/main/core/store/postgres/pg-pool.ts';
import { verifyStoreChain } from '../../../src/main/core/store/postgres/pg-verify.ts';
import { REPO_ROOT } from '../../support/harness.ts';
import { corpusDrafts, sqliteReference, steppingClock } from '../../support/search-corpus.ts';
import { NODE_BIN } from '../../support/server-process.ts';
import { migratedDatabase, postgresAvailability, startCluster, type PgCluster, type TestDatabase } from '../../support/postgres.ts';

const available = postgresAvailability();

/** Resolves when `predicate` holds for what has been collected; the test's timeout bounds the wait. */
async function until(predicate: () => boolean): Promise<void> {
  while (!predicate()) await new Promise((r) => setTimeout(r, 20));
}

describe.skipIf(!available.ok)('the PostgreSQL ledger store (real throwaway cluster)', () => {
  let cluster: PgCluster;
  let databases = 0;
  const pools: pg.Pool[] = [];
  const closers: (() => Promise<void>)[] = [];
  const pool = (url: string) => {
    const p = new pg.Pool({ connectionString: url, max: 2 });
    pools.push(p);
    return p;
  };
  const fresh = () => migratedDatabase(cluster, `store_${++databases}`);
  const openStore = async (db: TestDatabase, signer = Ed25519Signer.generate()) => {
    const store = await PostgresLedgerStore.open({ url: db.appUrl, signer });
    closers.push(() => store.close());
    return store;
  };

  beforeAll(async () => {
    if (available.ok) cluster = await startCluster(available);
  });
  afterAll(async () => {
    for (const close of closers) await close();
    await Promise.all(pools.map((p) => p.end()));
    await cluster?.stop();
  });

  test('migrations are versioned, idempotent, and applied once by two instances starting together', async () => {
    const db = await cluster.createDatabase(`migrate_${++databases}`);
    const [a, b] = [pool(db.ownerUrl), pool(db.ownerUrl)];
    const applied = await Promise.all([
      migratePostgres(a, { appRole: cluster.app.user }),
      migratePostgres(b, { appRole: cluster.app.user }),
    ]);
    expect(applied.flat().sort()).toEqual(Array.from({ length: PG_SCHEMA_VERSION }, (_, i) => i + 1));
    expect(await migratePostgres(a, { appRole: cluster.app.user })).toEqual([]);
    const { rows } = await a.query('SELECT version FROM schema_migrations ORDER BY version');
    expect(rows.map((r: { version: number }) => r.version)).toEqual(Array.from({ length: PG_SCHEMA_VERSION }, (_, i) => i + 1));

    // A schema from a newer OpenExec is left alone, by the migrator and by the store.
    await a.query('INSERT INTO schema_migrations (version) VALUES ($1)', [PG_SCHEMA_VERSION + 1]);
    await expect(migratePostgres(a)).rejects.toThrow(`database schema version ${PG_SCHEMA_VERSION + 1} is newer than this OpenExec`);
    await expect(PostgresLedgerStore.open({ url: db.appUrl, signer: Ed25519Signer.generate() })).rejects.toThrow(
      `has schema version ${PG_SCHEMA_VERSION + 1}, this OpenExec needs ${PG_SCHEMA_VERSION}`,
    );
    // And a database nobody migrated is refused with what to do.
    const empty = await cluster.createDatabase(`unmigrated_${++databases}`);
    await expect(PostgresLedgerStore.open({ url: empty.appUrl, signer: Ed25519Signer.generate() })).rejects.toThrow(
      /has schema version 0, this OpenExec needs \d+ \(run the migrations as the database owner\)/,
    );
    await expect(migratePostgres(a, { appRole: 'Robert"; DROP TABLE receipts; --' })).rejects.toThrow(/not a plain lower-case identifier/);
  });

  test('receipts are append-only: the app role has no UPDATE, DELETE or TRUNCATE, and the trigger refuses even the owner', async () => {
    const db = await fresh();
    const store = await openStore(db);
    await store.witness(async (tx) => {
      await tx.append({ event: 'config', reason: 'one' });
      await tx.append({ event: 'config', reason: 'two' });
    });
    const [app, owner] = [pool(db.appUrl), pool(db.ownerUrl)];
    for (const table of ['receipts', 'merkle_nodes']) {
      // CASCADE: without it the foreign keys into receipts would refuse first.
      for (const sql of [`UPDATE ${table} SET hash = hash`, `DELETE FROM ${table}`, `TRUNCATE ${table} CASCADE`]) {
        await expect(app.query(sql), `${cluster.app.user}: ${sql}`).rejects.toMatchObject({ code: '42501' });
        await expect(owner.query(sql), `${cluster.owner.user}: ${sql}`).rejects.toThrow(`${table} are append-only`);
      }
    }
    // Even a statement that matches no row is refused.
    await expect(owner.query('DELETE FROM receipts WHERE seq > 1000')).rejects.toThrow('receipts are append-only');
    expect((await store.readRange(1, 10)).map((r) => r.reason)).toEqual(['one', 'two']);
  });

  test('a spent nonce or approval is never freed: no DELETE for anyone, the app may only record an outcome', async () => {
    const db = await fresh();
    const store = await openStore(db);
    const execId = await store.witness(async (tx) => {
      const r = {
        id: 'exec-1',
        nonce: 'n-1',
        request_hash: 'e'.repeat(64),
        action: 'greet',
        approval_id: 'a-1',
        created_at: 'now',
        agent: null,
      };
      await tx.reserveNonce(r);
      const approval = {
        approvalId: 'a-1',
        tenantId: 't',
        actionHash: 'e'.repeat(64),
        issuedAt: 'i',
        expiresAt: 'x',
        approver: 'operator' as const,
        approverKeyId: 'k',
        messageHash: 'm'.repeat(64),
      };
      await tx.spendApproval({ approval, action: 'greet', verifiedAt: 'now', execId: r.id });
      return r.id;
    });
    const [app, owner] = [pool(db.appUrl), pool(db.ownerUrl)];
    await expect(app.query("UPDATE executions SET nonce = 'n-2'")).rejects.toMatchObject({ code: '42501' });
    await expect(app.query("UPDATE executions SET id = 'other'")).rejects.toMatchObject({ code: '42501' });
    await expect(app.query("UPDATE approvals SET message_hash = 'x'")).rejects.toMatchObject({ code: '42501' });
    for (const table of ['executions', 'approvals']) {
      await expect(app.query(`DELETE FROM ${table}`)).rejects.toMatchObject({ code: '42501' });
      await expect(app.query(`TRUNCATE ${table} CASCADE`)).rejects.toMatchObject({ code: '42501' });
      await expect(owner.query(`DELETE FROM ${table}`)).rejects.toThrow(`${table} are append-only`);
      await expect(owner.query(`TRUNCATE ${table} CASCADE`)).rejects.toThrow(/are append-only/);
    }
    await expect(owner.query("UPDATE approvals SET message_hash = 'x'")).rejects.toThrow('approvals are append-only');
    // Recording the outcome is what the app may do.
    const ended = await app.query("UPDATE executions SET status = 'executed', result = '{}' WHERE id = $1", [execId]);
    expect(ended.rowCount).toBe(1);
  });

  test('the database itself keeps seq gapless and the chain single, whoever inserts', async () => {
    const db = await fresh();
    const store = await openStore(db);
    await store.witness((tx) => tx.append({ event: 'config' }));
    const [tip] = await store.readRange(1, 1);
    const owner = pool(db.ownerUrl);
    const insert = (seq: number, hash: string, prev: string) =>
      owner.query(
        `INSERT INTO receipts (seq, event, time, hash, prev_hash, body, signature, search) VALUES ($1, 'config', 't', $2, $3, '{}', 's', '')`,
        [seq, hash, prev],
      );
    await expect(insert(3, 'c'.repeat(64), tip!.hash)).rejects.toThrow('receipt 3 does not follow receipt 2');
    await expect(insert(2, 'c'.repeat(64), 'd'.repeat(64))).rejects.toThrow('receipt 2 does not follow receipt 1');
    await expect(insert(1, 'c'.repeat(64), '0'.repeat(64))).rejects.toMatchObject({ code: '23505' });
    await expect(insert(2, 'c'.repeat(64), '0'.repeat(64))).rejects.toThrow(/does not follow|duplicate key/);
  });

  test('a process that hangs inside a group cannot hold the ledger: the server ends its session and the others go on', async () => {
    const db = await fresh();
    const stuck = await PostgresLedgerStore.open({ url: db.appUrl, signer: Ed25519Signer.generate(), idleInTransactionMs: 500 });
    closers.push(() => stuck.close());
    const other = await openStore(db);
    let release!: () => void;
    const hung = stuck.witness(async (tx) => {
      await tx.append({ event: 'config', reason: 'stuck' });
      await new Promise<void>((r) => (release = r));
    });
    const locks = pool(db.superUrl);
    const held = async () =>
      (await locks.query("SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND granted")).rows[0].n as number;
    while ((await held()) === 0) await new Promise((r) => setTimeout(r, 20));
    // Waits for the lock until the server ends the stuck session, then appends as receipt 1.
    const appended = await other.witness((tx) => tx.append({ event: 'config', reason: 'other' }));
    expect(appended.seq).toBe(1);
    release();
    await expect(hung).rejects.toMatchObject({ name: 'PostgresStoreError', code: 'unavailable' });
    expect((await other.readRange(1, 10)).map((r) => r.reason)).toEqual(['other']);
    // The stuck instance's pool recovers: its next write is receipt 2.
    expect((await stuck.witness((tx) => tx.append({ event: 'config', reason: 'again' }))).seq).toBe(2);
  });

  test('the password never appears in an error: wrong password, password in the query, unreachable server', async () => {
    const db = await fresh();
    const secret = `Wr0ng-${randomBytes(9).toString('hex')}`;
    const urls = [
      cluster.url({ user: cluster.app.user, password: secret }, db.name),
      `postgresql://${cluster.app.user}@127.0.0.1:${cluster.port}/${db.name}?password=${secret}`,
      `postgresql://${cluster.app.user}:${secret}@127.0.0.1:1/${db.name}`,
    ];
    for (const url of urls) {
      const attempts: (() => Promise<unknown>)[] = [
        () => openPool(url),
        () => PostgresLedgerStore.open({ url, signer: Ed25519Signer.generate() }),
        () => LedgerFollower.start({ url, onChange: () => undefined }),
      ];
      for (const attempt of attempts) {
        const err = await attempt().then(
          () => null,
          (e: unknown) => e,
        );
        expect(err).toBeInstanceOf(Error);
        const everything = `${(err as Error).message}\n${(err as Error).stack}\n${inspect(err, { depth: 10 })}\n${JSON.stringify(err)}`;
        expect(everything).not.toContain(secret);
        expect((err as Error).message).toContain(`${cluster.app.user}@127.0.0.1:`);
      }
    }
    const wrong = await openPool(urls[0]!).catch((e: Error) => e);
    expect(String(wrong)).toMatch(/password authentication failed/);
  });

  test('NOTIFY tells another instance the new head and the proposals, and the follower reconnects and catches up', async () => {
    const db = await fresh();
    const writer = await openStore(db);
    const changes: LedgerChange[] = [];
    const errors: string[] = [];
    const follower = await LedgerFollower.start({
      url: db.appUrl,
      onChange: (c) => changes.push(c),
      onError: (e) => errors.push(e.message),
      retryMs: 50,
    });
    closers.push(() => follower.close());

    await Promise.all([
      writer.witness((tx) => tx.append({ event: 'proposed', action: 'greet', proposal_id: 'p-1' })),
      writer.witness((tx) => tx.append({ event: 'proposed', action: 'greet', proposal_id: 'p-2' })),
    ]);
    await until(() => changes.some((c) => c.head === 2));
    expect(changes).toEqual([{ head: 2, proposalIds: ['p-1', 'p-2'] }]);

    // A rolled-back write announces nothing.
    await expect(
      writer.witness(async (tx) => {
        await tx.append({ event: 'proposed', proposal_id: 'p-never' });
        throw new Error('no');
      }),
    ).rejects.toThrow('no');

    // Cut the follower's connection; what commits meanwhile is reported once it is back.
    const superuser = pool(db.superUrl);
    const { rowCount } = await superuser.query(
      'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1 AND datname = $2',
      [FOLLOWER_APPLICATION_NAME, db.name],
    );
    expect(rowCount).toBe(1);
    await until(() => errors.length > 0);
    await writer.witness((tx) => tx.append({ event: 'approved', proposal_id: 'p-1' }));
    await until(() => changes.some((c) => c.head === 3));
    expect(changes.at(-1)!.head).toBe(3);
    expect(follower.head).toBe(3);
    expect(errors[0]).toContain(`${cluster.app.user}@127.0.0.1:${cluster.port}/${db.name}`);
    // Listening again: the next notice arrives with its proposals.
    await writer.witness((tx) => tx.append({ event: 'executed', proposal_id: 'p-2' }));
    await until(() => changes.some((c) => c.head === 4));
    expect(changes.at(-1)).toEqual({ head: 4, proposalIds: ['p-2'] });
  });

  test('the Merkle nodes are the ones the SQLite ledger stores for the same receipts', async () => {
    const signer = Ed25519Signer.generate();
    const drafts = corpusDrafts();
    const db = await fresh();
    // The SQLite reference's clock, which forgets the instant a rolled-back receipt took.
    let ticks = 0;
    const clock = { now: () => Date.UTC(2026, 0, 1, 12, 0, 0) + 1000 * ++ticks };
    const store = await PostgresLedgerStore.open({ url: db.appUrl, signer, clock });
    closers.push(() => store.close());
    // One group, with pieces that write Merkle nodes and roll back among the others.
    const writes = drafts.flatMap((d, i) => [
      store.witness((tx) => tx.append(d)),
      ...(i % 6 === 2
        ? [
            store
              .witness(async (tx) => {
                await tx.append({ event: 'config', reason: 'rolled back' });
                await tx.append({ event: 'config', reason: 'rolled back' });
                ticks -= 2;
                throw new Error('rolled back');
              })
              .catch(() => null),
          ]
        : []),
    ]);
    await Promise.all(writes);
    const sqlite = sqliteReference(drafts, signer, steppingClock());
    const want = sqlite.prepare('SELECT level, idx, hex(hash) AS hash FROM merkle_nodes ORDER BY level, idx').all() as {
      level: number;
      idx: number;
      hash: string;
    }[];
    sqlite.close();
    const { rows } = await pool(db.ownerUrl).query<{ level: number; idx: string; hash: string }>(
      "SELECT level, idx, upper(encode(hash, 'hex')) AS hash FROM merkle_nodes ORDER BY level, idx",
    );
    expect(rows.map((r) => ({ ...r, idx: Number(r.idx) }))).toEqual(want);
    expect(want.length).toBeGreaterThan(drafts.length / 2);
    expect((await store.head()).seq).toBe(drafts.length);
  });

  describe('two OpenExec processes on one database', () => {
    /** Starts a child process appending to `url`; resolves once its store is open. */
    function child(url: string, seed: Buffer, mode: 'nonce' | 'append', count: number, tag: string) {
      const proc: ChildProcess = spawn(
        NODE_BIN,
        ['--import', 'tsx', 'test/support/pg-ledger-child.ts', url, seed.toString('hex'), mode, String(count), tag],
        {
          cwd: REPO_ROOT,
          stdio: ['pipe', 'pipe', 'pipe'],
        },
      );
      let out = '';
      proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
      proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
      const ready = until(() => out.includes('ready\n') || proc.exitCode !== null).then(() => {
        if (!out.includes('ready\n')) throw new Error(`child failed:\n${out}`);
      });
      const done = new Promise<{ won: number; failed: string[] }>((resolve, reject) =>
        proc.on('exit', (code) => {
          const line = out.trim().split('\n').at(-1) ?? '';
          if (code === 0) resolve(JSON.parse(line) as { won: number; failed: string[] });
          else reject(new Error(`child exited with ${code}:\n${out}`));
        }),
      );
      return { ready, go: () => proc.stdin!.write('go\n'), done };
    }

    test('64 concurrent requests with one nonce, 32 in each process: exactly one execution and one receipt for it', async () => {
      const db = await fresh();
      const seeds = [randomBytes(32), randomBytes(32)];
      const kids = seeds.map((seed, i) => child(db.appUrl, seed, 'nonce', 32, `p${i}`));
      await Promise.all(kids.map((k) => k.ready));
      kids.forEach((k) => k.go());
      const results = await Promise.all(kids.map((k) => k.done));
      expect(results.flatMap((r) => r.failed)).toEqual([]);
      expect(results.reduce((n, r) => n + r.won, 0)).toBe(1);

      const owner = pool(db.ownerUrl);
      const executions = await owner.query("SELECT id FROM executions WHERE nonce = 'the-one-nonce'");
      expect(executions.rows).toHaveLength(1);
      const executed = await owner.query("SELECT exec_id FROM receipts WHERE event = 'executed'");
      expect(executed.rows).toEqual([{ exec_id: (executions.rows[0] as { id: string }).id }]);
      expect((await owner.query("SELECT count(*)::int AS n FROM receipts WHERE event = 'replayed'")).rows).toEqual([{ n: 63 }]);
      const store = await openStore(db);
      expect(
        await verifyStoreChain(
          store,
          seeds.map((s) => new Ed25519Verifier(Ed25519Signer.fromSeed(s).publicKey)),
        ),
      ).toEqual({
        valid: true,
        checked: 64,
        firstBadSeq: null,
        problem: null,
      });
    });

    test('concurrent appends from two processes: gapless seq, one chain that verifies, each receipt by its own key', async () => {
      const db = await fresh();
      const seeds = [randomBytes(32), randomBytes(32)];
      const kids = seeds.map((seed, i) => child(db.appUrl, seed, 'append', 150, `process-${i}`));
      await Promise.all(kids.map((k) => k.ready));
      kids.forEach((k) => k.go());
      const results = await Promise.all(kids.map((k) => k.done));
      expect(results.flatMap((r) => r.failed)).toEqual([]);

      const store = await openStore(db);
      const receipts = await store.readRange(1, 1000);
      expect(receipts.map((r) => r.seq)).toEqual(Array.from({ length: 300 }, (_, i) => i + 1));
      const verifiers = seeds.map((s) => new Ed25519Verifier(Ed25519Signer.fromSeed(s).publicKey));
      expect(await verifyStoreChain(store, verifiers)).toEqual({ valid: true, checked: 300, firstBadSeq: null, problem: null });
      for (const i of [0, 1]) {
        const mine = receipts.filter((r) => r.reason?.startsWith(`process-${i} `));
        expect(mine.map((r) => r.reason).sort()).toEqual(Array.from({ length: 150 }, (_, n) => `process-${i} ${n}`).sort());
        expect(mine.every((r) => r.body.includes(`"receipt_key_id":"${verifiers[i]!.keyId}"`))).toBe(true);
      }
      // One key alone does not verify the other's receipts.
      expect(await verifyStoreChain(store, [verifiers[0]!])).toMatchObject({
        valid: false,
        problem: expect.stringContaining('not registered'),
      });
    });
  });
});
