import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { post, startServer, type RunningServer } from '../support/harness.ts';
import { consoleCall } from '../support/console-http.ts';
import { executeWire, TestApprover } from '../support/clawshield.ts';
import { CONSOLE_METHODS } from '../../src/shared/console-api.ts';
import { parseJson } from '../../src/main/core/json/parse.ts';
import { illFormedStrings } from '../../src/main/core/json/ill-formed-strings.ts';
import { isWellFormedUnicode } from '../../src/shared/well-formed-unicode.ts';
import { rawDb } from '../support/raw-db.ts';

const UNICODE_MSG = 'Input should be a valid string, unable to parse raw data as a unicode string';

/**
 * "\ud800" and "\udc00" are two strings in JavaScript but one in SQLite (both become the same
 * replacement bytes), so as nonces they aliased: an execution in flight under one was closed as
 * interrupted by a request under the other. No string that is not well-formed Unicode may enter.
 */
describe('strings that are not well-formed Unicode are refused before anything is stored', () => {
  const approver = new TestApprover();
  let s: RunningServer;
  beforeAll(async () => {
    s = await startServer({ CLAWSHIELD_PUBLIC_KEY: approver.publicKeyPem });
  });
  afterAll(() => s.stop());
  const count = (table: string) => rawDb(s.app.core).prepare(`SELECT count(*) FROM ${table}`).pluck().get() as number;
  const stored = () => ({ executions: count('executions'), receipts: count('receipts'), proposals: count('proposals') });

  test('the two lone-surrogate nonces are each 422, and nothing is stored', async () => {
    const before = stored();
    for (const [escape, value] of [
      ['\\ud800', '\ud800'],
      ['\\udc00', '\udc00'],
    ] as const) {
      const r = await post(s.url, '/execute', `{"action":"echo","payload":{},"nonce":"${escape}"}`);
      expect(r.status).toBe(422);
      expect(r.body).toEqual({ detail: [{ type: 'string_unicode', loc: ['body', 'nonce'], msg: UNICODE_MSG, input: value }] });
      const p = await post(s.url, '/proposals', `{"action":"echo","nonce":"${escape}"}`);
      expect(p.status).toBe(422);
      expect(p.body.detail[0]).toMatchObject({ type: 'string_unicode', loc: ['body', 'nonce'] });
    }
    expect(stored()).toEqual(before);
  });

  test('everywhere in the body: action, payload values and keys, artifact fields, context, ids, unknown fields', async () => {
    const before = stored();
    const artifact = { ...approver.mint('echo', '{}'), approval_id: 'a\ud800' };
    const cases: [string, string, (string | number)[]][] = [
      ['/execute', '{"action":"ec\\udbffho","nonce":"n1"}', ['body', 'action']],
      ['/execute', '{"action":"echo","payload":{"list":["ok","\\udfff"]},"nonce":"n2"}', ['body', 'payload', 'list', 1]],
      ['/execute', '{"action":"echo","payload":{"k\\ud83d":1},"nonce":"n3"}', ['body', 'payload', 'k\ud83d', '[key]']],
      ['/execute', executeWire('echo', '{}', 'n4', artifact), ['body', 'approval_artifact', 'approval_id']],
      ['/execute', '{"action":"echo","nonce":"n5","extra":"\\ude00"}', ['body', 'extra']],
      ['/proposals', '{"action":"echo","nonce":"n6","context":"pay \\ud800 now"}', ['body', 'context']],
      ['/receipts/verify', '{"exec_id":"\\ud800","result":"{}","receipt":"r"}', ['body', 'exec_id']],
      ['/receipts/verify', '{"exec_id":"x","result":"\\ud800","receipt":"r"}', ['body', 'result']],
    ];
    for (const [path, body, loc] of cases) {
      const r = await post(s.url, path, body);
      expect(r.status, body).toBe(422);
      expect(r.body.detail, body).toEqual([expect.objectContaining({ type: 'string_unicode', loc, msg: UNICODE_MSG })]);
    }
    // One entry per ill-formed string.
    const two = await post(s.url, '/execute', '{"action":"\\ud800","nonce":"\\udc00"}');
    expect(two.body.detail.map((e: { loc: unknown[] }) => e.loc)).toEqual([
      ['body', 'action'],
      ['body', 'nonce'],
    ]);
    expect(stored()).toEqual(before);
  });

  test('well-formed astral characters still work, raw or as an escaped pair, and hash as Python does', async () => {
    const raw = await post(s.url, '/execute', '{"action":"echo","payload":{"msg":"😀"},"nonce":"smile-😀"}');
    expect(raw.status).toBe(200);
    expect(raw.body.result).toEqual({ echo: { msg: '😀' } });
    const escaped = await post(s.url, '/execute', '{"action":"echo","payload":{"msg":"\\ud83d\\ude00"},"nonce":"smile-\\ud83d\\ude00"}');
    // The same nonce and the same request: the replay of the first, not a second execution.
    expect(escaped.status).toBe(200);
    expect(escaped.body).toEqual(raw.body);
    const nonces = rawDb(s.app.core).prepare("SELECT nonce FROM executions WHERE nonce LIKE 'smile-%'").pluck().all();
    expect(nonces).toEqual(['smile-😀']);
    const verify = await post(s.url, '/receipts/verify', {
      exec_id: raw.body.id,
      result: '{"echo": {"msg": "\\ud83d\\ude00"}}',
      receipt: raw.body.receipt,
    });
    expect(verify.body).toEqual({ valid: true });
    const p = await post(s.url, '/proposals', { action: 'echo', payload: { '😀': '😀' }, nonce: 'p-😀', context: 'a 😀 for you' });
    expect(p.status).toBe(202);
  });

  test('console routes and IPC inputs (the shared schemas) refuse ill-formed strings too', async () => {
    const p = await post(s.url, '/proposals', { action: 'echo', nonce: 'p-deny' });
    const deny = await consoleCall(s.url, s.app.consoleToken, 'deny', { id: p.body.id, reason: 'no \ud800' });
    expect(deny.status).toBe(400);
    expect(deny.body).toEqual({
      detail: expect.stringMatching(/^Invalid input: reason: must be well-formed Unicode/),
      code: 'invalid_input',
    });
    const search = await consoleCall(s.url, s.app.consoleToken, 'searchReceipts', { text: '\udc00' });
    expect(search.status).toBe(400);
    const allow = await consoleCall(s.url, s.app.consoleToken, 'setAllowed', { action: 'echo\ud800', allowed: true });
    expect(allow.status).toBe(400);
    const pending = rawDb(s.app.core).prepare('SELECT status FROM proposals WHERE id = ?').pluck().get(p.body.id);
    expect(pending).toBe('pending');
    const ok = await consoleCall(s.url, s.app.consoleToken, 'deny', { id: p.body.id, reason: 'no 😀' });
    expect(ok.status).toBe(200);

    expect(CONSOLE_METHODS.getProposal.safeParse({ id: '\ud800' }).success).toBe(false);
    expect(CONSOLE_METHODS.deny.safeParse({ id: 'x', reason: '\udc00' }).success).toBe(false);
    expect(CONSOLE_METHODS.searchReceipts.safeParse({ action: 'a\ud800' }).success).toBe(false);
    expect(CONSOLE_METHODS.searchReceipts.safeParse({ text: '😀', action: 'echo' }).success).toBe(true);
  });
});

