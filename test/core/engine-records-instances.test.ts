/**
 * What the engine reads inside its decision comes from the record stores within the decision's
 * witnessed write, as OpenExecCore wires them: the grants it spends, the allow-list, the nonces
 * proposals hold, and an MCP tool's pinned definition. On PostgreSQL two OpenExec instances on
 * one database (each its own pool and receipt key) therefore decide as one: what one committed
 * holds at the other's next decision. On SQLite (one writer) the same calls go to one instance.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect } from 'vitest';
import type { ActionHandler } from '../../src/main/core/actions/action-registry.ts';
import { systemClock } from '../../src/main/core/clock.ts';
import { Ed25519Signer, Ed25519Verifier } from '../../src/main/core/crypto/ed25519.ts';
import type { ExecuteOutcome } from '../../src/main/core/engine/engine.ts';
import { recordCallbacks } from '../../src/main/core/engine/record-callbacks.ts';
import { GRANT_TYPE, GRANT_VERSION, signGrant, type GrantTerms } from '../../src/main/core/grants/grant-artifact.ts';
import { GrantAuthority } from '../../src/main/core/grants/grant-authority.ts';
import type { JsonObject } from '../../src/main/core/json/json-value.ts';
import { parseJson } from '../../src/main/core/json/parse.ts';
import { TestApprover } from '../support/clawshield.ts';
import { engineSetups, useEngines, type EngineInstance, type EngineSetup } from '../support/engine-instances.ts';
import { newProposal } from '../support/record-fixtures.ts';

const approver = new TestApprover();
const operator = Ed25519Signer.generate();
const BOOT = 'boot-1';
const PAYLOAD = '{"amount":5}';
const payload = parseJson(PAYLOAD) as JsonObject;

/** Handlers that count their runs. */
function counted(...names: string[]) {
  const runs: string[] = [];
  const actions: Record<string, ActionHandler> = {};
  for (const name of names) actions[name] = () => (runs.push(name), { ran: name });
  return { runs, actions };
}

const kinds = (outcomes: ExecuteOutcome[]) => outcomes.map((o) => (o.kind === 'refused' ? `refused ${o.code}` : o.kind)).sort();

/** A second instance on the database where the engine has several (PostgreSQL); on SQLite, the first again. */
async function pair(setup: EngineSetup, make: () => Promise<EngineInstance>): Promise<[EngineInstance, EngineInstance]> {
  const first = await make();
  return [first, setup.keyPerInstance ? await make() : first];
}

/** The operator's grant of `uses` uses of `action` (any payload), stored at `at`. */
async function grant(at: EngineInstance, action: string, uses: number): Promise<string> {
  const terms: GrantTerms = {
    type: GRANT_TYPE,
    v: GRANT_VERSION,
    grant_id: randomUUID(),
    issued_at: new Date().toISOString(),
    operator_key_id: operator.keyId,
    scope: { action, fixed: {}, schema: parseJson('{"type":"object","properties":{"amount":{"type":"integer"}}}') as JsonObject },
    limit: { uses },
    reason: 'instances test',
  };
  const { body, signature } = signGrant(terms, operator);
  const row = { id: terms.grant_id, action, body, signature, key_id: operator.keyId, boot_id: BOOT, created_at: terms.issued_at };
  await at.ledger.witness((tx) => at.records.grants.within(tx).insert(row));
  return terms.grant_id;
}

