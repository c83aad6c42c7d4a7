/**
 * What every ExecutionRecords must do, written once and run against the SQLite adapter and the
 * PostgreSQL store, each beside its engine's LedgerStore (reservations and spent approvals are
 * the witnessed write's own): the same calls give the same rows, an ending is recorded once and
 * rolls back with its piece, and on PostgreSQL each instance knows its own executions.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect } from 'vitest';
import { Ed25519Verifier } from '../../../../src/main/core/crypto/ed25519.ts';
import type { JsonObject } from '../../../../src/main/core/json/json-value.ts';
import { sha256Hex } from '../../../../src/main/core/json/request-hash.ts';
import type { LedgerTransaction } from '../../../../src/main/core/store/ledger-store.ts';
import { TestApprover } from '../../../support/clawshield.ts';
import { engineSetups, useEngines, type EngineInstance, type EngineSetup } from '../../../support/engine-instances.ts';
import { newReservation } from '../../../support/record-fixtures.ts';

/** Reserves `nonce` in a witnessed write of its own and returns the reservation. */
async function reserve({ ledger }: EngineInstance, nonce: string) {
  const r = newReservation(nonce, { action_def_hash: 'd'.repeat(64), agent: 'claude', grant_id: 'g-1', grant_use: 2 });
  expect(await ledger.witness((tx) => tx.reserveNonce(r))).toBe(true);
  return r;
}

/** Ends the execution with a receipt, in one witnessed write; rejects with `fail` after writing when given. */
function end({ ledger, executions }: EngineInstance, id: string, fail?: Error): Promise<number> {
  return ledger.witness(async (tx) => {
    const receipt = await tx.append({ event: 'executed', action: 'greet', exec_id: id });
    await executions
      .within(tx)
      .end(id, { status: 'executed', result: '{"ok":true}', result_legacy_json: '{"ok": true}', receipt_seq: receipt.seq });
    if (fail) throw fail;
    return receipt.seq;
  });
}

const approver = new TestApprover();

