/**
 * The PostgreSQL record stores beyond their contract (test/core/store/records): writes that
 * join a witnessed write, row locks between a revocation and a use, the limits and final states
 * the database itself holds, and the app role's privileges per table. Real throwaway cluster.
 */
import type pg from 'pg';
import { describe, expect, test } from 'vitest';
import type { LedgerTransaction } from '../../../src/main/core/store/ledger-store.ts';
import { PostgresGrantRecords } from '../../../src/main/core/store/postgres/pg-grant-records.ts';
import { migratePostgres, PG_SCHEMA_VERSION } from '../../../src/main/core/store/postgres/pg-migrations.ts';
import { PostgresProposalRecords } from '../../../src/main/core/store/postgres/pg-proposal-records.ts';
import { RecordConflict } from '../../../src/main/core/store/record-conflict.ts';
import { PostgresSettingRecords } from '../../../src/main/core/store/postgres/pg-setting-records.ts';
import { postgresAvailability } from '../../support/postgres.ts';
import { usePostgres } from '../../support/postgres-suite.ts';
import { newGrant, newProposal } from '../../support/record-fixtures.ts';

const [proposal, grant] = [() => newProposal(), (uses: number) => newGrant(uses)];

/** Resolves once some session of `pool`'s database waits for a row lock on `table`. */
async function someoneWaitsOn(pool: pg.Pool, table: string): Promise<void> {
  for (;;) {
    const { rows } = await pool.query(
      "SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database() AND query LIKE $1",
      [`%${table}%`],
    );
    if (rows.length > 0) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe.skipIf(!postgresAvailability().ok)('the PostgreSQL record stores (real throwaway cluster)', () => {
  const pgs = usePostgres('records');

  test('a record write joins a witnessed write: it rolls back with its piece and commits with its receipt', async () => {
    const db = await pgs.fresh();
    const store = await pgs.openStore(db);
    const proposals = new PostgresProposalRecords(pgs.pool(db.appUrl));
    const settings = new PostgresSettingRecords(pgs.pool(db.appUrl));
    const p = proposal();
    await proposals.insert(p);
    const deny = (tx: LedgerTransaction, reason: string) =>
      tx.append({ event: 'denied', proposal_id: p.id, reason }).then((r) =>
        proposals.within(tx).decide(p.id, {
          status: 'denied',
          decidedAt: r.time,
          reason,
          result: null,
          execId: null,
          approvalId: null,
          receiptSeq: r.seq,
        }),
      );

    await expect(
      store.witness(async (tx) => {
        expect(await deny(tx, 'first')).toBe(true);
        await settings.within(tx).put('allowed_actions', '["greet"]');
        throw new Error('the piece fails after writing');
      }),
    ).rejects.toThrow('the piece fails after writing');
    expect(await proposals.get(p.id)).toMatchObject({ status: 'pending', receipt_seq: null });
    expect(await settings.get('allowed_actions')).toBeNull();
    expect(await store.head()).toMatchObject({ seq: 0 });

    // In one group: a failing piece beside one that commits its decision with its receipt.
    let ended: LedgerTransaction | undefined;
    const [failing, deciding] = await Promise.allSettled([
      store.witness(async (tx) => {
        await settings.within(tx).put('allowed_actions', '[]');
        throw new Error('rolled back alone');
      }),
      store.witness(async (tx) => {
        ended = tx;
        return deny(tx, 'second');
      }),
    ]);
    expect(failing.status).toBe('rejected');
    expect(deciding).toEqual({ status: 'fulfilled', value: true });
    // Receipt 1 registers this instance's receipt key, before its first receipt.
    const [registration, receipt] = await store.readRange(1, 10);
    expect(registration).toMatchObject({ seq: 1, event: 'config' });
    expect(receipt).toMatchObject({ seq: 2, event: 'denied', reason: 'second' });
    expect(await proposals.get(p.id)).toMatchObject({ status: 'denied', reason: 'second', receipt_seq: 2 });
    expect(await settings.get('allowed_actions')).toBeNull();

    // The transaction's records are refused once its piece has ended, and another engine's transaction is refused outright.
    await expect(proposals.within(ended!).get(p.id)).rejects.toThrow('this witnessed write has already ended');
    const foreign = {} as LedgerTransaction;
    expect(() => proposals.within(foreign)).toThrow('not a PostgreSQL witnessed write');
  });

  test('a conflict inside a witnessed write is a RecordConflict the piece may catch and go on after, as on SQLite', async () => {
    const db = await pgs.fresh();
    const store = await pgs.openStore(db);
    const proposals = new PostgresProposalRecords(pgs.pool(db.appUrl));
    const taken = proposal();
    await proposals.insert(taken);
    const fresh = proposal();
    const seq = await store.witness(async (tx) => {
      const records = proposals.within(tx);
      await expect(records.insert({ ...proposal(), nonce: taken.nonce })).rejects.toBeInstanceOf(RecordConflict);
      // Without a savepoint of its own the failed INSERT would have aborted the whole transaction.
      await records.insert(fresh);
      return (await tx.append({ event: 'config', reason: 'after a conflict' })).seq;
    });
    expect(seq).toBe(2); // after the key's registration
    expect(await proposals.get(fresh.id)).toMatchObject({ status: 'pending' });
    expect((await proposals.listPending()).map((p) => p.id).sort()).toEqual([taken.id, fresh.id].sort());
  });

  test('a revocation holding the grant row wins against a use waiting for it; a use holding it is counted before the revocation', async () => {
    const db = await pgs.fresh();
    const store = await pgs.openStore(db);
    const seq = (await store.witness((tx) => tx.append({ event: 'config', reason: 'revocations' }))).seq;
    // Three pools: one holds the row in a transaction, one waits for it, one watches.
    const [holder, pool, watcher] = [pgs.pool(db.appUrl), pgs.pool(db.appUrl), pgs.pool(db.superUrl)];
    const grants = new PostgresGrantRecords(pool);
    const inTransaction = async <T>(work: (records: PostgresGrantRecords) => Promise<T>) => {
      const client = await holder.connect();
      await client.query('BEGIN');
      const value = await work(new PostgresGrantRecords(client));
      return { value, commit: () => client.query('COMMIT').finally(() => client.release()) };
    };

    const revokedFirst = grant(5);
    await grants.insert(revokedFirst);
    const revocation = await inTransaction((g) => g.end(revokedFirst.id, 'revoked', 'now', seq));
    expect(revocation.value).toBe(true);
    const use = grants.spend(revokedFirst.id, 0);
    await someoneWaitsOn(watcher, 'UPDATE grants');
    await revocation.commit();
    expect(await use).toBe(false);
    expect(await grants.get(revokedFirst.id)).toMatchObject({ uses_spent: 0, ended_reason: 'revoked' });

    const usedFirst = grant(5);
    await grants.insert(usedFirst);
    const spending = await inTransaction((g) => g.spend(usedFirst.id, 0));
    expect(spending.value).toBe(true);
    const revoke = grants.end(usedFirst.id, 'revoked', 'now', seq);
    await someoneWaitsOn(watcher, 'UPDATE grants');
    await spending.commit();
    expect(await revoke).toBe(true);
    expect(await grants.get(usedFirst.id)).toMatchObject({ uses_spent: 1, ended_reason: 'revoked' });
  });

  test('the database holds a grant to its signed limit and its ending, a decision, a revocation and a quorum approval to what they were', async () => {
    const db = await pgs.fresh();
    const store = await pgs.openStore(db);
    const seq = (await store.witness((tx) => tx.append({ event: 'config', reason: 'history' }))).seq;
    const [app, owner] = [pgs.pool(db.appUrl), pgs.pool(db.ownerUrl)];
    const grants = new PostgresGrantRecords(app);
    const g = grant(2);
    await grants.insert(g);
    expect(await grants.spend(g.id, 0)).toBe(true);
    expect(await grants.spend(g.id, 1)).toBe(true);
    // The count read is current, but the signed limit is reached: the database says no.
    expect(await grants.spend(g.id, 2)).toBe(false);
    await expect(app.query('UPDATE grants SET uses_spent = 3 WHERE id = $1', [g.id])).rejects.toMatchObject({ code: '23514' });
    await expect(app.query('UPDATE grants SET uses_spent = 0 WHERE id = $1', [g.id])).rejects.toThrow('uses are never given back');
    expect(await grants.end(g.id, 'exhausted', 'now', seq)).toBe(true);
    await expect(
      owner.query('UPDATE grants SET ended_at = NULL, ended_reason = NULL, ended_seq = NULL WHERE id = $1', [g.id]),
    ).rejects.toThrow('grants is closed');

    const proposals = new PostgresProposalRecords(app);
    const p = proposal();
    await proposals.insert(p);
    const decided = {
      status: 'executed' as const,
      decidedAt: 'now',
      reason: null,
      result: null,
      execId: null,
      approvalId: null,
      receiptSeq: seq,
    };
    expect(await proposals.decide(p.id, decided)).toBe(true);
    await expect(owner.query("UPDATE proposals SET status = 'pending' WHERE id = $1", [p.id])).rejects.toThrow('proposals is closed');
    await expect(
      app.query("UPDATE proposals SET status = 'executed', decided_at = NULL WHERE id = $1", [proposal().id]),
    ).resolves.toMatchObject({
      rowCount: 0,
    });
    await proposals.recordApproval(p.id, 'key-1', 'alice', 'now', seq);
    await expect(owner.query("UPDATE proposal_approvals SET key_id = 'key-2'")).rejects.toThrow('proposal_approvals are append-only');

    await app.query("INSERT INTO agents (name, token_hash, created_at, revoked_at) VALUES ('gone', $1, 'then', 'now')", ['f'.repeat(64)]);
    await expect(owner.query("UPDATE agents SET revoked_at = NULL WHERE name = 'gone'")).rejects.toThrow('agents is closed');
  });

  test('history stays: the app role deletes from no table and changes only the columns that move; the owner is refused by triggers', async () => {
    const db = await pgs.fresh();
    const [app, owner] = [pgs.pool(db.appUrl), pgs.pool(db.ownerUrl)];
    const kept = ['proposals', 'proposal_approvals', 'grants', 'agents', 'mcp_tool_pins', 'checkpoints'];
    for (const table of [...kept, 'settings']) {
      await expect(app.query(`DELETE FROM ${table}`), `app: DELETE FROM ${table}`).rejects.toMatchObject({ code: '42501' });
      await expect(app.query(`TRUNCATE ${table} CASCADE`), `app: TRUNCATE ${table}`).rejects.toMatchObject({ code: '42501' });
    }
    for (const table of kept) {
      const refused = new RegExp(`${table} (are append-only|are kept: no row is ever deleted)`);
      await expect(owner.query(`DELETE FROM ${table}`), `owner: DELETE FROM ${table}`).rejects.toThrow(refused);
      await expect(owner.query(`TRUNCATE ${table} CASCADE`), `owner: TRUNCATE ${table}`).rejects.toThrow(refused);
    }
    for (const sql of [
      "UPDATE proposals SET nonce = 'n'",
      // A payload changes only by retention's purge, which triggers hold to that (postgres-purge.test.ts).
      "UPDATE proposals SET action = 'x'",
      "UPDATE proposal_approvals SET operator = 'x'",
      "UPDATE grants SET body = '{}'",
      'UPDATE grants SET uses_limit = NULL',
      "UPDATE agents SET token_hash = 'x'",
      "UPDATE checkpoints SET note = 'x'",
      "UPDATE settings SET key = 'x'",
    ]) {
      await expect(app.query(sql), `app: ${sql}`).rejects.toMatchObject({ code: '42501' });
    }
    await expect(owner.query("UPDATE checkpoints SET note = 'x'")).rejects.toThrow('checkpoints are append-only');
  });

  test('a database at version 1 is brought to these tables, and the app role gets its privileges on them', async () => {
    const db = await pgs.cluster.createDatabase(`records_v1_${Date.now()}`);
    const owner = pgs.pool(db.ownerUrl);
    expect(await migratePostgres(owner, { appRole: pgs.cluster.app.user, target: 1 })).toEqual([1]);
    const { rows } = await owner.query("SELECT to_regclass('grants')::text AS t");
    expect(rows[0]).toEqual({ t: null });
    const applied = await migratePostgres(owner, { appRole: pgs.cluster.app.user });
    expect(applied).toEqual(Array.from({ length: PG_SCHEMA_VERSION - 1 }, (_, i) => i + 2));
    const settings = new PostgresSettingRecords(pgs.pool(db.appUrl));
    await settings.put('k', 'v');
    expect(await settings.get('k')).toBe('v');
  });
});
