/**
 * The engine's exactly-once guarantees, held on both ledger engines by the same tests: the
 * SQLite ledger the core runs on, and PostgreSQL (a throwaway cluster) with several OpenExec
 * instances, each with its own connection pool and receipt key, on one database.
 */
import { describe, expect } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ActionHandler } from '../../src/main/core/actions/action-registry.ts';
import type { ExecuteOutcome } from '../../src/main/core/engine/engine.ts';
import type { JsonObject } from '../../src/main/core/json/json-value.ts';
import { parseJson } from '../../src/main/core/json/parse.ts';
import { WitnessSuspended } from '../../src/main/core/store/sqlite/within-turn.ts';
import { TestApprover } from '../support/clawshield.ts';
import { engineSetups, useEngines, type EngineInstance, type EngineSetup } from '../support/engine-instances.ts';

const approver = new TestApprover();
const PAYLOAD = '{"amount":5}';
const payload = parseJson(PAYLOAD) as JsonObject;

/** A `pay` handler that takes a moment (so requests overlap it) and counts its runs. */
function counted() {
  const runs: number[] = [];
  const pay: ActionHandler = async (p) => {
    runs.push(Number(p['amount']));
    await sleep(15);
    return { paid: p['amount']! };
  };
  return { runs, actions: { pay } };
}

const kinds = (outcomes: ExecuteOutcome[]) => outcomes.map((o) => (o.kind === 'refused' ? `${o.kind} ${o.status} ${o.code}` : o.kind));

async function until(done: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 400 && !(await done()); i++) await sleep(5);
  expect(await done()).toBe(true);
}

