import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createHash } from 'node:crypto';
import { get, post, startServer, type RunningServer } from '../support/harness.ts';
import { rawDb } from '../support/raw-db.ts';

// Ports tests/test_demo_flow.py of the Python service, against the real server over HTTP.
describe('demo mode, compatible surface', () => {
  let s: RunningServer;
  beforeAll(async () => {
    s = await startServer({ OPENEXEC_MODE: 'demo' });
  });
  afterAll(() => s.stop());

  test('GET / names the service', async () => {
    const r = await get(s.url, '/');
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ service: 'OpenExec', status: 'running', version: expect.any(String) });
  });

  test('health reports demo mode and the open allow-list', async () => {
    const r = await get(s.url, '/health');
    expect(r.status).toBe(200);
    expect(r.body).toEqual({
      status: 'healthy',
      exec_mode: 'demo',
      signature_verification: 'disabled',
      restriction: 'open',
      warning: 'No execution allow-list configured',
    });
  });

  test('version has a Python-style naive UTC timestamp', async () => {
    const r = await get(s.url, '/version');
    expect(r.status).toBe(200);
    expect(r.body.version).toEqual(expect.any(String));
    expect(r.body.timestamp).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}$/);
  });

  test('ready', async () => {
    const r = await get(s.url, '/ready');
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ ready: true });
  });

  test('execute echo', async () => {
    const r = await post(s.url, '/execute', { action: 'echo', payload: { msg: 'hello' }, nonce: 'test-nonce-1' });
    expect(r.status).toBe(200);
    expect(Object.keys(r.body).sort()).toEqual(['action', 'approved', 'id', 'receipt', 'result']);
    expect(r.body.action).toBe('echo');
    expect(r.body.result).toEqual({ echo: { msg: 'hello' } });
    expect(r.body.approved).toBe(true);
    const expected = createHash('sha256').update(`${r.body.id}:{"echo": {"msg": "hello"}}`).digest('hex');
    expect(r.body.receipt).toBe(expected);
  });

  test('replay protection: same nonce and request returns the original, runs nothing', async () => {
    const body = { action: 'add', payload: { a: 2, b: 3 }, nonce: 'test-nonce-2' };
    const r1 = await post(s.url, '/execute', body);
    const r2 = await post(s.url, '/execute', body);
    expect(r1.status).toBe(200);
    expect(r2.status).toBe(200);
    expect(r1.body.result).toEqual({ sum: 5 });
    expect(r2.body).toEqual(r1.body);
    const count = rawDb(s.app.core).prepare("SELECT count(*) FROM executions WHERE nonce = 'test-nonce-2'").pluck().get();
    expect(count).toBe(1);
  });

  test('stronger: the same nonce with a different request is refused with 409', async () => {
    await post(s.url, '/execute', { action: 'add', payload: { a: 1, b: 1 }, nonce: 'n-409' });
    const r = await post(s.url, '/execute', { action: 'add', payload: { a: 1, b: 2 }, nonce: 'n-409' });
    expect(r.status).toBe(409);
    expect(r.body.detail).toBe("Nonce 'n-409' was already used for a different request");
  });

  test('receipt verification: valid for a recorded execution, invalid for a forgery', async () => {
    const r = await post(s.url, '/execute', { action: 'add', payload: { a: 10, b: 20 }, nonce: 'test-nonce-3' });
    const ok = await post(s.url, '/receipts/verify', { exec_id: r.body.id, result: r.body.result, receipt: r.body.receipt });
    expect(ok.body).toEqual({ valid: true });
    const wrongResult = await post(s.url, '/receipts/verify', { exec_id: r.body.id, result: { sum: 31 }, receipt: r.body.receipt });
    expect(wrongResult.body).toEqual({ valid: false });
    // Anyone can compute the legacy hash for an invented id; the Python service accepted it.
    const forgedId = '00000000-0000-4000-8000-000000000000';
    const forged = createHash('sha256').update(`${forgedId}:{"sum": 30}`).digest('hex');
    const f = await post(s.url, '/receipts/verify', { exec_id: forgedId, result: { sum: 30 }, receipt: forged });
    expect(f.body).toEqual({ valid: false });
  });

  test('unknown action is 400 with the contract text', async () => {
    const r = await post(s.url, '/execute', { action: 'rm_rf', payload: {}, nonce: 'n-unknown' });
    expect(r.status).toBe(400);
    expect(r.body).toEqual({ detail: 'Unknown action: rm_rf' });
  });

  test('big integers stay exact through add', async () => {
    const wire = '{"action":"add","payload":{"a":12345678901234567890123,"b":-98765432109876543210},"nonce":"n-big"}';
    const r = await post(s.url, '/execute', wire);
    expect(r.status).toBe(200);
    expect(r.text).toContain('"result":{"sum":12246913469124691346913}');
  });

  test('every attempt has a receipt: executed, refused and replayed', async () => {
    const events = rawDb(s.app.core).prepare('SELECT DISTINCT event FROM receipts').pluck().all();
    expect(events).toEqual(expect.arrayContaining(['executed', 'refused', 'replayed']));
  });
});
