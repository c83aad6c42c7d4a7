/**
 * Several OpenExec instances on one PostgreSQL database, against a real throwaway cluster:
 * real separate processes appending, NOTIFY and a follower that reconnects, a hung process
 * losing the lock, and passwords kept out of errors.
 */
import { describe, expect, test } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { Ed25519Signer, Ed25519Verifier } from '../../../src/main/core/crypto/ed25519.ts';
import type { LedgerChange } from '../../../src/main/core/store/ledger-store.ts';
import { FOLLOWER_APPLICATION_NAME, LedgerFollower } from '../../../src/main/core/store/postgres/pg-follow.ts';
import { PostgresLedgerStore } from '../../../src/main/core/store/postgres/pg-ledger-store.ts';
import { openPool } from '../../../src/main/core/store/postgres/pg-pool.ts';
import { verifyStoreChain } from '../../../src/main/core/store/postgres/pg-verify.ts';
import { REPO_ROOT } from '../../support/harness.ts';
import { NODE_BIN } from '../../support/server-process.ts';
import { postgresAvailability } from '../../support/postgres.ts';
import { usePostgres } from '../../support/postgres-suite.ts';

/** Resolves when `predicate` holds for what has been collected; the test's timeout bounds the wait. */
async function until(predicate: () => boolean): Promise<void> {
  while (!predicate()) await new Promise((r) => setTimeout(r, 20));
}

