/**
 * Closing a retired instance's orphans (Engine.closeInterruptedOf): on PostgreSQL, two
 * instances with two receipt keys on one throwaway database; the one that reserved an
 * execution goes away for good while it is `started`, and the other's operator closes it, with
 * a receipt the live instance signs under a `config` receipt naming the retired key. On SQLite
 * (one instance, which closes everything when it starts) the action is refused.
 */
import { describe, expect } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ActionHandler } from '../../src/main/core/actions/action-registry.ts';
import { Ed25519Signer } from '../../src/main/core/crypto/ed25519.ts';
import { retiredReason } from '../../src/main/core/engine/close-orphans.ts';
import { deferred } from '../../src/main/core/engine/deferred.ts';
import { Refusal } from '../../src/main/core/errors.ts';
import type { JsonObject } from '../../src/main/core/json/json-value.ts';
import { parseJson } from '../../src/main/core/json/parse.ts';
import { EngineSpecific } from '../../src/main/core/store/engine-specific.ts';
import type { LedgerStore } from '../../src/main/core/store/ledger-store.ts';
import { verifyStoreChain } from '../../src/main/core/store/postgres/pg-verify.ts';
import { TestApprover } from '../support/clawshield.ts';
import { engineSetups, retireWhenGone, useEngines, type EngineSetup } from '../support/engine-instances.ts';

const approver = new TestApprover();
const PAYLOAD = '{"amount":5}';
const payload = parseJson(PAYLOAD) as JsonObject;

async function until(done: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 400 && !(await done()); i++) await sleep(5);
  expect(await done()).toBe(true);
}

/** A `pay` handler that counts its runs. */
function counted() {
  const runs: number[] = [];
  const pay: ActionHandler = (p) => (runs.push(Number(p['amount'])), { paid: p['amount']! });
  return { runs, actions: { pay } };
}

/** The refusal `work` rejects with (a test that expects one fails when it resolves). */
async function refusalOf(work: Promise<unknown>): Promise<Refusal> {
  const err: unknown = await work.then(
    () => new Error('expected a refusal'),
    (e: unknown) => e,
  );
  if (!(err instanceof Refusal)) throw err;
  return err;
}

/** Every receipt's body after `seq`, parsed. */
async function bodiesFrom(ledger: LedgerStore, seq: number): Promise<JsonObject[]> {
  return (await ledger.readRange(seq, 100)).map((r) => parseJson(r.body) as JsonObject);
}

const [sqlite, postgres] = engineSetups('orphans') as [EngineSetup, EngineSetup];

