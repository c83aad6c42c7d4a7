import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { rmSync } from 'node:fs';
import { tempDir } from '../../support/harness.ts';
import { loadConfig } from '../../../src/main/app/config.ts';
import { OpenExecCore } from '../../../src/main/core/openexec-core.ts';
import { GrantService } from '../../../src/main/core/grants/grant-service.ts';
import { ProposalService } from '../../../src/main/core/proposals/proposal-service.ts';
import { EventHub } from '../../../src/main/core/events/event-hub.ts';
import { parseJson } from '../../../src/main/core/json/parse.ts';
import type { JsonObject } from '../../../src/main/core/json/json-value.ts';
import type { ExecuteOutcome } from '../../../src/main/core/engine/engine.ts';
import { searchReceipts } from '../../../src/main/core/ledger/receipt-search.ts';
import { rawDb } from '../../support/raw-db.ts';

const obj = (text: string) => parseJson(text) as JsonObject;
/** Sends to `to` with a free-text `body`: `to` is fixed by the grants below, `body` varies. */
const SEND_SCHEMA = obj('{"type":"object","properties":{"body":{"type":"string","maxLength":20}},"required":["body"]}');

describe('grants at dispatch (clawshield mode, /execute without an artifact)', () => {
  let dir: string;
  let now: number;
  let core: OpenExecCore;
  let grants: GrantService;
  let ran: JsonObject[];
  const open = async () => {
    core = await OpenExecCore.open({
      ...loadConfig({ OPENEXEC_DATA_DIR: dir, OPENEXEC_MODE: 'clawshield' }),
      clock: { now: () => now },
      extraActions: {
        send: async (payload) => {
          ran.push(payload);
          await new Promise((r) => setTimeout(r, 1));
          return payload;
        },
      },
    });
    grants = new GrantService(core);
  };
  beforeEach(async () => {
    dir = tempDir();
    now = Date.parse('2026-01-01T00:00:00.000Z');
    ran = [];
    await open();
  });
  afterEach(() => {
    core.close();
    rmSync(dir, { recursive: true, force: true });
  });

  let n = 0;
  const send = (payload: string, agent: string | null = null): Promise<ExecuteOutcome> =>
    core.engine.execute({ action: 'send', payload: obj(payload), nonce: `n-${++n}`, artifact: null, agent });
  const grant = (limit: { uses?: number; forSeconds?: number; untilRestart?: boolean }, agent: string | null = null) =>
    grants.issue({ action: 'send', agent, fixed: obj('{"to":"cfo"}'), schema: SEND_SCHEMA, reason: 'weekly report', ...limit });
  const receipts = (grantId: string) =>
    rawDb(core).prepare('SELECT event, body FROM receipts WHERE grant_id = ? ORDER BY seq').all(grantId) as {
      event: string;
      body: string;
    }[];

  test('without a grant the request is refused as needing approval and nothing runs', async () => {
    const out = await send('{"to":"cfo","body":"hi"}');
    expect(out).toMatchObject({ kind: 'refused', code: 'approval_required' });
    expect(ran).toEqual([]);
  });

  test('inside the scope it executes; the receipt names the grant and the use', async () => {
    const g = await grant({ uses: 2 });
    const out = await send('{"to":"cfo","body":"hi"}');
    expect(out.kind).toBe('executed');
    const executed = receipts(g.id).filter((r) => r.event === 'executed');
    expect(executed).toHaveLength(1);
    const body = JSON.parse(executed[0]!.body);
    expect(body).toMatchObject({ grant_id: g.id, grant_use: 1, approver: 'operator', approver_key_id: core.operatorSigner.keyId });
    expect(rawDb(core).prepare('SELECT grant_id, grant_use FROM executions').get()).toEqual({ grant_id: g.id, grant_use: 1 });
  });

  test.each([
    ['a different fixed value', '{"to":"press","body":"hi"}'],
    ['a fixed field missing', '{"body":"hi"}'],
    ['a varying field outside its schema', '{"to":"cfo","body":"much too long for the schema of this grant"}'],
    ['a field neither fixed nor varying', '{"to":"cfo","body":"hi","cc":"press"}'],
    ['a varying field of the wrong type', '{"to":"cfo","body":7}'],
  ])('outside the scope (%s) it is refused and never runs', async (_what, payload) => {
    const g = await grant({ uses: 5 });
    const out = await send(payload);
    expect(out).toMatchObject({ kind: 'refused', code: 'approval_required' });
    expect(ran).toEqual([]);
    expect((await grants.get(g.id))?.usesSpent).toBe(0);
  });

  test('a grant naming an agent covers only that agent', async () => {
    await grant({ uses: 5 }, 'claude-code');
    expect(await send('{"to":"cfo","body":"a"}')).toMatchObject({ code: 'approval_required' });
    expect(await send('{"to":"cfo","body":"a"}', 'codex')).toMatchObject({ code: 'approval_required' });
    expect((await send('{"to":"cfo","body":"a"}', 'claude-code')).kind).toBe('executed');
  });

  test('64 concurrent requests against a grant of 5 uses: exactly 5 execute, then it is exhausted (witnessed)', async () => {
    const g = await grant({ uses: 5 });
    const outs = await Promise.all(Array.from({ length: 64 }, (_, i) => send(`{"to":"cfo","body":"m${i}"}`)));
    expect(outs.filter((o) => o.kind === 'executed')).toHaveLength(5);
    expect(outs.filter((o) => o.kind === 'refused' && o.code === 'approval_required')).toHaveLength(59);
    expect(ran).toHaveLength(5);
    const uses = receipts(g.id)
      .filter((r) => r.event === 'executed')
      .map((r) => JSON.parse(r.body).grant_use)
      .sort();
    expect(uses).toEqual([1, 2, 3, 4, 5]);
    const ended = receipts(g.id).filter((r) => r.event === 'config' && JSON.parse(r.body).details.change === 'exhausted');
    expect(ended).toHaveLength(1);
    expect(await grants.get(g.id)).toMatchObject({ status: 'exhausted', usesSpent: 5 });
  });

  test('the expiry boundary is exact: live 1 ms before `until`, over at `until`, and witnessed', async () => {
    const g = await grant({ forSeconds: 60 });
    now += 60_000 - 1;
    expect((await send('{"to":"cfo","body":"a"}')).kind).toBe('executed');
    now += 1;
    expect(await send('{"to":"cfo","body":"b"}')).toMatchObject({ code: 'approval_required' });
    expect(ran).toHaveLength(1);
    const ended = receipts(g.id)
      .filter((r) => r.event === 'config')
      .map((r) => JSON.parse(r.body).details.change);
    expect(ended).toEqual(['granted', 'expired']);
    expect((await grants.get(g.id))?.status).toBe('expired');
  });

  test('revocation is immediate and witnessed; requests decided before it keep their use', async () => {
    const g = await grant({ uses: 50 });
    const first = Array.from({ length: 8 }, (_, i) => send(`{"to":"cfo","body":"a${i}"}`));
    // Revoked while those are queued or running: what was decided before stands, nothing after.
    await Promise.resolve();
    await grants.revoke(g.id, 'changed my mind');
    const later = await Promise.all(Array.from({ length: 8 }, (_, i) => send(`{"to":"cfo","body":"b${i}"}`)));
    const before = await Promise.all(first);
    expect(later.every((o) => o.kind === 'refused' && o.code === 'approval_required')).toBe(true);
    const spent = (await grants.get(g.id))!.usesSpent;
    expect(before.filter((o) => o.kind === 'executed')).toHaveLength(spent);
    expect(ran).toHaveLength(spent);
    const revoked = receipts(g.id).filter((r) => r.event === 'config' && JSON.parse(r.body).details.change === 'revoked');
    expect(revoked).toHaveLength(1);
    expect(JSON.parse(revoked[0]!.body).reason).toMatch(/changed my mind/);
    await expect(grants.revoke(g.id, 'again')).rejects.toThrow(/already ended/);
    // The ledger's id search finds the grant's whole life.
    const found = searchReceipts(rawDb(core), { id: g.id, limit: 500 }).items.map((r) => r.event);
    expect(found.filter((e) => e === 'config')).toHaveLength(2);
    expect(found.filter((e) => e === 'executed')).toHaveLength(spent);
  });

  test('restart: an until_restart grant ends (witnessed), the others survive with their uses', async () => {
    const session = await grant({ untilRestart: true });
    const counted = await grant({ uses: 3 });
    const timed = await grant({ forSeconds: 3600 });
    await send('{"to":"cfo","body":"a"}');
    core.close();
    await open();
    expect((await grants.get(session.id))?.status).toBe('restart');
    expect(receipts(session.id).map((r) => JSON.parse(r.body).details?.change)).toContain('restart');
    expect(await grants.get(counted.id)).toMatchObject({ status: 'live' });
    expect(await grants.get(timed.id)).toMatchObject({ status: 'live' });
    expect((await send('{"to":"cfo","body":"b"}')).kind).toBe('executed');
  });

  test('a grant row edited in the database authorises nothing', async () => {
    const g = await grant({ uses: 5 });
    rawDb(core).prepare('UPDATE grants SET body = replace(body, \'"cfo"\', \'"press"\') WHERE id = ?').run(g.id);
    core.close();
    await open();
    expect(await send('{"to":"press","body":"a"}')).toMatchObject({ code: 'approval_required' });
    expect(await send('{"to":"cfo","body":"a"}')).toMatchObject({ code: 'approval_required' });
    expect(ran).toEqual([]);
  });

  test('terms are refused without a limit, with a past or too distant until, or a field both fixed and varying', async () => {
    await expect(grant({})).rejects.toThrow(/needs a limit/);
    await expect(grant({ forSeconds: 8 * 24 * 3600 })).rejects.toThrow(/7 days/);
    await expect(grants.issue({ action: 'send', fixed: obj('{"body":"x"}'), schema: SEND_SCHEMA, reason: 'r', uses: 1 })).rejects.toThrow(
      /both fixed and varying/,
    );
    await expect(grants.issue({ action: 'nope', fixed: obj('{}'), schema: SEND_SCHEMA, reason: 'r', uses: 1 })).rejects.toThrow(
      /not an allowed action/,
    );
  });
});

