import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { raw } from '../support/raw-request.ts';
import { get, post, startServer, type RunningServer } from '../support/harness.ts';
import { rawDb } from '../support/raw-db.ts';

describe('the loopback API refuses what it must', () => {
  let s: RunningServer;
  beforeAll(async () => {
    s = await startServer();
  });
  afterAll(() => s.stop());
  const port = () => new URL(s.url).port;
  const executions = () => rawDb(s.app.core).prepare('SELECT count(*) FROM executions').pluck().get() as number;

  test('a foreign Host header (DNS rebinding) is refused', async () => {
    const r = await raw(s.url, 'GET', '/health', { host: `evil.example:${port()}` });
    expect(r.status).toBe(403);
    expect(r.body.detail).toMatch(/not a loopback address/);
    const ok = await raw(s.url, 'GET', '/health', { host: `localhost:${port()}` });
    expect(ok.status).toBe(200);
  });

  test('a Host just accepted is still refused with an Origin, and a foreign Host after it still refused', async () => {
    const host = `127.0.0.1:${port()}`;
    expect((await raw(s.url, 'GET', '/health', { host })).status).toBe(200);
    const withOrigin = await raw(s.url, 'GET', '/health', { host, origin: 'https://evil.example' });
    expect(withOrigin.status).toBe(403);
    expect(withOrigin.body.detail).toMatch(/web pages are refused/);
    expect((await raw(s.url, 'GET', '/health', { host })).status).toBe(200);
    const foreign = await raw(s.url, 'GET', '/health', { host: `evil.example:${port()}` });
    expect(foreign.status).toBe(403);
    expect(foreign.body.detail).toMatch(/not a loopback address/);
  });

  test('a browser Origin is refused and nothing runs', async () => {
    const before = executions();
    const r = await post(s.url, '/execute', { action: 'echo', payload: {}, nonce: 'origin-1' }, { origin: 'https://evil.example' });
    expect(r.status).toBe(403);
    expect(r.body.detail).toMatch(/web pages are refused/);
    expect(executions()).toBe(before);
  });

  test('a body over 1 MiB is 413', async () => {
    const big = JSON.stringify({ action: 'echo', payload: { x: 'a'.repeat(1024 * 1024) }, nonce: 'big' });
    const r = await post(s.url, '/execute', big);
    expect(r.status).toBe(413);
    expect(r.body.detail).toMatch(/larger than/);
  });

  test('non-JSON content types are 415, malformed JSON and wrong shapes are 422', async () => {
    const t = await post(s.url, '/execute', 'action=echo', { 'content-type': 'application/x-www-form-urlencoded' });
    expect(t.status).toBe(415);
    expect(t.body.detail).toBe('Content-Type must be application/json');

    const bad = await post(s.url, '/execute', '{"action": "echo", "nonce": ');
    expect(bad.status).toBe(422);
    expect(bad.body.detail).toEqual([expect.objectContaining({ type: 'json_invalid', msg: 'JSON decode error' })]);

    const nan = await post(s.url, '/execute', '{"action":"echo","payload":{"x":NaN},"nonce":"n"}');
    expect(nan.status).toBe(422);

    const overflow = await post(s.url, '/execute', '{"action":"echo","payload":{"x":1e400},"nonce":"n"}');
    expect(overflow.status).toBe(422);

    const shape = await post(s.url, '/execute', { action: 'echo', payload: [1, 2] });
    expect(shape.status).toBe(422);
    expect(shape.body.detail.map((e: { loc: unknown[] }) => e.loc)).toEqual([
      ['body', 'payload'],
      ['body', 'nonce'],
    ]);
  });

  test('unknown routes are 404 with a detail; no agent route can approve anything', async () => {
    const r = await get(s.url, '/nope');
    expect(r.status).toBe(404);
    expect(r.body).toEqual({ detail: 'Not Found' });
    for (const path of ['/approve', '/approvals', '/proposals/x/approve', '/console/approve']) {
      const a = await post(s.url, path, { id: 'x' });
      expect([401, 404, 405]).toContain(a.status);
    }
  });

  test('the receipt public key is served', async () => {
    const r = await get(s.url, '/receipts/public-key');
    expect(r.status).toBe(200);
    expect(r.body.algorithm).toBe('Ed25519');
    expect(r.body.public_key_pem).toMatch(/^-----BEGIN PUBLIC KEY-----/);
    expect(r.body.key_id).toMatch(/^[0-9a-f]{16}$/);
  });
});