describe('the pieces', () => {
  test('isWellFormedUnicode: pairs yes, lone halves (in any position) no', () => {
    for (const good of ['', 'abc', '😀', '\ud83d\ude00', 'a😀b', '\uffff']) expect(isWellFormedUnicode(good), good).toBe(true);
    for (const bad of ['\ud800', '\udc00', 'a\ud83d', '\ude00b', '\ude00\ud83d', '😀\ud800']) expect(isWellFormedUnicode(bad)).toBe(false);
  });

  test('the parser keeps lone surrogates (the ledger and the hash vectors need them); illFormedStrings finds each', () => {
    const text = '{"a":"\\ud800","b":["\\ud83d\\ude00",{"\\udc00":"x"}]}';
    const value = parseJson(text);
    expect(illFormedStrings(text, value)).toEqual([
      { path: ['a'], isKey: false, value: '\ud800' },
      { path: ['b', 1, '\udc00'], isKey: true, value: '\udc00' },
    ]);
    expect(illFormedStrings('{"a":"😀"}', parseJson('{"a":"😀"}'))).toEqual([]);
  });

  test('UTF-8 that encodes a surrogate is refused by the strict decoder, so escapes are the only way in', async () => {
    const s = await startServer();
    try {
      const bytes = new Uint8Array([...Buffer.from('{"action":"echo","nonce":"'), 0xed, 0xa0, 0x80, ...Buffer.from('"}')]);
      const r = await fetch(`${s.url}/execute`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: bytes });
      expect(r.status).toBe(422);
      expect(((await r.json()) as { detail: { ctx: unknown }[] }).detail[0]?.ctx).toEqual({ error: 'Request body is not valid UTF-8' });
    } finally {
      await s.stop();
    }
  });
});
