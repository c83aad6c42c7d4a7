/**
 * Giving the operator more time (ConsoleService.extend over /console/extend) and what a
 * proposal is compared with (getProposal's previousApproved), against a real core over HTTP.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { get, post, startServer, type RunningServer } from '../support/harness.ts';
import { consoleCall } from '../support/console-http.ts';
import { MAX_EXTEND_AHEAD_SECONDS } from '../../src/main/core/proposals/proposal-service.ts';
import { rawDb } from '../support/raw-db.ts';

describe('extending a proposal, and the last approved request of its action', () => {
  let s: RunningServer;
  let op: (method: string, input?: unknown) => ReturnType<typeof consoleCall>;
  beforeAll(async () => {
    s = await startServer({ OPENEXEC_MODE: 'clawshield', OPENEXEC_PROPOSAL_TTL: '600' });
    op = (method, input = {}) => consoleCall(s.url, s.app.consoleToken, method, input);
  });
  afterAll(() => s.stop());

  const propose = async (nonce: string, payload: Record<string, unknown>, ttl = 120) => {
    const r = await post(s.url, '/proposals', { action: 'echo', payload, nonce, ttl_seconds: ttl });
    expect(r.status, r.text).toBe(202);
    return r.body as { id: string; expires_at: string };
  };
  const receipts = (id: string) =>
    rawDb(s.app.core).prepare('SELECT event, body FROM receipts WHERE proposal_id = ? ORDER BY seq').all(id) as {
      event: string;
      body: string;
    }[];

  test('extend moves the expiry, is witnessed by a signed `extended` receipt, and the agent sees the new expiry', async () => {
    const p = await propose('extend-1', { n: 1 }, 60);
    const before = Date.now();
    const r = await op('extend', { id: p.id, seconds: 300 });
    expect(r.status, r.text).toBe(200);
    const newExpiry = Date.parse(r.body.expiresAt);
    // Counted from the current expiry, which is later than now.
    expect(newExpiry - Date.parse(p.expires_at)).toBe(300_000);
    expect(newExpiry).toBeGreaterThan(before + 300_000);
    const agent = await get(s.url, `/proposals/${p.id}`);
    expect(agent.body).toMatchObject({ status: 'pending', expires_at: r.body.expiresAt });
    const rows = receipts(p.id);
    expect(rows.map((row) => row.event)).toEqual(['proposed', 'extended']);
    expect(JSON.parse(rows[1]!.body)).toMatchObject({
      event: 'extended',
      proposal_id: p.id,
      details: { expires_at_before: p.expires_at, expires_at: r.body.expiresAt },
    });
    expect((await op('verifyChain')).body).toMatchObject({ valid: true });
  });

  test('an extension is bounded: never more than an hour ahead of now, and refused once at the bound', async () => {
    const p = await propose('extend-cap', { n: 2 }, 3000);
    const first = await op('extend', { id: p.id, seconds: 3600 });
    expect(first.status, first.text).toBe(200);
    const ahead = Date.parse(first.body.expiresAt) - Date.now();
    expect(ahead).toBeLessThanOrEqual(MAX_EXTEND_AHEAD_SECONDS * 1000);
    expect(ahead).toBeGreaterThan(MAX_EXTEND_AHEAD_SECONDS * 1000 - 5000);
    // At the bound there is (next to) nothing left to give: refused, and nothing witnessed.
    const second = await op('extend', { id: p.id, seconds: 3600 });
    expect(second.status).toBe(409);
    expect(second.body.detail).toMatch(/latest allowed/);
    expect(receipts(p.id).filter((row) => row.event === 'extended').length).toBe(1);
  });

  test('bad input and closed proposals are refused with a clear error, and leave no receipt', async () => {
    const p = await propose('extend-bad', { n: 3 });
    for (const input of [{ id: p.id }, { id: p.id, seconds: 5 }, { id: p.id, seconds: 3601 }, { id: p.id, seconds: 1.5 }]) {
      const r = await op('extend', input);
      expect(r.status, JSON.stringify(input)).toBe(400);
      expect(r.body.detail).toMatch(/seconds/);
    }
    expect((await op('extend', { id: '00000000-0000-4000-8000-000000000000', seconds: 60 })).status).toBe(404);
    await op('deny', { id: p.id, reason: 'no' });
    const closed = await op('extend', { id: p.id, seconds: 60 });
    expect(closed.status).toBe(409);
    expect(closed.body.detail).toMatch(/already denied/);
    const expiring = await propose('extend-expired', { n: 4 }, 1);
    await new Promise((r) => setTimeout(r, 1100));
    expect((await op('extend', { id: expiring.id, seconds: 60 })).status).toBe(410);
    expect(receipts(p.id).map((row) => row.event)).toEqual(['proposed', 'denied']);
    expect(receipts(expiring.id).map((row) => row.event)).toEqual(['proposed', 'expired']);
  });

  test('a denial’s reason goes back to the agent', async () => {
    const p = await propose('deny-reason', { n: 5 });
    await op('deny', { id: p.id, reason: 'Payload looks wrong' });
    expect((await get(s.url, `/proposals/${p.id}`)).body).toMatchObject({ status: 'denied', reason: 'Payload looks wrong' });
  });

  test('getProposal names the last executed proposal of the same action, never itself', async () => {
    const mk = async (nonce: string, payload: Record<string, unknown>) =>
      (await post(s.url, '/proposals', { action: 'add', payload, nonce })).body.id as string;
    const first = await mk('prev-1', { a: 1, b: 2 });
    expect((await op('getProposal', { id: first })).body.previousApproved).toBeNull();
    await op('approve', { id: first });
    const second = await mk('prev-2', { a: 1, b: 3 });
    const detail = await op('getProposal', { id: second });
    expect(detail.body.previousApproved).toMatchObject({ id: first, payload: '{"a":1,"b":2}', decidedAt: expect.any(String) });
    // A denied one does not count as approved.
    await op('deny', { id: second, reason: 'no' });
    const third = await mk('prev-3', { a: 9, b: 9 });
    expect((await op('getProposal', { id: third })).body.previousApproved.id).toBe(first);
    expect((await op('getProposal', { id: first })).body.previousApproved).toBeNull();
  });
});
