import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { get, post, startServer, type RunningServer } from '../support/harness.ts';
import { consoleCall } from '../support/console-http.ts';
import { executeWire, TestApprover } from '../support/clawshield.ts';
import { rawDb } from '../support/raw-db.ts';

/**
 * Shape errors on every agent route answer as the Python service's FastAPI 0.129 / pydantic 2.12
 * did: 422 with `detail` a list of `{type, loc, msg, input[, ctx]}`, one entry per problem.
 */
describe('422 bodies in the FastAPI list shape', () => {
  let s: RunningServer;
  beforeAll(async () => {
    s = await startServer();
  });
  afterAll(() => s.stop());
  const count = (table: string) => rawDb(s.app.core).prepare(`SELECT count(*) FROM ${table}`).pluck().get() as number;
  const stored = () => ({ executions: count('executions'), receipts: count('receipts'), proposals: count('proposals') });

  test('missing fields: one `missing` entry each, its input the enclosing object', async () => {
    const before = stored();
    const r = await post(s.url, '/execute', { payload: { a: 1 } });
    expect(r.status).toBe(422);
    expect(r.body).toEqual({
      detail: [
        { type: 'missing', loc: ['body', 'action'], msg: 'Field required', input: { payload: { a: 1 } } },
        { type: 'missing', loc: ['body', 'nonce'], msg: 'Field required', input: { payload: { a: 1 } } },
      ],
    });
    expect(stored()).toEqual(before);
  });

  test('wrong types: string_type, dict_type, model_attributes_type, each with the offending value', async () => {
    const r = await post(s.url, '/execute', { action: 7, payload: [1, 2], nonce: true, approval_artifact: 'x' });
    expect(r.status).toBe(422);
    expect(r.body.detail).toEqual([
      { type: 'string_type', loc: ['body', 'action'], msg: 'Input should be a valid string', input: 7 },
      { type: 'dict_type', loc: ['body', 'payload'], msg: 'Input should be a valid dictionary', input: [1, 2] },
      { type: 'string_type', loc: ['body', 'nonce'], msg: 'Input should be a valid string', input: true },
      {
        type: 'model_attributes_type',
        loc: ['body', 'approval_artifact'],
        msg: 'Input should be a valid dictionary or object to extract fields from',
        input: 'x',
      },
    ]);
  });

  test('big integers in an echoed input stay exact', async () => {
    const r = await post(s.url, '/execute', '{"action":12345678901234567890123,"nonce":"n"}');
    expect(r.status).toBe(422);
    expect(r.text).toContain('"input":12345678901234567890123');
  });

  test('malformed JSON: json_invalid at the position in characters (code points), with our reason in ctx', async () => {
    const r = await post(s.url, '/execute', '{"action": "echo", "nonce": ');
    expect(r.status).toBe(422);
    expect(r.body).toEqual({
      detail: [
        {
          type: 'json_invalid',
          loc: ['body', 28],
          msg: 'JSON decode error',
          input: {},
          ctx: { error: 'expected a JSON value, got end of input' },
        },
      ],
    });
    // An astral character before the error is one character to Python, two UTF-16 units to us.
    const astral = await post(s.url, '/execute', '{"action":"😀", x}');
    expect(astral.body.detail[0].loc).toEqual(['body', 15]);
    expect(astral.body.detail[0].type).toBe('json_invalid');

    for (const text of ['{"action":"echo","payload":{"x":NaN},"nonce":"n"}', '{"action":"echo","payload":{"x":1e400},"nonce":"n"}']) {
      const refused = await post(s.url, '/execute', text);
      expect(refused.status).toBe(422);
      expect(refused.body.detail[0]).toMatchObject({ type: 'json_invalid', msg: 'JSON decode error', loc: ['body', 32] });
    }
    // Raw bytes (the harness would JSON-encode a Buffer): 0xFF never occurs in UTF-8.
    const notUtf8 = await fetch(`${s.url}/execute`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: new Uint8Array([0x7b, 0xff, 0x7d]),
    });
    expect(notUtf8.status).toBe(422);
    expect(((await notUtf8.json()) as { detail: unknown[] }).detail).toEqual([
      { type: 'json_invalid', loc: ['body', 0], msg: 'JSON decode error', input: {}, ctx: { error: 'Request body is not valid UTF-8' } },
    ]);
  });

  test('a body that is not an object, and no body at all', async () => {
    for (const [text, input] of [
      ['[1,2]', [1, 2]],
      ['"echo"', 'echo'],
      ['null', null],
      ['5', 5],
    ] as const) {
      const r = await post(s.url, '/execute', text);
      expect(r.status, text).toBe(422);
      expect(r.body).toEqual({
        detail: [
          {
            type: 'model_attributes_type',
            loc: ['body'],
            msg: 'Input should be a valid dictionary or object to extract fields from',
            input,
          },
        ],
      });
    }
    const empty = await post(s.url, '/execute', '');
    expect(empty.status).toBe(422);
    expect(empty.body).toEqual({ detail: [{ type: 'missing', loc: ['body'], msg: 'Field required', input: null }] });
  });

  test("our own limits use pydantic's constraint types", async () => {
    const r = await post(s.url, '/execute', { action: '', nonce: 'n'.repeat(300) });
    expect(r.body.detail).toEqual([
      {
        type: 'string_too_short',
        loc: ['body', 'action'],
        msg: 'String should have at least 1 character',
        input: '',
        ctx: { min_length: 1 },
      },
      {
        type: 'string_too_long',
        loc: ['body', 'nonce'],
        msg: 'String should have at most 256 characters',
        input: 'n'.repeat(300),
        ctx: { max_length: 256 },
      },
    ]);
  });

  test('/receipts/verify, /proposals and the wait query answer in the same shape', async () => {
    const before = stored();
    const v = await post(s.url, '/receipts/verify', { exec_id: 1, result: 5 });
    expect(v.status).toBe(422);
    expect(v.body.detail).toEqual([
      { type: 'string_type', loc: ['body', 'exec_id'], msg: 'Input should be a valid string', input: 1 },
      { type: 'string_type', loc: ['body', 'result'], msg: 'Input should be a valid string', input: 5 },
      { type: 'missing', loc: ['body', 'receipt'], msg: 'Field required', input: { exec_id: 1, result: 5 } },
    ]);

    const p = await post(s.url, '/proposals', { action: 'echo', nonce: 'p-422', ttl_seconds: 1.5, context: 3 });
    expect(p.status).toBe(422);
    expect(p.body.detail).toEqual([
      {
        type: 'int_from_float',
        loc: ['body', 'ttl_seconds'],
        msg: 'Input should be a valid integer, got a number with a fractional part',
        input: 1.5,
      },
      { type: 'string_type', loc: ['body', 'context'], msg: 'Input should be a valid string', input: 3 },
    ]);
    const ttl = await post(s.url, '/proposals', { action: 'echo', nonce: 'p-422', ttl_seconds: 0 });
    expect(ttl.body.detail).toEqual([
      {
        type: 'greater_than_equal',
        loc: ['body', 'ttl_seconds'],
        msg: 'Input should be greater than or equal to 1',
        input: 0,
        ctx: { ge: 1 },
      },
    ]);
    const malformed = await post(s.url, '/proposals', '{');
    expect(malformed.body.detail[0]).toMatchObject({ type: 'json_invalid', loc: ['body', 1] });
    expect(stored()).toEqual(before);

    const created = await post(s.url, '/proposals', { action: 'echo', nonce: 'p-422-ok' });
    expect(created.status).toBe(202);
    const wait = await get(s.url, `/proposals/${created.body.id}?wait=abc`);
    expect(wait.status).toBe(422);
    expect(wait.body.detail).toEqual([
      {
        type: 'float_parsing',
        loc: ['query', 'wait'],
        msg: 'Input should be a valid number, unable to parse string as a number',
        input: 'abc',
      },
    ]);
    const tooLong = await get(s.url, `/proposals/${created.body.id}?wait=61`);
    expect(tooLong.body.detail).toEqual([
      { type: 'less_than_equal', loc: ['query', 'wait'], msg: 'Input should be less than or equal to 60', input: '61', ctx: { le: 60 } },
    ]);
  });

  test('413 and 415 keep their single detail; /console keeps {detail, code}', async () => {
    const big = await post(s.url, '/execute', JSON.stringify({ action: 'echo', payload: { x: 'a'.repeat(1024 * 1024) }, nonce: 'big' }));
    expect(big.status).toBe(413);
    expect(big.body.detail).toMatch(/larger than/);
    const form = await post(s.url, '/execute', 'action=echo', { 'content-type': 'application/x-www-form-urlencoded' });
    expect(form.status).toBe(415);
    expect(form.body).toEqual({ detail: 'Content-Type must be application/json' });
    const c = await consoleCall(s.url, s.app.consoleToken, 'deny', { id: 5 });
    expect(c.status).toBe(400);
    expect(c.body).toEqual({ detail: expect.stringMatching(/^Invalid input: /), code: 'invalid_input' });
  });
});

