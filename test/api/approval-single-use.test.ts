import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { post, startServer, tempDir, type RunningServer } from '../support/harness.ts';
import { executeWire, TestApprover } from '../support/clawshield.ts';
import { loadConfig } from '../../src/main/app/config.ts';
import { OpenExecCore } from '../../src/main/core/openexec-core.ts';
import { migrate } from '../../src/main/core/store/migrations.ts';
import { parseJson } from '../../src/main/core/json/parse.ts';
import type { JsonObject } from '../../src/main/core/json/json-value.ts';
import type { ApprovalArtifact } from '../../src/main/core/approval/approval-artifact.ts';
import { rawDb } from '../support/raw-db.ts';

/**
 * ClawShield v1 signs approval_id + tenant_id + … with no separators. With no tenant
 * configured, every split of approval_id + tenant_id is the same signed message: one genuine
 * artifact, many ids. Each split must be refused once the first has executed.
 */
function everySplit(artifact: ApprovalArtifact): ApprovalArtifact[] {
  const joined = artifact.approval_id + artifact.tenant_id;
  return Array.from({ length: joined.length }, (_, i) => ({
    ...artifact,
    approval_id: joined.slice(0, i + 1),
    tenant_id: joined.slice(i + 1),
  }));
}

describe('one signature, one execution (no tenant configured)', () => {
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

  test('in sequence: the genuine split executes, every other split of its message is refused', async () => {
    const payload = '{"msg":"pay 10 to alice"}';
    const artifact = approver.mint('echo', payload);
    const splits = everySplit(artifact);
    expect(splits.length).toBeGreaterThan(40);
    const first = await post(s.url, '/execute', executeWire('echo', payload, 'seq-genuine', artifact));
    expect(first.status, first.text).toBe(200);
    for (const [i, split] of splits.entries()) {
      const r = await post(s.url, '/execute', executeWire('echo', payload, `seq-shift-${i}`, split));
      expect(r.status, `${split.approval_id} | ${split.tenant_id}: ${r.text}`).toBe(403);
      expect(r.body.detail).toMatch(/^Approval already used: /);
    }
    expect(count("SELECT count(*) FROM executions WHERE status = 'executed' AND nonce LIKE 'seq-%'")).toBe(1);
    expect(count('SELECT count(*) FROM approvals WHERE action_hash = ?', artifact.action_hash)).toBe(1);
  });

  test('concurrently: every split at once gives exactly one execution', async () => {
    const payload = '{"a":40,"b":2}';
    const artifact = approver.mint('add', payload);
    const splits = everySplit(artifact);
    const answers = await Promise.all(
      splits.map((split, i) => post(s.url, '/execute', executeWire('add', payload, `race-shift-${i}`, split))),
    );
    expect(answers.filter((a) => a.status === 200)).toHaveLength(1);
    const refused = answers.filter((a) => a.status === 403);
    expect(refused).toHaveLength(splits.length - 1);
    for (const r of refused) expect(r.body.detail).toMatch(/^Approval already used: /);
    expect(count("SELECT count(*) FROM receipts WHERE event = 'executed' AND json_extract(body, '$.nonce') LIKE 'race-shift-%'")).toBe(1);
  });
});

describe('one signature, one execution on the effects path', () => {
  const approver = new TestApprover();
  let dir: string;
  let core: OpenExecCore | null = null;
  afterEach(() => {
    core?.close();
    core = null;
    rmSync(dir, { recursive: true, force: true });
  });

  test('every split, concurrently, runs the handler once', async () => {
    dir = tempDir();
    let ran = 0;
    core = await OpenExecCore.open({
      ...loadConfig({ OPENEXEC_DATA_DIR: dir, OPENEXEC_MODE: 'clawshield', CLAWSHIELD_PUBLIC_KEY: approver.publicKeyPem }),
      extraActions: {
        pay: async () => {
          ran += 1;
          await new Promise((r) => setTimeout(r, 5));
          return { paid: true };
        },
      },
    });
    const payload = parseJson('{"amount":10}') as JsonObject;
    const artifact = approver.mint('pay', '{"amount":10}');
    const c = core;
    const outcomes = await Promise.all(
      everySplit(artifact).map((split, i) => c.engine.execute({ action: 'pay', payload, nonce: `fx-${i}`, artifact: split })),
    );
    expect(outcomes.filter((o) => o.kind === 'executed')).toHaveLength(1);
    expect(outcomes.filter((o) => o.kind === 'refused' && o.code === 'approval_used')).toHaveLength(outcomes.length - 1);
    expect(ran).toBe(1);
  });

  test('a ledger that spent one message under two ids before the upgrade: no third id runs', async () => {
    dir = tempDir();
    const dbPath = join(dir, 'openexec.db');
    const artifact = approver.mint('echo', '{}', { tenant: '' });
    const old = new Database(dbPath);
    migrate(old, 2);
    const insert = old.prepare(
      `INSERT INTO approvals (approval_id, tenant_id, action_hash, issued_at, expires_at, approver, approver_key_id,
         verified_at, used_by_exec_id)
       VALUES (?, ?, ?, ?, ?, 'clawshield', 'k', '2026-01-01T00:00:00Z', ?)`,
    );
    const execution = old.prepare(
      `INSERT INTO executions (id, nonce, request_hash, action, status, approved, approval_id, created_at)
       VALUES (?, ?, ?, 'echo', 'executed', 1, ?, '2026-01-01T00:00:00Z')`,
    );
    const splits = everySplit(artifact);
    for (const split of splits.slice(-2)) {
      execution.run(`old-${split.approval_id}`, `nonce-${split.approval_id}`, split.action_hash, split.approval_id);
      insert.run(split.approval_id, split.tenant_id, split.action_hash, split.issued_at, split.expires_at, `old-${split.approval_id}`);
    }
    old.close();
    core = await OpenExecCore.open({
      ...loadConfig({ OPENEXEC_DATA_DIR: dir, OPENEXEC_MODE: 'clawshield', CLAWSHIELD_PUBLIC_KEY: approver.publicKeyPem }),
    });
    const third = await core.engine.execute({ action: 'echo', payload: {}, nonce: 'up-1', artifact: splits[3]! });
    expect(third).toMatchObject({ kind: 'refused', code: 'approval_used' });
    expect(rawDb(core).prepare('SELECT count(DISTINCT message_hash) FROM approvals').pluck().get()).toBe(1);
  });
});
