import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { get, post, startServer, type RunningServer } from '../support/harness.ts';
import { consoleCall } from '../support/console-http.ts';
import { rawDb } from '../support/raw-db.ts';

describe('propose → approve → execute → witness, over real HTTP', () => {
  let s: RunningServer;
  let op: (method: string, input?: unknown) => ReturnType<typeof consoleCall>;
  beforeAll(async () => {
    // ClawShield mode with no ClawShield key: only the operator's own approvals can run anything.
    s = await startServer({ OPENEXEC_MODE: 'clawshield', OPENEXEC_PROPOSAL_TTL: '600' });
    op = (method, input = {}) => consoleCall(s.url, s.app.consoleToken, method, input);
  });
  afterAll(() => s.stop());

  test('the full loop: the agent waits, the operator approves, the answer arrives at once', async () => {
    const proposed = await post(s.url, '/proposals', {
      action: 'add',
      payload: { a: 40, b: 2 },
      nonce: 'loop-1',
      context: 'Pay invoice 4471 to ACME (quarterly retainer)',
    });
    expect(proposed.status).toBe(202);
    expect(proposed.body).toMatchObject({ status: 'pending', action: 'add', request_hash: expect.stringMatching(/^[0-9a-f]{64}$/) });
    const id = proposed.body.id as string;

    const before = await op('health');
    expect(before.body.warnings).toContain('no execution allow-list is configured: every registered action may run');
    const pending = await op('listPending');
    expect(pending.status).toBe(200);
    const mine = pending.body.find((p: { id: string }) => p.id === id);
    expect(mine.requestCanonical).toBe('{"action":"add","payload":{"a":40,"b":2}}');
    expect(mine.context).toBe('Pay invoice 4471 to ACME (quarterly retainer)');

    const waiting = get(s.url, `/proposals/${id}?wait=30`);
    await new Promise((r) => setTimeout(r, 100));
    const approvedAt = performance.now();
    const approved = await op('approve', { id });
    expect(approved.status).toBe(200);
    expect(approved.body).toMatchObject({ status: 'executed', resultCanonical: '{"sum":42}' });
    const answer = await waiting;
    const latency = performance.now() - approvedAt;
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ status: 'executed', result: { sum: 42 }, exec_id: approved.body.execId });
    expect(answer.body.receipt).toMatch(/^[0-9a-f]{64}$/);
    expect(latency).toBeLessThan(1000); // long-poll answers on the decision, not on a polling tick

    const events = rawDb(s.app.core).prepare('SELECT event FROM receipts WHERE proposal_id = ? ORDER BY seq').all(id) as {
      event: string;
    }[];
    expect(events.map((e) => e.event)).toEqual(['proposed', 'approved', 'executed']);
    const executed = rawDb(s.app.core)
      .prepare("SELECT body FROM receipts WHERE proposal_id = ? AND event = 'executed'")
      .pluck()
      .get(id) as string;
    expect(JSON.parse(executed)).toMatchObject({ approver: 'operator', approver_key_id: s.app.core.operatorSigner.keyId });

    const chain = await op('verifyChain');
    expect(chain.body).toMatchObject({ valid: true, firstBadSeq: null });
    const approvals = await op('listApprovals', {});
    expect(approvals.body[0]).toMatchObject({ approver: 'operator', usedByExecId: approved.body.execId, action: 'add' });

    const again = await op('approve', { id });
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('conflict');
  });

  test('two approvals at once: one signature, one execution; the other click is told so', async () => {
    const p = await post(s.url, '/proposals', { action: 'echo', payload: { twice: true }, nonce: 'double-click' });
    const [a, b] = await Promise.all([op('approve', { id: p.body.id }), op('approve', { id: p.body.id })]);
    expect([a.status, b.status].sort()).toEqual([200, 409]);
    const count = (sql: string) => rawDb(s.app.core).prepare(sql).pluck().get(p.body.id) as number;
    expect(count("SELECT count(*) FROM receipts WHERE proposal_id = ? AND event = 'approved'")).toBe(1);
    expect(count("SELECT count(*) FROM receipts WHERE proposal_id = ? AND event = 'executed'")).toBe(1);
  });

  test("an operator's artifact, read from the ledger, cannot be replayed at /execute", async () => {
    const p = await post(s.url, '/proposals', { action: 'echo', payload: { pay: 1 }, nonce: 'op-art' });
    await op('approve', { id: p.body.id });
    const body = JSON.parse(
      rawDb(s.app.core).prepare("SELECT body FROM receipts WHERE proposal_id = ? AND event = 'approved'").pluck().get(p.body.id) as string,
    );
    const artifact = {
      approval_id: body.approval_id,
      tenant_id: body.tenant_id,
      action_hash: body.request_hash,
      issued_at: body.details.issued_at,
      expires_at: body.details.expires_at,
      signature: body.details.signature,
    };
    const r = await post(s.url, '/execute', { action: 'echo', payload: { pay: 1 }, nonce: 'op-art-2', approval_artifact: artifact });
    expect(r.status).toBe(403);
    expect(r.body.detail).toBe('CLAWSHIELD_PUBLIC_KEY not configured');
  });

  test('approvals page newest first, and a call without its input is an error value, not a throw', async () => {
    const all = (await op('listApprovals', {})).body as { seq: number; approvalId: string }[];
    expect(all.length).toBeGreaterThanOrEqual(3);
    const first = (await op('listApprovals', { limit: 1 })).body as { seq: number; approvalId: string }[];
    const second = (await op('listApprovals', { limit: 1, beforeSeq: first[0]!.seq })).body as { approvalId: string }[];
    expect([first[0]!.approvalId, second[0]!.approvalId]).toEqual(all.slice(0, 2).map((a) => a.approvalId));
    const service = s.app.console as unknown as Record<string, (input?: unknown) => Promise<{ ok: boolean; error?: { code: string } }>>;
    for (const method of ['getReceipt', 'deny', 'approve', 'setAllowed', 'listApprovals', 'getProposal', 'verifyReceipt']) {
      const r = await service[method]!(undefined);
      expect(r.ok, method).toBe(false);
      expect(r.error?.code, method).toBe('internal');
    }
  });

  test('deny with a reason: the agent hears it, nothing runs', async () => {
    const p = await post(s.url, '/proposals', { action: 'echo', payload: { rm: '/' }, nonce: 'deny-1' });
    const waiting = get(s.url, `/proposals/${p.body.id}?wait=30`);
    const denied = await op('deny', { id: p.body.id, reason: 'not today' });
    expect(denied.body).toMatchObject({ status: 'denied', reason: 'not today' });
    const answer = await waiting;
    expect(answer.body).toMatchObject({ status: 'denied', reason: 'not today', result: null, exec_id: null });
    expect(rawDb(s.app.core).prepare("SELECT count(*) FROM executions WHERE nonce = 'deny-1'").pluck().get()).toBe(0);
    const noReason = await op('deny', { id: p.body.id, reason: '  ' });
    expect(noReason.status).toBe(400);
  });

  test('an undecided proposal expires into a denial with a receipt', async () => {
    const p = await post(s.url, '/proposals', { action: 'echo', payload: {}, nonce: 'expire-1', ttl_seconds: 1 });
    expect(p.status, p.text).toBe(202);
    const answer = await get(s.url, `/proposals/${p.body.id}?wait=10`);
    expect(answer.body.status, answer.text).toBe('expired');
    expect(answer.body.reason).toMatch(/denied by default/);
    const late = await op('approve', { id: p.body.id });
    expect(late.status).toBe(410);
    expect(
      rawDb(s.app.core).prepare("SELECT count(*) FROM receipts WHERE event = 'expired' AND proposal_id = ?").pluck().get(p.body.id),
    ).toBe(1);
  });

  test('nonces: same request → same proposal; different → 409; /execute cannot run around it', async () => {
    const a = await post(s.url, '/proposals', { action: 'echo', payload: { x: 1 }, nonce: 'n-prop' });
    const b = await post(s.url, '/proposals', { action: 'echo', payload: { x: 1 }, nonce: 'n-prop' });
    expect(b.body.id).toBe(a.body.id);
    const c = await post(s.url, '/proposals', { action: 'echo', payload: { x: 2 }, nonce: 'n-prop' });
    expect(c.status).toBe(409);
    const d = await post(s.url, '/execute', { action: 'echo', payload: { x: 1 }, nonce: 'n-prop' });
    expect(d.status).toBe(409);
    expect(d.body.detail).toBe(`Nonce 'n-prop' belongs to proposal ${a.body.id}`);
  });

  test('forbidden and unknown actions are refused at proposal time', async () => {
    const unknown = await post(s.url, '/proposals', { action: 'wire_money', payload: {}, nonce: 'u-1' });
    expect(unknown.status).toBe(400);
    expect(unknown.body.detail).toBe('Unknown action: wire_money');
    const witnessed = rawDb(s.app.core)
      .prepare("SELECT body FROM receipts WHERE event = 'refused' AND action = 'wire_money'")
      .pluck()
      .get() as string;
    expect(JSON.parse(witnessed)).toMatchObject({
      nonce: 'u-1',
      status: 400,
      reason: 'Unknown action: wire_money',
      details: { proposal: true },
    });
    const off = await op('setAllowed', { action: 'add', allowed: false });
    expect(off.status).toBe(200);
    expect(off.body.restriction).toBe('restricted');
    const forbidden = await post(s.url, '/proposals', { action: 'add', payload: {}, nonce: 'f-1' });
    expect(forbidden.status).toBe(403);
    expect(forbidden.body.detail).toBe("Action 'add' is not in the execution allow-list");
    const health = await get(s.url, '/health');
    expect(health.body.allow_list).toEqual(['echo']);
    const status = await op('health');
    expect(status.body.restriction).toBe('restricted');
    expect(status.body.warnings.join(' ')).not.toMatch(/allow-list/);
    const on = await op('setAllowed', { action: 'add', allowed: true });
    expect(on.body.entries.map((e: { action: string; allowed: boolean }) => ({ action: e.action, allowed: e.allowed }))).toEqual([
      { action: 'add', allowed: true },
      { action: 'echo', allowed: true },
    ]);
    const config = rawDb(s.app.core).prepare("SELECT count(*) FROM receipts WHERE event = 'config'").pluck().get();
    expect(config).toBe(2);
  });

  test('the console needs its token; agents have no way to approve', async () => {
    const none = await consoleCall(s.url, null, 'listPending');
    expect(none.status).toBe(401);
    expect(none.body).toEqual({ detail: 'Console token required (Authorization: Bearer <console-token>)', code: 'unauthorized' });
    const wrong = await consoleCall(s.url, 'x'.repeat(43), 'listPending');
    expect(wrong.status).toBe(401);
    const p = await post(s.url, '/proposals', { action: 'echo', payload: {}, nonce: 'agent-approve' });
    for (const [method, path] of [
      ['POST', `/proposals/${p.body.id}/approve`],
      ['POST', `/proposals/${p.body.id}`],
      ['PUT', `/proposals/${p.body.id}`],
      ['PATCH', `/proposals/${p.body.id}`],
      ['POST', '/approve'],
    ] as const) {
      const r = await fetch(s.url + path, {
        method,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ status: 'executed' }),
      });
      expect(r.status, `${method} ${path}`).toBe(404);
    }
    expect((await get(s.url, `/proposals/${p.body.id}`)).body.status).toBe('pending');
    const bad = await op('approve', { id: 42 });
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe('invalid_input');
  });

  test('search: full text over context and payload, filters, keyset pages', async () => {
    await post(s.url, '/proposals', { action: 'echo', payload: { city: 'Zürich' }, nonce: 'search-1', context: 'quarterly ACME retainer' });
    const byContext = await op('searchReceipts', { text: 'retainer' });
    expect(byContext.body.items.length).toBeGreaterThanOrEqual(1);
    // The context is a body beside the receipt (format 2), committed to by its salted hash.
    const text = (r: { body: string; bodies?: { text: string | null }[] }) => r.body + (r.bodies ?? []).map((b) => b.text).join(' ');
    expect(byContext.body.items.every((r: { body: string }) => /retainer/i.test(text(r)))).toBe(true);
    const byPayload = await op('searchReceipts', { text: 'zurich', events: ['proposed'] });
    expect(byPayload.body.items).toHaveLength(1);
    const page1 = await op('searchReceipts', { limit: 3 });
    const page2 = await op('searchReceipts', { limit: 3, beforeSeq: page1.body.nextBeforeSeq });
    expect(page1.body.items.map((r: { seq: number }) => r.seq)).toEqual(
      [...page1.body.items.map((r: { seq: number }) => r.seq)].sort((a, b) => b - a),
    );
    expect(page2.body.items[0].seq).toBe(page1.body.items[2].seq - 1);
    const weird = await op('searchReceipts', { text: '"unbalanced AND OR (' });
    expect(weird.status).toBe(200);
    const one = await op('getReceipt', { seq: 2 });
    expect(one.body.previous.seq).toBe(1);
    expect(one.body.next.seq).toBe(3);
    const check = await op('verifyReceipt', { seq: 2 });
    expect(check.body).toMatchObject({ valid: true, hashValid: true, signatureValid: true, linkValid: true });
  });

  test('1,000 proposals pending at once', async () => {
    const ids = await Promise.all(
      Array.from({ length: 1000 }, (_, i) =>
        post(s.url, '/proposals', { action: 'echo', payload: { i }, nonce: `bulk-${i}` }).then((r) => r.body.id as string),
      ),
    );
    expect(new Set(ids).size).toBe(1000);
    const pending = await op('listPending');
    const listed = new Set(pending.body.map((p: { id: string }) => p.id));
    expect(ids.every((id) => listed.has(id))).toBe(true);
    const health = await op('health');
    expect(health.body.counts.pending).toBeGreaterThanOrEqual(1000);
  });
});

describe('an allow-list fixed by the environment', () => {
  let s: RunningServer;
  beforeAll(async () => {
    s = await startServer({ OPENEXEC_ALLOWED_ACTIONS: 'echo, ,' });
  });
  afterAll(() => s.stop());

  test('is locked against console changes, with a clear message', async () => {
    const r = await consoleCall(s.url, s.app.consoleToken, 'setAllowed', { action: 'add', allowed: true });
    expect(r.status).toBe(423);
    expect(r.body.detail).toMatch(/OPENEXEC_ALLOWED_ACTIONS/);
    const list = await consoleCall(s.url, s.app.consoleToken, 'getAllowList');
    expect(list.body).toMatchObject({ restriction: 'restricted', lockedByEnvironment: true });
    const h = await get(s.url, '/health');
    expect(h.body).toMatchObject({ restriction: 'restricted', allow_list: ['echo'] });
  });
});