describe('an approval artifact of the wrong shape is 422 before any approval check', () => {
  const approver = new TestApprover();
  const payload = '{"msg":"hello"}';
  let s: RunningServer;
  beforeAll(async () => {
    s = await startServer({ OPENEXEC_MODE: 'clawshield', CLAWSHIELD_PUBLIC_KEY: approver.publicKeyPem });
  });
  afterAll(() => s.stop());
  const receipts = () => rawDb(s.app.core).prepare('SELECT count(*) FROM receipts').pluck().get() as number;

  test('each field missing in turn is `missing` at its place, the artifact as input', async () => {
    const before = receipts();
    for (const field of ['approval_id', 'tenant_id', 'action_hash', 'issued_at', 'expires_at', 'signature']) {
      const artifact: Record<string, string> = approver.mint('echo', payload);
      delete artifact[field];
      const r = await post(s.url, '/execute', executeWire('echo', payload, `shape-${field}`, artifact));
      expect(r.status, field).toBe(422);
      expect(r.body).toEqual({
        detail: [{ type: 'missing', loc: ['body', 'approval_artifact', field], msg: 'Field required', input: artifact }],
      });
    }
    expect(receipts()).toBe(before);
  });

  test('null or a number in a field is string_type', async () => {
    const artifact = { ...approver.mint('echo', payload), expires_at: null, issued_at: 1 };
    const r = await post(s.url, '/execute', executeWire('echo', payload, 'shape-null', artifact));
    expect(r.status).toBe(422);
    expect(r.body.detail).toEqual([
      { type: 'string_type', loc: ['body', 'approval_artifact', 'issued_at'], msg: 'Input should be a valid string', input: 1 },
      { type: 'string_type', loc: ['body', 'approval_artifact', 'expires_at'], msg: 'Input should be a valid string', input: null },
    ]);
  });

  test("an empty expires_at is a string, so it gets the contract's 403 text", async () => {
    const artifact = { ...approver.mint('echo', payload), expires_at: '' };
    const r = await post(s.url, '/execute', executeWire('echo', payload, 'shape-empty', artifact));
    expect(r.status).toBe(403);
    expect(r.body).toEqual({ detail: 'Missing expires_at in approval artifact' });
  });
});