describe('grants for proposals', () => {
  let dir: string;
  let core: OpenExecCore;
  let grants: GrantService;
  let proposals: ProposalService;
  beforeEach(async () => {
    dir = tempDir();
    core = await OpenExecCore.open({ ...loadConfig({ OPENEXEC_DATA_DIR: dir }), extraActions: { send: (p) => p } });
    grants = new GrantService(core);
    proposals = new ProposalService(core, new EventHub(), { defaultTtlSeconds: 600, tenantId: null });
  });
  afterEach(() => {
    proposals.stop();
    core.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('inside the scope a proposal executes at once; outside it stays an ordinary pending proposal', async () => {
    const g = await grants.issue({ action: 'send', fixed: obj('{"to":"cfo"}'), schema: SEND_SCHEMA, reason: 'r', uses: 1 });
    const inside = await proposals.submit({ action: 'send', payload: obj('{"to":"cfo","body":"a"}'), nonce: 'p1' });
    expect(inside.proposal).toMatchObject({ status: 'executed', result: '{"body":"a","to":"cfo"}' });
    const outside = await proposals.submit({ action: 'send', payload: obj('{"to":"press","body":"a"}'), nonce: 'p2' });
    expect(outside.proposal).toMatchObject({ status: 'pending', exec_id: null });
    // Exhausted: the next one inside the old scope waits for the operator too.
    const after = await proposals.submit({ action: 'send', payload: obj('{"to":"cfo","body":"b"}'), nonce: 'p3' });
    expect(after.proposal).toMatchObject({ status: 'pending', exec_id: null });
    const events = rawDb(core).prepare('SELECT event FROM receipts WHERE proposal_id = ? ORDER BY seq').pluck().all(inside.proposal.id);
    expect(events).toEqual(['proposed', 'executed']);
    const executed = rawDb(core).prepare("SELECT grant_id FROM receipts WHERE event = 'executed'").pluck().all();
    expect(executed).toEqual([g.id]);
  });

  test('concurrent proposals against a grant of 5 uses: 5 execute, the rest stay pending', async () => {
    await grants.issue({ action: 'send', fixed: obj('{"to":"cfo"}'), schema: SEND_SCHEMA, reason: 'r', uses: 5 });
    const outs = await Promise.all(
      Array.from({ length: 32 }, (_, i) =>
        proposals.submit({ action: 'send', payload: obj(`{"to":"cfo","body":"m${i}"}`), nonce: `q${i}` }),
      ),
    );
    expect(outs.filter((o) => o.proposal.status === 'executed')).toHaveLength(5);
    expect(outs.filter((o) => o.proposal.status === 'pending' && o.proposal.exec_id === null)).toHaveLength(27);
  });
});