describe.each(engineSetups('engine_once'))('the engine exactly once on $name', (setup: EngineSetup) => {
  const { fresh, it } = useEngines(setup, approver);

  it('one nonce, 20 requests at once: the handler runs once and every answer is its result', async () => {
    const { runs, actions } = counted();
    const { engine } = await (await fresh()).instance(actions);
    const artifact = approver.mint('pay', PAYLOAD);
    const outcomes = await Promise.all(
      Array.from({ length: 20 }, () => engine.execute({ action: 'pay', payload, nonce: 'once-1', artifact })),
    );
    expect(runs).toEqual([5]);
    expect(kinds(outcomes).sort()).toEqual(['executed', ...Array<string>(19).fill('replayed')]);
    expect(new Set(outcomes.map((o) => (o.kind === 'refused' ? null : o.answer.id))).size).toBe(1);
  });

  it('one approval, 20 requests with different nonces at once: one executes, the others are refused as used', async () => {
    const { runs, actions } = counted();
    const db = await fresh();
    const { engine } = await db.instance(actions);
    const artifact = approver.mint('pay', PAYLOAD);
    const outcomes = await Promise.all(
      Array.from({ length: 20 }, (_, i) => engine.execute({ action: 'pay', payload, nonce: `approval-${i}`, artifact })),
    );
    expect(runs).toEqual([5]);
    expect(kinds(outcomes).sort()).toEqual(['executed', ...Array<string>(19).fill('refused 403 approval_used')]);
    expect(await db.verify()).toMatchObject({ valid: true, problem: null });
  });

  it('an execution a stop interrupted is closed at the next start, with a receipt, and never runs again', async () => {
    const db = await fresh();
    // The first instance's handler never returns: the process "stops" while it runs.
    const stopped = await db.instance({ pay: () => new Promise(() => undefined) });
    const artifact = approver.mint('pay', PAYLOAD);
    void stopped.engine.execute({ action: 'pay', payload, nonce: 'stop-1', artifact });
    await until(async () => (await stopped.executions.findByNonce('stop-1'))?.status === 'started');

    if (setup.keyPerInstance) {
      // Another instance cannot tell whether it ran: it says so, and leaves it to its own instance.
      const other = await db.instance(counted().actions);
      expect(await other.engine.execute({ action: 'pay', payload, nonce: 'stop-1', artifact })).toMatchObject({
        kind: 'refused',
        status: 409,
        code: 'conflict',
        detail: "Nonce 'stop-1' is being executed by another OpenExec instance",
      });
      expect(await other.engine.closeInterrupted()).toBe(0);
      expect((await other.executions.findByNonce('stop-1'))?.status).toBe('started');
    }

    const { runs, actions } = counted();
    const again: EngineInstance = await db.instance(actions, stopped.key);
    expect(await again.engine.closeInterrupted()).toBe(1);
    const row = await again.executions.findByNonce('stop-1');
    expect(row).toMatchObject({ status: 'failed', error: expect.stringMatching(/^Interrupted: /) });
    const receipt = (await again.ledger.readRange(row!.receipt_seq!, 1))[0]!;
    expect(JSON.parse(receipt.body)).toMatchObject({ event: 'failed', nonce: 'stop-1', approval_id: artifact.approval_id, status: 500 });
    expect(await again.engine.execute({ action: 'pay', payload, nonce: 'stop-1', artifact })).toMatchObject({
      kind: 'refused',
      status: 500,
      detail: expect.stringMatching(/^Interrupted: /),
    });
    expect(await again.engine.execute({ action: 'pay', payload, nonce: 'stop-2', artifact })).toMatchObject({ code: 'approval_used' });
    expect(runs).toEqual([]);
    expect(await db.verify()).toMatchObject({ valid: true, problem: null });
  });

  it('64 requests with one nonce at once, split across two instances where the engine has several: one execution', async () => {
    const db = await fresh();
    const a = counted();
    const b = counted();
    const first = await db.instance(a.actions);
    // SQLite's ledger has one writer; PostgreSQL's instances each sign with their own key.
    const second = setup.keyPerInstance ? await db.instance(b.actions) : first;
    const artifact = approver.mint('pay', PAYLOAD);
    const outcomes = await Promise.all(
      Array.from({ length: 64 }, (_, i) =>
        (i % 2 === 0 ? first : second).engine.execute({ action: 'pay', payload, nonce: 'split-1', artifact }),
      ),
    );
    expect([...a.runs, ...b.runs]).toEqual([5]);
    const executed = outcomes.filter((o) => o.kind !== 'refused' && o.kind === 'executed');
    expect(executed).toHaveLength(1);
    // The rest replay it, or (at the other instance, while it ran) say it is running there.
    for (const o of outcomes) {
      if (o.kind === 'replayed') expect(o.answer).toEqual((executed[0] as { answer: unknown }).answer);
      else if (o.kind === 'refused')
        expect(o).toMatchObject({ status: 409, detail: "Nonce 'split-1' is being executed by another OpenExec instance" });
    }
    if (!setup.keyPerInstance) expect(outcomes.filter((o) => o.kind === 'replayed')).toHaveLength(63);
    expect(await first.executions.findByNonce('split-1')).toMatchObject({ status: 'executed' });
    expect(await db.verify()).toMatchObject({ valid: true, checked: 64 + (setup.keyPerInstance ? 2 : 0) });
  });

  (setup.keyPerInstance ? it.skip : it)(
    'SQLite: a decision that waits outside its turn is rolled back and, when it resumes, reserves nothing',
    async () => {
      const { runs, actions } = counted();
      let resumed = false;
      const { engine, executions } = await (
        await fresh()
      ).instance(actions, undefined, {
        nonceHeldByProposal: async () => {
          await sleep(20);
          resumed = true;
          return null;
        },
      });
      const artifact = approver.mint('pay', PAYLOAD);
      await expect(engine.execute({ action: 'pay', payload, nonce: 'wait-1', artifact })).rejects.toBeInstanceOf(WitnessSuspended);
      await until(async () => resumed);
      await sleep(20);
      expect(await executions.findByNonce('wait-1')).toBeUndefined();
      expect(runs).toEqual([]);
    },
  );
});