describe.skipIf(!postgresAvailability().ok)('OpenExec instances on one PostgreSQL ledger (real throwaway cluster)', () => {
  const pgs = usePostgres('instances');

  test('a process that hangs inside a group cannot hold the ledger: the server ends its session and the others go on', async () => {
    const db = await pgs.fresh();
    const stuck = await pgs.openStore(db, { idleInTransactionMs: 500 });
    const other = await pgs.openStore(db);
    let release!: () => void;
    const hung = stuck.witness(async (tx) => {
      await tx.append({ event: 'config', reason: 'stuck' });
      await new Promise<void>((r) => (release = r));
    });
    const locks = pgs.pool(db.superUrl);
    const held = async () =>
      (await locks.query("SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND granted")).rows[0].n as number;
    while ((await held()) === 0) await new Promise((r) => setTimeout(r, 20));
    // Waits for the lock until the server ends the stuck session, then appends as receipt 2,
    // after its key registration (the stuck one's was rolled back with its group).
    const appended = await other.witness((tx) => tx.append({ event: 'config', reason: 'other' }));
    expect(appended.seq).toBe(2);
    release();
    await expect(hung).rejects.toMatchObject({ name: 'PostgresStoreError', code: 'unavailable' });
    expect((await other.readRange(1, 10)).map((r) => r.reason)).toEqual([`receipt key registered: ${other.keyId}`, 'other']);
    // The stuck instance's pool recovers: its next write registers its key, then is receipt 4.
    expect((await stuck.witness((tx) => tx.append({ event: 'config', reason: 'again' }))).seq).toBe(4);
    expect((await verifyStoreChain(stuck)).keys.map((k) => k.keyId)).toEqual([other.keyId, stuck.keyId]);
  });

  test('the password never appears in an error: wrong password, password in the query, unreachable server', async () => {
    const db = await pgs.fresh();
    const secret = `Wr0ng-${randomBytes(9).toString('hex')}`;
    const urls = [
      pgs.cluster.url({ user: pgs.cluster.app.user, password: secret }, db.name),
      `postgresql://${pgs.cluster.app.user}@127.0.0.1:${pgs.cluster.port}/${db.name}?password=${secret}`,
      `postgresql://${pgs.cluster.app.user}:${secret}@127.0.0.1:1/${db.name}`,
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
        expect((err as Error).message).toContain(`${pgs.cluster.app.user}@127.0.0.1:`);
      }
    }
    const wrong = await openPool(urls[0]!).catch((e: Error) => e);
    expect(String(wrong)).toMatch(/password authentication failed/);
  });

  test('NOTIFY tells another instance the new head and the proposals, and the follower reconnects and catches up', async () => {
    const db = await pgs.fresh();
    const writer = await pgs.openStore(db);
    const changes: LedgerChange[] = [];
    const errors: string[] = [];
    const follower = await LedgerFollower.start({
      url: db.appUrl,
      onChange: (c) => changes.push(c),
      onError: (e) => errors.push(e.message),
      retryMs: 50,
    });
    pgs.onClose(() => follower.close());

    await Promise.all([
      writer.witness((tx) => tx.append({ event: 'proposed', action: 'greet', proposal_id: 'p-1' })),
      writer.witness((tx) => tx.append({ event: 'proposed', action: 'greet', proposal_id: 'p-2' })),
    ]);
    // Receipt 1 registers the writer's key.
    await until(() => changes.some((c) => c.head === 3));
    expect(changes).toEqual([{ head: 3, proposalIds: ['p-1', 'p-2'] }]);

    // A rolled-back write announces nothing.
    await expect(
      writer.witness(async (tx) => {
        await tx.append({ event: 'proposed', proposal_id: 'p-never' });
        throw new Error('no');
      }),
    ).rejects.toThrow('no');

    // Cut the follower's connection; what commits meanwhile is reported once it is back.
    const superuser = pgs.pool(db.superUrl);
    const { rowCount } = await superuser.query(
      'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name LIKE $1 AND datname = $2',
      [`${FOLLOWER_APPLICATION_NAME}%`, db.name],
    );
    expect(rowCount).toBe(1);
    await until(() => errors.length > 0);
    await writer.witness((tx) => tx.append({ event: 'approved', proposal_id: 'p-1' }));
    await until(() => changes.some((c) => c.head === 4));
    expect(changes.at(-1)!.head).toBe(4);
    expect(follower.head).toBe(4);
    expect(errors[0]).toContain(`${pgs.cluster.app.user}@127.0.0.1:${pgs.cluster.port}/${db.name}`);
    // Listening again: the next notice arrives with its proposals.
    await writer.witness((tx) => tx.append({ event: 'executed', proposal_id: 'p-2' }));
    await until(() => changes.some((c) => c.head === 5));
    expect(changes.at(-1)).toEqual({ head: 5, proposalIds: ['p-2'] });
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
      const db = await pgs.fresh();
      const seeds = [randomBytes(32), randomBytes(32)];
      const kids = seeds.map((seed, i) => child(db.appUrl, seed, 'nonce', 32, `p${i}`));
      await Promise.all(kids.map((k) => k.ready));
      kids.forEach((k) => k.go());
      const results = await Promise.all(kids.map((k) => k.done));
      expect(results.flatMap((r) => r.failed)).toEqual([]);
      expect(results.reduce((n, r) => n + r.won, 0)).toBe(1);

      const owner = pgs.pool(db.ownerUrl);
      const executions = await owner.query("SELECT id FROM executions WHERE nonce = 'the-one-nonce'");
      expect(executions.rows).toHaveLength(1);
      const executed = await owner.query("SELECT exec_id FROM receipts WHERE event = 'executed'");
      expect(executed.rows).toEqual([{ exec_id: (executions.rows[0] as { id: string }).id }]);
      expect((await owner.query("SELECT count(*)::int AS n FROM receipts WHERE event = 'replayed'")).rows).toEqual([{ n: 63 }]);
      const store = await pgs.openStore(db);
      // Both processes started together; each registered its key once.
      const verdict = await verifyStoreChain(store, { pinnedKeyIds: seeds.map((s) => Ed25519Signer.fromSeed(s).keyId) });
      expect(verdict).toMatchObject({ valid: true, checked: 66, firstBadSeq: null, problem: null });
      expect(verdict.keys.map((k) => k.keyId).sort()).toEqual(seeds.map((s) => Ed25519Signer.fromSeed(s).keyId).sort());
    });

    test('concurrent appends from two processes: gapless seq, one chain that verifies, each receipt by its own key', async () => {
      const db = await pgs.fresh();
      const seeds = [randomBytes(32), randomBytes(32)];
      const kids = seeds.map((seed, i) => child(db.appUrl, seed, 'append', 150, `process-${i}`));
      await Promise.all(kids.map((k) => k.ready));
      kids.forEach((k) => k.go());
      const results = await Promise.all(kids.map((k) => k.done));
      expect(results.flatMap((r) => r.failed)).toEqual([]);

      const store = await pgs.openStore(db);
      const receipts = await store.readRange(1, 1000);
      expect(receipts.map((r) => r.seq)).toEqual(Array.from({ length: 302 }, (_, i) => i + 1));
      const verifiers = seeds.map((s) => new Ed25519Verifier(Ed25519Signer.fromSeed(s).publicKey));
      const ids = verifiers.map((v) => v.keyId);
      expect(await verifyStoreChain(store, { pinnedKeyIds: ids })).toMatchObject({ valid: true, checked: 302, problem: null });
      for (const i of [0, 1]) {
        const mine = receipts.filter((r) => r.reason?.startsWith(`process-${i} `));
        expect(mine.map((r) => r.reason).sort()).toEqual(Array.from({ length: 150 }, (_, n) => `process-${i} ${n}`).sort());
        expect(mine.every((r) => r.body.includes(`"receipt_key_id":"${verifiers[i]!.keyId}"`))).toBe(true);
      }
      // A reviewer who pinned one key refuses the other's registration.
      expect(await verifyStoreChain(store, { pinnedKeyIds: [ids[0]!] })).toMatchObject({
        valid: false,
        problem: `registers receipt key ${ids[1]}, which is not pinned`,
      });
    });
  });
});