describe.each(engineSetups('execution_contract'))('ExecutionRecords contract: $name', (setup: EngineSetup) => {
  const { fresh, it } = useEngines(setup, approver);

  it('a reservation reads back by nonce and id, started and here; its ending is recorded once', async () => {
    const db = await fresh();
    const one = await db.instance({});
    const r = await reserve(one, 'n-1');
    const started = {
      ...r,
      status: 'started',
      result: null,
      result_legacy_json: null,
      error: null,
      error_status: null,
      approved: 1,
      receipt_seq: null,
      purged_at: null,
      here: true,
    };
    expect(await one.executions.findByNonce('n-1')).toEqual(started);
    expect(await one.executions.get(r.id)).toEqual(started);
    expect(await one.executions.findByNonce('n-2')).toBeUndefined();
    expect(await one.executions.get(randomUUID())).toBeUndefined();
    const { here: _, ...row } = started;
    expect(await one.executions.listStarted()).toEqual([row]);

    const seq = await end(one, r.id);
    expect(await one.executions.get(r.id)).toMatchObject({ status: 'executed', result: '{"ok":true}', receipt_seq: seq });
    expect(await one.executions.listStarted()).toEqual([]);
    await expect(end(one, r.id)).rejects.toThrow(`execution ${r.id} is not running`);
  });

  it("the time an ending was witnessed is its receipt's, read within the write; null while it runs", async () => {
    const db = await fresh();
    const one = await db.instance({});
    const r = await reserve(one, 'n-1');
    expect(await one.executions.endedAt(r.id)).toBeNull();
    expect(await one.executions.endedAt(randomUUID())).toBeNull();
    const seq = await end(one, r.id);
    const [receipt] = await one.ledger.readRange(seq, 1);
    expect(receipt?.time).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(await one.ledger.witness((tx) => one.executions.within(tx).endedAt(r.id))).toBe(receipt!.time);
    expect(await (await db.instance({})).executions.endedAt(r.id)).toBe(receipt!.time);
  });

  it('an ending in a piece that fails rolls back with it; a handle is refused once its piece has ended', async () => {
    const one = await (await fresh()).instance({});
    const r = await reserve(one, 'n-1');
    await expect(end(one, r.id, new Error('the piece fails after writing'))).rejects.toThrow('the piece fails after writing');
    expect(await one.executions.get(r.id)).toMatchObject({ status: 'started', receipt_seq: null });
    let kept: LedgerTransaction | undefined;
    await one.ledger.witness(async (tx) => {
      kept = tx;
    });
    const late = async () => one.executions.within(kept!).end(r.id, { status: 'failed', error: 'late', error_status: 500, receipt_seq: 1 });
    await expect(late()).rejects.toThrow(/already ended/);
    expect(await one.executions.get(r.id)).toMatchObject({ status: 'started' });
  });

  it('an approval, once spent, is found by its id and by its signed message', async () => {
    const one = await (await fresh()).instance({});
    const r = await reserve(one, 'n-1');
    const approval = {
      approvalId: 'ap-1',
      tenantId: 't',
      actionHash: 'a'.repeat(64),
      issuedAt: '2026-01-01T00:00:00Z',
      expiresAt: '2026-01-02T00:00:00Z',
      approver: 'clawshield' as const,
      approverKeyId: 'aa11',
      messageHash: 'm'.repeat(64),
    };
    expect(await one.executions.approvalUsedBy(approval)).toBeNull();
    const spend = { approval, action: 'greet', verifiedAt: '2026-01-01T00:00:01Z', execId: r.id };
    expect(await one.ledger.witness((tx) => tx.spendApproval(spend))).toBeNull();
    const use = { approvalId: 'ap-1', execId: r.id };
    expect(await one.executions.approvalUsedBy(approval)).toEqual(use);
    expect(await one.executions.approvalUsedBy({ approvalId: 'ap-1', messageHash: 'n'.repeat(64) })).toEqual(use);
    expect(await one.executions.approvalUsedBy({ approvalId: 'ap-2', messageHash: 'm'.repeat(64) })).toEqual(use);
    expect(await one.executions.approvalUsedBy({ approvalId: 'ap-2', messageHash: 'n'.repeat(64) })).toBeNull();
  });

  it('what the console reads: executions that succeeded, approvals spent newest first a page at a time, a stored result', async () => {
    const db = await fresh();
    const greet = async (p: JsonObject) => ({ hello: p['name']! });
    const boom = async (): Promise<JsonObject> => {
      throw new Error('boom');
    };
    const { engine, executions } = await db.instance({ greet, boom });
    const run = (action: string, nonce: string, artifact: ReturnType<TestApprover['mint']> | null) =>
      engine.execute({ action, payload: { name: nonce }, nonce, artifact });
    const artifacts = ['a-1', 'a-2', 'a-3', 'a-4'].map((n) => approver.mint(n === 'a-4' ? 'boom' : 'greet', `{"name":"${n}"}`));
    const outcomes = [];
    for (const [i, artifact] of artifacts.entries()) outcomes.push(await run(i === 3 ? 'boom' : 'greet', `a-${i + 1}`, artifact));
    // Refused without an approval: nothing spent, nothing executed.
    expect((await run('greet', 'none', null)).kind).toBe('refused');
    expect(outcomes.map((o) => o.kind)).toEqual(['executed', 'executed', 'executed', 'refused']);
    const ids = await Promise.all(['a-1', 'a-2', 'a-3', 'a-4'].map(async (n) => (await executions.findByNonce(n))!.id));

    // Every instance counts and lists the same rows.
    const other = (await db.instance({})).executions;
    for (const records of [executions, other]) {
      expect(await records.countExecuted()).toBe(3);
      expect(await records.countApprovals()).toBe(4);
    }
    const keyId = new Ed25519Verifier(approver.signer.publicKey).keyId;
    const newest = await other.listApprovals(100);
    expect(newest.map(({ seq: _, ...a }) => a)).toEqual(
      artifacts
        .map((a, i) => ({
          approvalId: a.approval_id,
          tenantId: a.tenant_id,
          actionHash: a.action_hash,
          issuedAt: a.issued_at,
          expiresAt: a.expires_at,
          approver: 'clawshield',
          approverKeyId: keyId,
          verifiedAt: expect.any(String),
          action: i === 3 ? 'boom' : 'greet',
          usedByExecId: ids[i],
        }))
        .reverse(),
    );
    const seqs = newest.map((a) => a.seq);
    expect([...seqs].sort((x, y) => y - x)).toEqual(seqs);
    expect(new Set(seqs).size).toBe(4);
    const first = await executions.listApprovals(2);
    expect(first).toEqual(newest.slice(0, 2));
    expect(await executions.listApprovals(2, first[1]!.seq)).toEqual(newest.slice(2));
    expect(await executions.listApprovals(2, newest[3]!.seq)).toEqual([]);

    // The result as stored: canonical, and the protocol §3 text its receipt hashed.
    const stored = await other.executedResult(ids[0]!);
    expect(stored).toEqual({ result: '{"hello":"a-1"}', legacyJson: '{"hello": "a-1"}' });
    const answer = outcomes[0]!.kind === 'executed' ? outcomes[0]!.answer : null;
    expect(sha256Hex(`${ids[0]}:${stored!.legacyJson}`)).toBe(answer!.receipt);
    // Only an execution that succeeded has one.
    expect(await executions.executedResult(ids[3]!)).toBeNull();
    expect(await executions.executedResult(randomUUID())).toBeNull();
  });

  (setup.keyPerInstance ? it : it.skip)(
    'PostgreSQL: each instance knows its own executions, and lists only its own as started',
    async () => {
      const db = await fresh();
      const [one, two] = [await db.instance({}), await db.instance({})];
      const mine = await reserve(one, 'n-1');
      const theirs = await reserve(two, 'n-2');
      expect(await one.executions.findByNonce('n-2')).toMatchObject({ id: theirs.id, here: false });
      expect(await two.executions.findByNonce('n-2')).toMatchObject({ here: true });
      expect((await one.executions.listStarted()).map((e) => e.id)).toEqual([mine.id]);
      expect((await two.executions.listStarted()).map((e) => e.id)).toEqual([theirs.id]);
      // The same instance started again (same receipt key) finds what it left started.
      const again = await db.instance({}, one.key);
      expect((await again.executions.listStarted()).map((e) => e.id)).toEqual([mine.id]);
    },
  );
});
