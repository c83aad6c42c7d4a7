/**
 * A PostgreSQL ledger two OpenExec instances wrote (two receipt keys), with receipts of every
 * shape the verifier reads (bodies committed by salted hash, an agent, a spent nonce), and the
 * ways a reviewer's tests tamper with it as the database owner.
 */
import type pg from 'pg';
import { Ed25519Signer } from '../../src/main/core/crypto/ed25519.ts';
import type { ReceiptDraft } from '../../src/main/core/ledger/receipt-body.ts';
import { sealReceipt } from '../../src/main/core/ledger/seal-receipt.ts';
import type { PostgresLedgerStore } from '../../src/main/core/store/postgres/pg-ledger-store.ts';
import { systemClock } from '../../src/main/core/clock.ts';
import { Checkpoints } from '../../src/main/core/ledger/checkpoint/checkpoints.ts';
import { LedgerProofs } from '../../src/main/core/ledger/proofs.ts';
import { PostgresCheckpointRecords } from '../../src/main/core/store/postgres/pg-checkpoint-records.ts';
import { PostgresMerkleTree } from '../../src/main/core/store/postgres/pg-merkle-tree.ts';
import type { TestDatabase } from './postgres.ts';
import type { PostgresSuite } from './postgres-suite.ts';
import { newReservation } from './record-fixtures.ts';

export interface TwoInstanceLedger {
  db: TestDatabase;
  a: PostgresLedgerStore;
  b: PostgresLedgerStore;
  ka: Ed25519Signer;
  kb: Ed25519Signer;
  /** Receipts in the ledger. */
  size: number;
}

const proposed = (n: number, agent: string): ReceiptDraft => ({
  event: 'proposed',
  action: 'greet',
  proposal_id: `p-${n}`,
  payload: { name: `ada ${n}` },
  context: `the agent's words ${n}`,
  agent,
});

/** A registers (1), proposes (2), B registers (3), and so on, one after the other to receipt 15, then both at once: 35 receipts. */
export async function twoInstanceLedger(pgs: PostgresSuite): Promise<TwoInstanceLedger> {
  const db = await pgs.fresh();
  const [ka, kb] = [Ed25519Signer.generate(), Ed25519Signer.generate()];
  const a = await pgs.openStore(db, { signer: ka });
  const b = await pgs.openStore(db, { signer: kb });
  await a.witness((tx) => tx.append(proposed(1, 'agent-a')));
  await b.witness((tx) => tx.append({ event: 'refused', action: 'greet', payload: { name: 'x' }, reason: 'not allowed', status: 403 }));
  await a.witness((tx) => tx.append({ event: 'config', reason: 'allow-list changed' }));
  for (let n = 2; n <= 6; n++) {
    await b.witness((tx) => tx.append(proposed(n, 'agent-b')));
    await a.witness(async (tx) => {
      await tx.reserveNonce(newReservation(`nonce-${n}`));
      return tx.append({ event: 'denied', proposal_id: `p-${n}`, reason: 'no' });
    });
  }
  // Then both at once, each group taking its turn at the ledger lock.
  await Promise.all(
    Array.from({ length: 10 }, (_, n) => [
      a.witness((tx) => tx.append({ event: 'config', reason: `a at once ${n}` })),
      b.witness((tx) => tx.append(proposed(10 + n, 'agent-b'))),
    ]).flat(),
  );
  return { db, a, b, ka, kb, size: (await a.head()).seq };
}

/** Runs `sql` as the database owner with the append-only triggers of `tables` disabled, as an attacker holding the owner role would. */
export async function asOwnerWithoutTriggers(
  owner: pg.Pool,
  tables: readonly string[],
  sql: string,
  params: unknown[] = [],
): Promise<void> {
  const client = await owner.connect();
  try {
    await client.query('BEGIN');
    for (const t of tables) await client.query(`ALTER TABLE ${t} DISABLE TRIGGER USER`);
    await client.query(sql, params);
    for (const t of tables) await client.query(`ALTER TABLE ${t} ENABLE TRIGGER USER`);
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK');
    throw err;
  } finally {
    client.release();
  }
}

/** Appends a receipt signed by `signer` straight into the table with a valid link, as a writer that skips OpenExec would. */
export async function insertSignedBy(
  owner: pg.Pool,
  store: PostgresLedgerStore,
  draft: ReceiptDraft,
  signer: Ed25519Signer,
): Promise<number> {
  const head = await store.head();
  const { row } = sealReceipt(draft, head.seq + 1, head.hash, new Date().toISOString(), signer);
  await owner.query(
    `INSERT INTO receipts (seq, event, time, action, hash, prev_hash, body, signature, reason)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
    [row.seq, row.event, row.time, row.action, row.hash, row.prev_hash, row.body, row.signature, row.reason],
  );
  return row.seq;
}

/** One instance's checkpoints and proofs over a shared PostgreSQL ledger, as the core assembles them (by default not witnessed to a directory). */
export function pgLedgerProofs(
  pool: pg.Pool,
  store: PostgresLedgerStore,
  signer: Ed25519Signer,
  options: { every?: number; witnessDir?: string; operator?: Ed25519Signer } = {},
) {
  const tree = new PostgresMerkleTree(pool);
  const operator = options.operator ?? Ed25519Signer.generate();
  const checkpoints = new Checkpoints(new PostgresCheckpointRecords(pool), store, tree, signer, operator, systemClock, {
    every: options.every ?? 1000,
    intervalMs: 60_000,
    witnessDir: options.witnessDir ?? null,
  });
  return { tree, checkpoints, proofs: new LedgerProofs(tree, checkpoints) };
}
