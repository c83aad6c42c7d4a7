import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createHttpServer } from '../../src/main/api/http-server.ts';
import { Refusal } from '../../src/main/core/errors.ts';
import { CONSOLE_ERROR_CODES } from '../../src/shared/console-result.ts';
import {
  CONSOLE_ERRORS,
  consoleCodeForStatus,
  consoleCodeOf,
  consoleStatus,
  REFUSAL_CODES,
  REFUSALS,
  refusalStatus,
  type RefusalCode,
} from '../../src/shared/error-codes.ts';
import { consoleCall } from '../support/console-http.ts';
import { get, post, startServer, type RunningServer } from '../support/harness.ts';

describe('the table of error codes', () => {
  test('every refusal code has a status and a console code, and every console code a status', () => {
    for (const code of REFUSAL_CODES) {
      const entry = REFUSALS[code];
      expect(entry.status, code).toBeGreaterThanOrEqual(400);
      expect(entry.status, code).toBeLessThan(600);
      expect(CONSOLE_ERROR_CODES, code).toContain(entry.console);
    }
    for (const code of CONSOLE_ERROR_CODES) expect(CONSOLE_ERRORS[code].status, code).toBeGreaterThanOrEqual(400);
    // Every console code is something a refusal can become.
    expect(new Set(REFUSAL_CODES.map(consoleCodeOf))).toEqual(new Set(CONSOLE_ERROR_CODES));
  });

  test('a status stands for one console code, so a bare status can be read back', () => {
    for (const code of REFUSAL_CODES) {
      const sameStatus = REFUSAL_CODES.filter((other) => refusalStatus(other) === refusalStatus(code));
      expect(new Set(sameStatus.map(consoleCodeOf)).size, `status ${refusalStatus(code)}`).toBe(1);
      expect(consoleCodeForStatus(refusalStatus(code))).toBe(consoleCodeOf(code));
    }
    for (const code of CONSOLE_ERROR_CODES) expect(consoleCodeForStatus(consoleStatus(code))).toBe(code);
  });

  test('a Refusal takes its status from the table, not from the place that refuses', () => {
    for (const code of REFUSAL_CODES) expect(new Refusal(code, 'x').status).toBe(refusalStatus(code));
  });
});

describe('the HTTP layer answers the table', () => {
  let s: RunningServer;
  let probe: FastifyInstance;
  let probeUrl: string;
  beforeAll(async () => {
    s = await startServer({ OPENEXEC_ALLOWED_ACTIONS: 'echo,add' });
    // The real HTTP server on the real core, plus one route that refuses with whatever code it is told.
    probe = createHttpServer(s.app.core, {
      limits: { requestTimeoutMs: 10_000, maxConnections: 64 },
      register: (app) =>
        app.get<{ Params: { code: string } }>('/probe/:code', (req) => {
          throw new Refusal(req.params.code as RefusalCode, `refused: ${req.params.code}`);
        }),
    });
    await probe.listen({ host: '127.0.0.1', port: 0 });
    probeUrl = `http://127.0.0.1:${(probe.server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await probe.close();
    await s.stop();
  });

  test.each(REFUSAL_CODES.map((code) => [code]))('%s', async (code) => {
    const r = await get(probeUrl, `/probe/${code}`);
    expect(r.status).toBe(refusalStatus(code));
    expect(r.body).toEqual({ detail: `refused: ${code}` });
  });

  test('refusals met on real requests carry the table status', async () => {
    const cases: Array<[RefusalCode, Promise<{ status: number }>]> = [
      ['not_allowed', post(s.url, '/execute', { action: 'nope', nonce: 'ec-1' })],
      ['handler_input', post(s.url, '/execute', { action: 'add', payload: { a: 'x', b: 1 }, nonce: 'ec-2' })],
      ['invalid_request', post(s.url, '/execute', { action: 'echo' })],
      ['unsupported_media_type', post(s.url, '/execute', 'x', { 'content-type': 'text/plain' })],
      ['body_too_large', post(s.url, '/execute', JSON.stringify({ action: 'echo', nonce: 'big', payload: { s: 'x'.repeat(1_100_000) } }))],
      ['foreign_origin', get(s.url, '/health', { origin: 'https://evil.example' })],
      ['not_found', get(s.url, '/proposals/no-such-id')],
      ['not_found', get(s.url, '/no-such-route')],
    ];
    for (const [code, answer] of cases) expect((await answer).status, code).toBe(refusalStatus(code));
    await post(s.url, '/execute', { action: 'echo', payload: { a: 1 }, nonce: 'ec-3' });
    const reused = await post(s.url, '/execute', { action: 'echo', payload: { a: 2 }, nonce: 'ec-3' });
    expect(reused.status).toBe(refusalStatus('nonce_conflict'));
  });

  test('/console answers the console code and its status from the table', async () => {
    const unauthorized = await consoleCall(s.url, null, 'health');
    expect(unauthorized.status).toBe(consoleStatus('unauthorized'));
    expect(unauthorized.body).toMatchObject({ code: 'unauthorized' });
    // A refusal inside the console service becomes its console code: the fixed allow-list is `locked`.
    const locked = await consoleCall(s.url, s.app.consoleToken, 'setAllowed', { action: 'echo', allowed: false });
    expect(locked.body).toMatchObject({ code: consoleCodeOf('locked') });
    expect(locked.status).toBe(consoleStatus(consoleCodeOf('locked')));
    const missing = await consoleCall(s.url, s.app.consoleToken, 'getProposal', { id: 'no-such-id' });
    expect(missing.body).toMatchObject({ code: 'not_found' });
    expect(missing.status).toBe(consoleStatus('not_found'));
  });
});