describe("closing a retired instance's executions on PostgreSQL (two instances, two receipt keys, one database)", () => {
  const { fresh, it } = useEngines(postgres, approver);

  it('A stops for good mid-execution; B refuses the retry (409) until its operator closes it, then answers the stored ending', async () => {
    const db = await fresh();
    // A's handler never returns; A follows the ledger, so its key is seen connected.
    const a = await db.instance({ pay: () => new Promise(() => undefined) }, undefined, { follow: {} });
    const artifact = approver.mint('pay', PAYLOAD);
    void a.engine.execute({ action: 'pay', payload, nonce: 'orphan-1', artifact });
    await until(async () => (await a.executions.findByNonce('orphan-1'))?.status === 'started');
    const execId = (await a.executions.findByNonce('orphan-1'))!.id;

    const { runs, actions } = counted();
    const b = await db.instance(actions);
    const retry = () => b.engine.execute({ action: 'pay', payload, nonce: 'orphan-1', artifact });
    expect(await retry()).toMatchObject({
      kind: 'refused',
      status: 409,
      code: 'conflict',
      detail: "Nonce 'orphan-1' is being executed by another OpenExec instance",
    });

    // Refused: A still connected, B's own key, a key never registered, a malformed one; nothing written.
    const head = (await b.ledger.head()).seq;
    const connected = await refusalOf(b.engine.closeInterruptedOf(a.key.keyId));
    expect(connected).toMatchObject({ code: 'conflict', status: 409 });
    expect(connected.detail).toContain(`receipt key ${a.key.keyId} is connected to the database now`);
    expect(await refusalOf(b.engine.closeInterruptedOf(b.key.keyId))).toMatchObject({
      code: 'bad_request',
      detail: `Receipt key ${b.key.keyId} is this instance's own: it closes its own executions when it starts`,
    });
    const stranger = Ed25519Signer.generate().keyId;
    expect(await refusalOf(b.engine.closeInterruptedOf(stranger))).toMatchObject({
      code: 'not_found',
      detail: `Receipt key ${stranger} is not registered in this ledger and has no execution left running`,
    });
    expect(await refusalOf(b.engine.closeInterruptedOf('ABCDEF0123456789'))).toMatchObject({ code: 'bad_request' });
    expect((await b.ledger.head()).seq).toBe(head);
    expect((await b.executions.findByNonce('orphan-1'))?.status).toBe('started');

    // A goes away for good (its follower's connection with it); B's operator retires its key.
    a.engine.close();
    await a.ledger.close();
    const retired = await retireWhenGone(b, a.key.keyId);
    expect(retired.closed).toEqual([
      { execId, nonce: 'orphan-1', action: 'pay', createdAt: expect.any(String), receiptSeq: retired.configSeq + 1 },
    ]);
    const [config, closing] = await bodiesFrom(b.ledger, retired.configSeq);
    expect(config).toMatchObject({
      event: 'config',
      receipt_key_id: b.key.keyId,
      reason: `receipt key ${a.key.keyId} retired by the operator: 1 execution(s) it left running closed as interrupted`,
      details: { retired_receipt_key: a.key.keyId, closed_exec_ids: [execId] },
    });
    expect(closing).toMatchObject({
      event: 'failed',
      exec_id: execId,
      nonce: 'orphan-1',
      approval_id: artifact.approval_id,
      receipt_key_id: b.key.keyId,
      reason: retiredReason(a.key.keyId),
      status: 500n,
    });
    expect(await b.executions.findByNonce('orphan-1')).toMatchObject({
      status: 'failed',
      error: retiredReason(a.key.keyId),
      receipt_seq: retired.configSeq + 1,
      here: false,
    });

    // The retry now gets the stored ending (replayed, never run here); the approval stays spent.
    expect(await retry()).toMatchObject({ kind: 'refused', status: 500, code: 'handler_failed', detail: retiredReason(a.key.keyId) });
    const fresh2 = await b.engine.execute({ action: 'pay', payload, nonce: 'orphan-2', artifact });
    expect(fresh2).toMatchObject({ kind: 'refused', code: 'approval_used' });
    expect(runs).toEqual([]);

    // A never appended a receipt (a reservation writes none), so its key was never registered:
    // with nothing of it left running, retiring it again is refused as an unknown key.
    expect(await refusalOf(b.engine.closeInterruptedOf(a.key.keyId))).toMatchObject({ code: 'not_found' });
    // Read through B (A's store, which db.verify reads, is closed).
    expect(await verifyStoreChain(b.ledger)).toMatchObject({ valid: true, problem: null });
  });

  it('a handler still running at a retired instance ends unrecorded, answered as the ledger says', async () => {
    const db = await fresh();
    const release = deferred();
    // Not following: unseen in pg_stat_activity, as an instance cut off from the server would be.
    const a = await db.instance({ pay: async () => (await release.promise, { paid: 5 }) });
    const artifact = approver.mint('pay', PAYLOAD);
    const atA = a.engine.execute({ action: 'pay', payload, nonce: 'late-1', artifact });
    await until(async () => (await a.executions.findByNonce('late-1'))?.status === 'started');
    const execId = (await a.executions.findByNonce('late-1'))!.id;

    const b = await db.instance(counted().actions);
    const retired = await b.engine.closeInterruptedOf(a.key.keyId);
    expect(retired.closed.map((c) => c.execId)).toEqual([execId]);

    // A's handler finishes now: its ending cannot be recorded over B's, and A answers B's.
    release.settle();
    const outcome = await atA;
    expect(outcome).toEqual({
      kind: 'refused',
      status: 500,
      code: 'handler_failed',
      detail: `${retiredReason(a.key.keyId)} (it ended here afterwards, unrecorded)`,
      receiptSeq: retired.closed[0]!.receiptSeq,
    });
    const endings = (await bodiesFrom(b.ledger, 1)).filter((r) => r['exec_id'] === execId && r['event'] !== 'replayed');
    expect(endings.map((r) => [r['event'], r['receipt_key_id']])).toEqual([['failed', b.key.keyId]]);
    expect(await b.executions.findByNonce('late-1')).toMatchObject({ status: 'failed', error: retiredReason(a.key.keyId) });
    expect(await db.verify()).toMatchObject({ valid: true, problem: null });
  });
});

describe("closing a retired instance's executions on SQLite", () => {
  const { fresh, it } = useEngines(sqlite, approver);

  it('refused as PostgreSQL-only, nothing written', async () => {
    const db = await fresh();
    const only = await db.instance(counted().actions);
    const head = (await only.ledger.head()).seq;
    const err = await refusalOf(only.engine.closeInterruptedOf(Ed25519Signer.generate().keyId));
    expect(err).toBeInstanceOf(EngineSpecific);
    expect(err).toMatchObject({ code: 'bad_request', status: 400 });
    expect(err.detail).toBe(
      "closing a retired instance's executions is for a PostgreSQL ledger only; a SQLite ledger has one instance, which closes every execution it left running when it starts again",
    );
    expect((await only.ledger.head()).seq).toBe(head);
  });
});