describe.each(engineSetups('engine_records'))('the decision reads the records within its transaction on $name', (setup: EngineSetup) => {
  const { fresh, it } = useEngines(setup, approver);

  it('a grant of 5 uses, 24 requests without an artifact split across the instances: exactly 5 execute', async () => {
    const db = await fresh();
    const { runs, actions } = counted('pay');
    const verifier = new Ed25519Verifier(operator.publicKey);
    const grants = {
      wired: (r: EngineInstance['records']) => ({ grants: new GrantAuthority(r.grants, () => verifier, systemClock, BOOT) }),
    };
    const [first, second] = await pair(setup, () => db.instance(actions, undefined, grants));
    const id = await grant(first, 'pay', 5);
    const outcomes = await Promise.all(
      Array.from({ length: 24 }, (_, i) =>
        (i % 2 === 0 ? first : second).engine.execute({ action: 'pay', payload, nonce: `grant-${i}`, artifact: null }),
      ),
    );
    expect(kinds(outcomes)).toEqual([...Array<string>(5).fill('executed'), ...Array<string>(19).fill('refused approval_required')]);
    expect(runs).toHaveLength(5);
    expect(await second.records.grants.get(id)).toMatchObject({ uses_spent: 5, ended_reason: 'exhausted' });
    // Each use named once, and the exhaustion witnessed once, whichever instance spent it.
    const receipts = (await first.ledger.readRange(1, 1000)).map((r) => JSON.parse(r.body) as Record<string, unknown>);
    const uses = receipts.filter((b) => b['event'] === 'executed' && b['grant_id'] === id).map((b) => b['grant_use']);
    expect(uses.map(Number).sort()).toEqual([1, 2, 3, 4, 5]);
    const ended = receipts.filter((b) => b['event'] === 'config' && b['grant_id'] === id);
    expect(ended).toHaveLength(1);
    expect(ended[0]).toMatchObject({ details: { kind: 'grant', change: 'exhausted' } });
    expect(await db.verify()).toMatchObject({ valid: true, problem: null });
  });

  it("an allow-list change committed at one instance holds at the other's next decision", async () => {
    const db = await fresh();
    const { runs, actions } = counted('pay', 'other');
    const [first, second] = await pair(setup, () => db.instance(actions, undefined, { storedAllowList: true }));
    const run = (nonce: string) => second.engine.execute({ action: 'pay', payload, nonce, artifact: approver.mint('pay', PAYLOAD) });
    expect((await run('allow-1')).kind).toBe('executed');
    const change = await first.ledger.witness((tx) => first.allowList.set('pay', false, tx));
    expect(change).toEqual({ changed: true, before: null, list: ['other'] });
    expect(await run('allow-2')).toMatchObject({
      kind: 'refused',
      code: 'not_allowed',
      detail: "Action 'pay' is not in the execution allow-list",
    });
    await first.ledger.witness((tx) => first.allowList.set('pay', true, tx));
    expect((await run('allow-3')).kind).toBe('executed');
    expect(runs).toEqual(['pay', 'pay']);
  });

  it('a nonce a proposal holds, stored at one instance, is refused at the other', async () => {
    const db = await fresh();
    const { runs, actions } = counted('pay');
    const wired = { wired: (r: EngineInstance['records']) => recordCallbacks(r.proposals, r.toolPins) };
    const [first, second] = await pair(setup, () => db.instance(actions, undefined, wired));
    const proposal = newProposal({ nonce: 'held-1', action: 'pay', payload: PAYLOAD });
    await first.ledger.witness((tx) => first.records.proposals.within(tx).insert(proposal));
    expect(await second.engine.execute({ action: 'pay', payload, nonce: 'held-1', artifact: approver.mint('pay', PAYLOAD) })).toMatchObject(
      {
        kind: 'refused',
        code: 'nonce_conflict',
        detail: `Nonce 'held-1' belongs to proposal ${proposal.id}`,
      },
    );
    expect(runs).toEqual([]);
  });

  it('an MCP tool runs under the definition pinned now: one accepted at one instance refuses the old at the other', async () => {
    const db = await fresh();
    const tool = 'mcp:mail/send';
    const { runs, actions } = counted(tool);
    const wired = { wired: (r: EngineInstance['records']) => recordCallbacks(r.proposals, r.toolPins) };
    const [first, second] = await pair(setup, () => db.instance(actions, undefined, wired));
    const [h1, h2] = ['1'.repeat(64), '2'.repeat(64)];
    const at = new Date().toISOString();
    await first.ledger.witness((tx) => first.records.toolPins.within(tx).insert(tool, h1, '{"v":1}', at));
    const run = (nonce: string) =>
      second.engine.execute({ action: tool, payload, nonce, artifact: approver.mint(tool, PAYLOAD), definitionHash: h1 });
    expect((await run('pin-1')).kind).toBe('executed');
    expect(await second.executions.findByNonce('pin-1')).toMatchObject({ action_def_hash: h1 });
    await first.ledger.witness(async (tx) => {
      const pins = first.records.toolPins.within(tx);
      expect(await pins.markPending(tool, h2, '{"v":2}')).toBe(true);
      expect(await pins.accept(tool, h2, at)).toBe(true);
    });
    expect(await run('pin-2')).toMatchObject({
      kind: 'refused',
      code: 'definition_changed',
      detail: `The definition of '${tool}' changed after it was proposed (proposed ${h1}, now ${h2}); not executed`,
    });
    expect(runs).toEqual([tool]);
  });
});
