import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { post, startServer, type RunningServer } from '../support/harness.ts';
import { executeWire, TestApprover } from '../support/clawshield.ts';
import { rawDb } from '../support/raw-db.ts';

const N = 64;

describe('64 concurrent requests', () => {
  const approver = new TestApprover();
  let s: RunningServer;
  beforeAll(async () => {
    s = await startServer({ OPENEXEC_MODE: 'clawshield', CLAWSHIELD_PUBLIC_KEY: approver.publicKeyPem });
  });
  afterAll(() => s.stop());

  const count = (sql: string, ...args: unknown[]) =>
    rawDb(s.app.core)
      .prepare(sql)
      .pluck()
      .get(...args) as number;

  test('one nonce → exactly one execution and one executed receipt; the rest replay it', async () => {
    const payload = '{"a":1,"b":2}';
    const artifact = approver.mint('add', payload);
    const body = executeWire('add', payload, 'one-nonce', artifact);
    const answers = await Promise.all(Array.from({ length: N }, () => post(s.url, '/execute', body)));
    expect(answers.every((a) => a.status === 200)).toBe(true);
    expect(new Set(answers.map((a) => a.body.id)).size).toBe(1);
    expect(count("SELECT count(*) FROM executions WHERE nonce = 'one-nonce'")).toBe(1);
    expect(count("SELECT count(*) FROM receipts WHERE event = 'executed' AND json_extract(body, '$.nonce') = 'one-nonce'")).toBe(1);
    expect(count("SELECT count(*) FROM receipts WHERE event = 'replayed' AND json_extract(body, '$.nonce') = 'one-nonce'")).toBe(N - 1);
  });

  test('one approval id with 64 different nonces → exactly one execution', async () => {
    const payload = '{"msg":"once"}';
    const artifact = approver.mint('echo', payload);
    const answers = await Promise.all(
      Array.from({ length: N }, (_, i) => post(s.url, '/execute', executeWire('echo', payload, `approval-race-${i}`, artifact))),
    );
    expect(answers.filter((a) => a.status === 200)).toHaveLength(1);
    const refused = answers.filter((a) => a.status === 403);
    expect(refused).toHaveLength(N - 1);
    for (const r of refused) expect(r.body.detail).toMatch(/^Approval already used: /);
    expect(count('SELECT count(*) FROM executions WHERE approval_id = ?', artifact.approval_id)).toBe(1);
    expect(count("SELECT count(*) FROM receipts WHERE event = 'executed' AND approval_id = ?", artifact.approval_id)).toBe(1);
  });
});
