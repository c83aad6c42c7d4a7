import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { get, post, startServer, type RunningServer } from '../support/harness.ts';
import { executeWire } from '../support/clawshield.ts';
import { consoleCall } from '../support/console-http.ts';

/** `name{labels} value` lines of the Prometheus text, by series. */
function series(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    out.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return out;
}

describe('GET /metrics', () => {
  let s: RunningServer;
  beforeAll(async () => {
    s = await startServer({ OPENEXEC_ALLOWED_ACTIONS: 'add' });
  });
  afterAll(() => s.stop());

  test('counters after known traffic; an agent-chosen action name never becomes a label', async () => {
    const add = (n: string) => post(s.url, '/execute', executeWire('add', '{"a":1,"b":2}', n));
    for (const n of ['m-1', 'm-2', 'm-3']) expect((await add(n)).status).toBe(200);
    expect((await add('m-1')).status).toBe(200); // a replay
    expect((await post(s.url, '/execute', executeWire('echo', '{}', 'm-echo'))).status).toBe(403);
    // Not on the allow-list, so refused as not_allowed; its name is the agent's own invention.
    expect((await post(s.url, '/execute', executeWire('agent-made-up-xyz', '{}', 'm-made-up'))).status).toBe(403);
    expect((await post(s.url, '/execute', '{"action":"add"}')).status).toBe(422);
    const proposal = async (nonce: string) =>
      (await post(s.url, '/proposals', { action: 'add', payload: { a: 2, b: 2 }, nonce })).body.id as string;
    const p1 = await proposal('m-p1');
    const p2 = await proposal('m-p2');
    await proposal('m-p3');
    expect((await consoleCall(s.url, s.app.consoleToken, 'approve', { id: p1 })).status).toBe(200);
    expect((await consoleCall(s.url, s.app.consoleToken, 'deny', { id: p2, reason: 'no' })).status).toBe(200);
    await get(s.url, '/proposals/a-raw-id-from-the-url');

    const res = await fetch(`${s.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    const m = series(text);
    expect(m.get('openexec_executions_total{action="add",outcome="executed"}')).toBe(4);
    expect(m.get('openexec_executions_total{action="add",outcome="replayed"}')).toBe(1);
    expect(m.get('openexec_executions_total{action="echo",outcome="refused"}')).toBe(1);
    expect(m.get('openexec_executions_total{action="other",outcome="refused"}')).toBe(1);
    expect(m.get('openexec_refusals_total{code="not_allowed"}')).toBe(2);
    expect(m.get('openexec_refusals_total{code="invalid_request"}')).toBe(1);
    expect(m.get('openexec_decisions_total{decision="approved"}')).toBe(1);
    expect(m.get('openexec_decisions_total{decision="denied"}')).toBe(1);
    expect(m.get('openexec_pending_proposals')).toBe(1);
    expect(m.get('openexec_ledger_receipts')).toBe(s.app.core.ledger.size());
    expect(m.get('openexec_request_duration_seconds_count{route="/execute"}')).toBe(7);
    expect(m.get('openexec_request_duration_seconds_count{route="/proposals/:id"}')).toBeGreaterThanOrEqual(1);
    expect(m.get('openexec_group_commit_size_count')).toBeGreaterThanOrEqual(1);
    // Every receipt written since start-up was in some commit.
    expect(m.get('openexec_group_commit_size_sum')).toBeGreaterThanOrEqual(12);
    expect(m.get('openexec_group_commit_size_sum')).toBeLessThanOrEqual(s.app.core.ledger.size());
    expect(m.has('process_cpu_user_seconds_total')).toBe(true);
    expect(text).not.toContain('agent-made-up-xyz');
    expect(text).not.toContain('a-raw-id-from-the-url');
  });
});
