/**
 * How many round trips to PostgreSQL one execution costs: a pure action (`add`) executed through
 * the engine on a real throwaway cluster, with the pg driver's `Client.prototype.query` wrapped
 * to record every statement it sends. Printed in order; the bounds are what the store reaches
 * today, so a change that adds a round trip fails here.
 */
import pg from 'pg';
import { afterEach, beforeEach, describe, expect } from 'vitest';
import { BUILTIN_ACTIONS } from '../../../src/main/core/actions/builtin-actions.ts';
import type { JsonObject } from '../../../src/main/core/json/json-value.ts';
import { parseJson } from '../../../src/main/core/json/parse.ts';
import { TestApprover } from '../../support/clawshield.ts';
import { engineSetups, useEngines } from '../../support/engine-instances.ts';

const approver = new TestApprover();
const WIRE = '{"a":2,"b":3}';
const payload = parseJson(WIRE) as JsonObject;
const actions = { add: BUILTIN_ACTIONS['add']! };

interface Sent {
  text: string;
  /** Statements in it (a simple query may hold several). */
  statements: number;
  /** Whether the client had to wait for an earlier answer before this one could go. */
  roundTrip: boolean;
}

/**
 * Records what every pg client sends while installed. A query starts a round trip unless the
 * client pipelines and an earlier query of its own is still unanswered (then it rides along).
 */
function recordQueries() {
  const sent: Sent[] = [];
  const original = pg.Client.prototype.query;
  const inFlight = new WeakMap<object, number>();
  pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
    const config = args[0] as string | { text: string; name?: string };
    const text = (typeof config === 'string' ? config : config.text).replace(/\s+/g, ' ').trim();
    const pending = inFlight.get(this) ?? 0;
    const pipelined = (this as unknown as { pipeline?: boolean }).pipeline === true;
    const entry: Sent = { text, statements: 1, roundTrip: !pipelined || pending === 0 };
    sent.push(entry);
    inFlight.set(this, pending + 1);
    const done = () => inFlight.set(this, (inFlight.get(this) ?? 1) - 1);
    const result = (original as (...a: unknown[]) => unknown).apply(this, args);
    if (result instanceof Promise) {
      void result.then((r: unknown) => {
        if (Array.isArray(r)) entry.statements = r.length;
        done();
      }, done);
    }
    return result;
  } as typeof pg.Client.prototype.query;
  return {
    sent,
    restore: () => {
      pg.Client.prototype.query = original;
    },
  };
}

const postgres = engineSetups('pg_trips').find((s) => s.name === 'PostgreSQL')!;

describe('round trips of one execution on PostgreSQL', () => {
  const { fresh, it } = useEngines(postgres, approver);
  let recorder: ReturnType<typeof recordQueries> | undefined;
  beforeEach(() => {
    recorder = undefined;
  });
  afterEach(() => recorder?.restore());

  /** One warmed-up execution of `add` (pools connected, key registered), recorded. */
  async function oneExecution(mode: 'demo' | 'clawshield') {
    const { engine } = await (await fresh()).instance(actions, undefined, { mode });
    const request = (nonce: string) => ({
      action: 'add',
      payload,
      nonce,
      artifact: mode === 'clawshield' ? approver.mint('add', WIRE) : null,
    });
    expect((await engine.execute(request('warm'))).kind).toBe('executed');
    recorder = recordQueries();
    const outcome = await engine.execute(request('counted'));
    recorder.restore();
    expect(outcome.kind).toBe('executed');
    const { sent } = recorder;
    const roundTrips = sent.filter((s) => s.roundTrip).length;
    const statements = sent.reduce((n, s) => n + s.statements, 0);
    console.log(
      `one execution of a pure action, ${mode} mode: ${roundTrips} round trips, ${statements} statements\n` +
        sent.map((s, i) => `  ${i + 1}. ${s.roundTrip ? '' : '(pipelined) '}${s.text.slice(0, 140)}`).join('\n'),
    );
    return { roundTrips, statements, sent };
  }

  it('without an approval (demo mode)', async () => {
    const { roundTrips, statements } = await oneExecution('demo');
    expect(roundTrips).toBeLessThanOrEqual(5);
    expect(statements).toBeLessThanOrEqual(9);
  });

  it('with an approval artifact (clawshield mode)', async () => {
    const { roundTrips, statements } = await oneExecution('clawshield');
    expect(roundTrips).toBeLessThanOrEqual(7);
    expect(statements).toBeLessThanOrEqual(11);
  });
});
