import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { raw } from '../support/raw-request.ts';
import { post, request, startServer, type RunningServer } from '../support/harness.ts';
import { rawDb } from '../support/raw-db.ts';

/** docs/receipts.md, "Which requests leave no receipt": each refusal listed there, and one that does. */
describe('requests refused before anything is decided leave no receipt', () => {
  let s: RunningServer;
  beforeAll(async () => {
    s = await startServer();
  });
  afterAll(() => s.stop());
  const receipts = () => rawDb(s.app.core).prepare('SELECT count(*) FROM receipts').pluck().get() as number;

  test('422 shape errors (an empty body too), 415, 413, Host and Origin refusals: none', async () => {
    const before = receipts();
    const answers: [string, number, number][] = [
      ['not JSON', (await request(s.url, 'POST', '/execute', '{"action":', { 'content-type': 'application/json' })).status, 422],
      ['no nonce', (await post(s.url, '/execute', { action: 'echo', payload: {} })).status, 422],
      ['wrong media type', (await request(s.url, 'POST', '/execute', '{}', { 'content-type': 'text/plain' })).status, 415],
      ['empty body', (await request(s.url, 'POST', '/execute', '', { 'content-type': 'application/json' })).status, 422],
      ['too large', (await post(s.url, '/execute', { action: 'echo', payload: { x: 'a'.repeat(1024 * 1024) }, nonce: 'big' })).status, 413],
      [
        'foreign Host',
        (
          await raw(
            s.url,
            'POST',
            '/execute',
            { host: 'evil.example', 'content-type': 'application/json' },
            '{"action":"echo","payload":{},"nonce":"h"}',
          )
        ).status,
        403,
      ],
      [
        'Origin',
        (await post(s.url, '/execute', { action: 'echo', payload: {}, nonce: 'o' }, { origin: 'https://evil.example' })).status,
        403,
      ],
    ];
    for (const [what, status, expected] of answers) expect(status, what).toBe(expected);
    expect(receipts()).toBe(before);
  });

  test('an attempt that reaches the engine leaves one, refused or not', async () => {
    const before = receipts();
    expect((await post(s.url, '/execute', { action: 'nope', payload: {}, nonce: 'u' })).status).toBe(400);
    expect((await post(s.url, '/execute', { action: 'echo', nonce: 'no-payload' })).status).toBe(200);
    expect(receipts()).toBe(before + 2);
  });
});
