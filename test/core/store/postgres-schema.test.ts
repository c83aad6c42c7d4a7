/**
 * The PostgreSQL schema's own guarantees, against a real throwaway cluster: versioned
 * migrations, the roles and triggers that keep receipts append-only and spent nonces and
 * approvals spent, the chain trigger, and the Merkle nodes.
 */
import { describe, expect, test } from 'vitest';
import { Ed25519Signer } from '../../../src/main/core/crypto/ed25519.ts';
import { PostgresLedgerStore } from '../../../src/main/core/store/postgres/pg-ledger-store.ts';
import { migratePostgres, PG_SCHEMA_VERSION } from '../../../src/main/core/store/postgres/pg-migrations.ts';
import { registrationDraft } from '../../../src/main/core/store/postgres/pg-receipt-keys.ts';
import { PostgresExecutionRecords } from '../../../src/main/core/store/postgres/pg-execution-records.ts';
import { corpusDrafts, reproducibleSalts, sqliteReference, steppingClock } from '../../support/search-corpus.ts';
import { postgresAvailability } from '../../support/postgres.ts';
import { usePostgres } from '../../support/postgres-suite.ts';
import { newReservation } from '../../support/record-fixtures.ts';

describe.skipIf(!postgresAvailability().ok)('the PostgreSQL schema (real throwaway cluster)', () => {
  const pgs = usePostgres('schema');

  test('migrations are versioned, idempotent, and applied once by two instances starting together', async () => {
    const db = await pgs.cluster.createDatabase(`migrate_${Date.now()}`);
    const [a, b] = [pgs.pool(db.ownerUrl), pgs.pool(db.ownerUrl)];
    const applied = await Promise.all([
      migratePostgres(a, { appRole: pgs.cluster.app.user }),
      migratePostgres(b, { appRole: pgs.cluster.app.user }),
    ]);
    expect(applied.flat().sort()).toEqual(Array.from({ length: PG_SCHEMA_VERSION }, (_, i) => i + 1));
    expect(await migratePostgres(a, { appRole: pgs.cluster.app.user })).toEqual([]);
    const { rows } = await a.query('SELECT version FROM schema_migrations ORDER BY version');
    expect(rows.map((r: { version: number }) => r.version)).toEqual(Array.from({ length: PG_SCHEMA_VERSION }, (_, i) => i + 1));

    // A schema from a newer OpenExec is left alone, by the migrator and by the store.
    await a.query('INSERT INTO schema_migrations (version) VALUES ($1)', [PG_SCHEMA_VERSION + 1]);
    await expect(migratePostgres(a)).rejects.toThrow(`database schema version ${PG_SCHEMA_VERSION + 1} is newer than this OpenExec`);
    await expect(PostgresLedgerStore.open({ url: db.appUrl, signer: Ed25519Signer.generate() })).rejects.toThrow(
      `has schema version ${PG_SCHEMA_VERSION + 1}, this OpenExec needs ${PG_SCHEMA_VERSION}`,
    );
    // And a database nobody migrated is refused with what to do.
    const empty = await pgs.cluster.createDatabase(`unmigrated_${Date.now()}`);
    await expect(PostgresLedgerStore.open({ url: empty.appUrl, signer: Ed25519Signer.generate() })).rejects.toThrow(
      /has schema version 0, this OpenExec needs \d+ \(run the migrations as the database owner\)/,
    );
    await expect(migratePostgres(a, { appRole: 'Robert"; DROP TABLE receipts; --' })).rejects.toThrow(/not a plain lower-case identifier/);
  });

  test('receipts are append-only: the app role has no UPDATE, DELETE or TRUNCATE, and the trigger refuses even the owner', async () => {
    const db = await pgs.fresh();
    const store = await pgs.openStore(db);
    await store.witness(async (tx) => {
      await tx.append({ event: 'config', reason: 'one' });
      await tx.append({ event: 'config', reason: 'two' });
    });
    const [app, owner] = [pgs.pool(db.appUrl), pgs.pool(db.ownerUrl)];
    for (const [table, column] of [
      ['receipts', 'hash'],
      ['merkle_nodes', 'hash'],
      ['receipt_keys', 'public_key_pem'],
    ]) {
      // CASCADE: without it the foreign keys into receipts would refuse first.
      for (const sql of [`UPDATE ${table} SET ${column} = ${column}`, `DELETE FROM ${table}`, `TRUNCATE ${table} CASCADE`]) {
        await expect(app.query(sql), `${pgs.cluster.app.user}: ${sql}`).rejects.toMatchObject({ code: '42501' });
        await expect(owner.query(sql), `${pgs.cluster.owner.user}: ${sql}`).rejects.toThrow(`${table} are append-only`);
      }
    }
    // Even a statement that matches no row is refused.
    await expect(owner.query('DELETE FROM receipts WHERE seq > 1000')).rejects.toThrow('receipts are append-only');
    expect((await store.readRange(1, 10)).map((r) => r.reason)).toEqual([`receipt key registered: ${store.keyId}`, 'one', 'two']);
  });

  test('a spent nonce or approval is never freed: no DELETE for anyone, the app may only record an outcome', async () => {
    const db = await pgs.fresh();
    const store = await pgs.openStore(db);
    const execId = await store.witness(async (tx) => {
      const r = newReservation('n-1', { id: 'exec-1', approval_id: 'a-1', created_at: 'now' });
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
    const [app, owner] = [pgs.pool(db.appUrl), pgs.pool(db.ownerUrl)];
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
    const db = await pgs.fresh();
    const store = await pgs.openStore(db);
    await store.witness((tx) => tx.append({ event: 'config' }));
    const [tip] = await store.readRange(1, 1);
    const owner = pgs.pool(db.ownerUrl);
    const insert = (seq: number, hash: string, prev: string) =>
      owner.query(
        `INSERT INTO receipts (seq, event, time, hash, prev_hash, body, signature) VALUES ($1, 'config', 't', $2, $3, '{}', 's')`,
        [seq, hash, prev],
      );
    await expect(insert(3, 'c'.repeat(64), tip!.hash)).rejects.toThrow('receipt 3 does not follow receipt 2');
    await expect(insert(2, 'c'.repeat(64), 'd'.repeat(64))).rejects.toThrow('receipt 2 does not follow receipt 1');
    await expect(insert(1, 'c'.repeat(64), '0'.repeat(64))).rejects.toMatchObject({ code: '23505' });
    await expect(insert(2, 'c'.repeat(64), '0'.repeat(64))).rejects.toThrow(/does not follow|duplicate key/);
  });

  test('the Merkle nodes are the ones the SQLite ledger stores for the same receipts', async () => {
    const signer = Ed25519Signer.generate();
    const drafts = corpusDrafts();
    const db = await pgs.fresh();
    // The SQLite reference's clock, which forgets the instant a rolled-back receipt took.
    let ticks = 0;
    const clock = { now: () => Date.UTC(2026, 0, 1, 12, 0, 0) + 1000 * ++ticks };
    const store = await pgs.openStore(db, { signer, clock, salts: reproducibleSalts });
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
    const sqlite = sqliteReference([registrationDraft(signer), ...drafts], signer, steppingClock());
    const want = sqlite.prepare('SELECT level, idx, hex(hash) AS hash FROM merkle_nodes ORDER BY level, idx').all() as {
      level: number;
      idx: number;
      hash: string;
    }[];
    sqlite.close();
    const { rows } = await pgs
      .pool(db.ownerUrl)
      .query<{ level: number; idx: string; hash: string }>(
        "SELECT level, idx, upper(encode(hash, 'hex')) AS hash FROM merkle_nodes ORDER BY level, idx",
      );
    expect(rows.map((r) => ({ ...r, idx: Number(r.idx) }))).toEqual(want);
    expect(want.length).toBeGreaterThan(drafts.length / 2);
    expect((await store.head()).seq).toBe(drafts.length + 1);
  });

  test('migration 7 numbers the approvals spent before it; later ones follow, numbered by the database alone', async () => {
    const db = await pgs.cluster.createDatabase(`approval_order_${Date.now()}`);
    const owner = pgs.pool(db.ownerUrl);
    expect(await migratePostgres(owner, { appRole: pgs.cluster.app.user, target: 6 })).toEqual(Array.from({ length: 6 }, (_, i) => i + 1));
    for (const n of [1, 2, 3]) {
      await owner.query(
        `INSERT INTO executions (id, nonce, request_hash, action, status, approved, created_at) VALUES ($1, $2, 'h', 'greet', 'started', 1, 'now')`,
        [`e-${n}`, `n-${n}`],
      );
      await owner.query(
        `INSERT INTO approvals (approval_id, message_hash, tenant_id, action_hash, issued_at, expires_at, approver, approver_key_id,
           verified_at, action, used_by_exec_id) VALUES ($1, $2, 't', 'a', 'x', 'x', 'operator', 'k', 'now', 'greet', $3)`,
        [`a-${n}`, `m-${n}`, `e-${n}`],
      );
    }
    await migratePostgres(owner, { appRole: pgs.cluster.app.user });
    const store = await pgs.openStore(db);
    await store.witness(async (tx) => {
      const r = newReservation('n-4');
      await tx.reserveNonce(r);
      const approval = { approvalId: 'a-4', tenantId: 't', actionHash: 'a', issuedAt: 'x', expiresAt: 'x' };
      const spend = { ...approval, approver: 'operator' as const, approverKeyId: 'k', messageHash: 'm-4' };
      await tx.spendApproval({ approval: spend, action: 'greet', verifiedAt: 'now', execId: r.id });
    });
    const records = new PostgresExecutionRecords(pgs.pool(db.appUrl), store.keyId);
    const listed = await records.listApprovals(10);
    expect(listed.map((a) => a.approvalId)).toEqual(['a-4', 'a-3', 'a-2', 'a-1']);
    expect(listed.map((a) => a.seq)).toEqual([4, 3, 2, 1]);
    // Nobody chooses a number: the database gives it.
    await expect(
      pgs.pool(db.appUrl).query(
        `INSERT INTO approvals (seq, approval_id, message_hash, tenant_id, action_hash, issued_at, expires_at, approver,
             approver_key_id, verified_at, action, used_by_exec_id) VALUES (1, 'a-5', 'm-5', 't', 'a', 'x', 'x', 'operator', 'k', 'now', 'greet', 'e-1')`,
      ),
    ).rejects.toMatchObject({ code: '428C9' });
  });
});
