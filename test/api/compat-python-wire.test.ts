import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { get, post, startServer, type RunningServer } from '../support/harness.ts';

/** The body the Python README's curl sends: `result` is the result's JSON text, written by hand. */
function curlBody(execId: string, resultJson: string, receipt: string): string {
  return `{"exec_id":"${execId}","result":${JSON.stringify(resultJson)},"receipt":"${receipt}"}`;
}

describe('POST /receipts/verify as the Python README calls it', () => {
  let s: RunningServer;
  beforeAll(async () => {
    s = await startServer();
  });
  afterAll(() => s.stop());

  test('a genuine execution verifies with its result text; tampering does not', async () => {
    const r = await post(s.url, '/execute', { action: 'add', payload: { a: 2, b: 3 }, nonce: 'curl-1' });
    expect(r.status).toBe(200);
    const { id, receipt } = r.body as { id: string; receipt: string };

    // Exactly: -d '{"exec_id":"<id>","result":"{\"sum\": 5}","receipt":"<receipt>"}'
    const body = curlBody(id, '{"sum": 5}', receipt);
    expect(body).toBe(`{"exec_id":"${id}","result":"{\\"sum\\": 5}","receipt":"${receipt}"}`);
    const genuine = await post(s.url, '/receipts/verify', body);
    expect(genuine.status).toBe(200);
    expect(genuine.body).toEqual({ valid: true });

    // The text is what was hashed: another result, or the same result written differently, is not it.
    for (const text of ['{"sum": 6}', '{"sum":5}', '{"sum": 5} ', '{"sum": 5.0}']) {
      const t = await post(s.url, '/receipts/verify', curlBody(id, text, receipt));
      expect(t.body, text).toEqual({ valid: false });
    }
    // A receipt one hex digit off (never the same digit again).
    const tampered = `${receipt.slice(0, -1)}${receipt.endsWith('0') ? '1' : '0'}`;
    const otherReceipt = await post(s.url, '/receipts/verify', curlBody(id, '{"sum": 5}', tampered));
    expect(otherReceipt.body).toEqual({ valid: false });
    const otherId = await post(s.url, '/receipts/verify', curlBody('00000000-0000-4000-8000-000000000000', '{"sum": 5}', receipt));
    expect(otherId.body).toEqual({ valid: false });
  });

  test("nested and non-ASCII results: the text is Python's json.dumps(result, sort_keys=True)", async () => {
    const r = await post(s.url, '/execute', { action: 'echo', payload: { z: 1, a: ['x', 'é'] }, nonce: 'curl-2' });
    const text = '{"echo": {"a": ["x", "\\u00e9"], "z": 1}}';
    const ok = await post(s.url, '/receipts/verify', curlBody(r.body.id, text, r.body.receipt));
    expect(ok.body).toEqual({ valid: true });
  });

  test('our extension: the result as an object stands for that text', async () => {
    const r = await post(s.url, '/execute', { action: 'add', payload: { a: 10, b: 20 }, nonce: 'curl-3' });
    const asObject = await post(s.url, '/receipts/verify', { exec_id: r.body.id, result: { sum: 30 }, receipt: r.body.receipt });
    expect(asObject.body).toEqual({ valid: true });
    const tampered = await post(s.url, '/receipts/verify', { exec_id: r.body.id, result: { sum: 31 }, receipt: r.body.receipt });
    expect(tampered.body).toEqual({ valid: false });
    // An object holding the text as a string value is a different result.
    const wrapped = await post(s.url, '/receipts/verify', { exec_id: r.body.id, result: { sum: '30' }, receipt: r.body.receipt });
    expect(wrapped.body).toEqual({ valid: false });
  });
});

describe('GET /health lists the allow-list in the configured order', () => {
  let s: RunningServer;
  beforeAll(async () => {
    s = await startServer({ OPENEXEC_ALLOWED_ACTIONS: ' echo , add,zeta ,' });
  });
  afterAll(() => s.stop());

  test('as OPENEXEC_ALLOWED_ACTIONS gives it, not sorted', async () => {
    const r = await get(s.url, '/health');
    expect([r.status, r.body.restriction]).toEqual([200, 'restricted']);
    expect(r.body.allow_list).toEqual(['echo', 'add', 'zeta']);
  });
});
