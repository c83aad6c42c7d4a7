import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT, tempDir } from '../support/harness.ts';
import { NODE_BIN } from '../support/server-process.ts';
import { TestApprover } from '../support/clawshield.ts';
import { loadConfig } from '../../src/main/app/config.ts';
import { OpenExecCore } from '../../src/main/core/openexec-core.ts';
import { verifyChain } from '../../src/main/core/ledger/verify-ledger.ts';
import { parseJson } from '../../src/main/core/json/parse.ts';
import type { JsonObject, JsonValue } from '../../src/main/core/json/json-value.ts';
import type { ActionHandler } from '../../src/main/core/actions/action-registry.ts';
import { rawDb } from '../support/raw-db.ts';

const approver = new TestApprover();
const obj = (text: string) => parseJson(text) as JsonObject;

describe('the engine spends a nonce and an approval before a handler runs', () => {
  let dir: string;
  let core: OpenExecCore | null = null;
  const open = async (extraActions: Record<string, ActionHandler> = {}) =>
    (core = await OpenExecCore.open({
      ...loadConfig({ OPENEXEC_DATA_DIR: dir, OPENEXEC_MODE: 'clawshield', CLAWSHIELD_PUBLIC_KEY: approver.publicKeyPem }),
      extraActions,
    }));
  beforeEach(() => {
    dir = tempDir();
  });
  afterEach(() => {
    core?.close();
    core = null;
    rmSync(dir, { recursive: true, force: true });
  });

  test('a crash while the handler runs: never run again, closed as interrupted with a receipt', async () => {
    const effects = join(dir, 'effects.log');
    const payload = '{"amount":5}';
    const artifact = approver.mint('pay', payload);
    const child = spawnSync(NODE_BIN, ['--import', 'tsx', 'test/support/crashing-handler-child.ts'], {
      cwd: REPO_ROOT,
      env: {
        ...process.env,
        OPENEXEC_DATA_DIR: dir,
        CLAWSHIELD_PUBLIC_KEY: approver.publicKeyPem,
        EFFECTS_FILE: effects,
        REQUEST: `{"payload":${payload},"nonce":"pay-1"}`,
        ARTIFACT: JSON.stringify(artifact),
      },
      timeout: 20_000,
    });
    expect(child.signal).toBe('SIGKILL');
    expect(readFileSync(effects, 'utf8')).toBe('paid 5\n');

    let ran = 0;
    const c = await open({ pay: () => ((ran += 1), null) });
    const row = rawDb(c).prepare("SELECT status, error FROM executions WHERE nonce = 'pay-1'").get() as { status: string; error: string };
    expect(row.status).toBe('failed');
    expect(row.error).toMatch(/^Interrupted: /);
    const failed = JSON.parse(rawDb(c).prepare("SELECT body FROM receipts WHERE event = 'failed'").pluck().get() as string);
    expect(failed).toMatchObject({ nonce: 'pay-1', approval_id: artifact.approval_id, status: 500 });

    return (async () => {
      const again = await c.engine.execute({ action: 'pay', payload: obj(payload), nonce: 'pay-1', artifact });
      expect(again).toMatchObject({ kind: 'refused', status: 500 });
      const fresh = await c.engine.execute({ action: 'pay', payload: obj(payload), nonce: 'pay-2', artifact });
      expect(fresh).toMatchObject({ kind: 'refused', status: 403, code: 'approval_used' });
      expect(ran).toBe(0);
      expect(readFileSync(effects, 'utf8')).toBe('paid 5\n');
      expect(verifyChain(rawDb(c), c.receiptVerifier).valid).toBe(true);
    })();
  });

  test('a result that is not JSON fails the execution and still spends the approval', async () => {
    let ran = 0;
    const c = await open({ weird: () => ((ran += 1), { x: Number.NaN } as unknown as JsonValue) });
    const artifact = approver.mint('weird', '{}');
    const first = await c.engine.execute({ action: 'weird', payload: obj('{}'), nonce: 'w-1', artifact });
    expect(first).toMatchObject({ kind: 'refused', status: 500, code: 'handler_failed' });
    const replay = await c.engine.execute({ action: 'weird', payload: obj('{}'), nonce: 'w-1', artifact });
    expect(replay).toMatchObject({ kind: 'refused', status: 500 });
    const reuse = await c.engine.execute({ action: 'weird', payload: obj('{}'), nonce: 'w-2', artifact });
    expect(reuse).toMatchObject({ kind: 'refused', status: 403, code: 'approval_used' });
    expect(ran).toBe(1);
  });

  test('an async handler runs once while concurrent requests with its nonce wait and replay', async () => {
    let ran = 0;
    const c = await open({
      slow: async (p) => {
        ran += 1;
        await new Promise((r) => setTimeout(r, 50));
        return p;
      },
    });
    const artifact = approver.mint('slow', '{"n":1}');
    const all = await Promise.all(
      Array.from({ length: 16 }, () => c.engine.execute({ action: 'slow', payload: obj('{"n":1}'), nonce: 's-1', artifact })),
    );
    expect(ran).toBe(1);
    expect(all.filter((o) => o.kind === 'executed')).toHaveLength(1);
    expect(all.filter((o) => o.kind === 'replayed')).toHaveLength(15);
    expect(new Set(all.map((o) => (o.kind === 'refused' ? null : o.answer.id))).size).toBe(1);
  });

  test('a payload the handler refuses is a 400, replayed as such, and nothing ran', async () => {
    const c = await open();
    const artifact = approver.mint('add', '{"a":"x"}');
    const first = await c.engine.execute({ action: 'add', payload: obj('{"a":"x"}'), nonce: 'bad-add', artifact });
    expect(first).toMatchObject({ kind: 'refused', status: 400, detail: "add: 'a' must be a number" });
    const again = await c.engine.execute({ action: 'add', payload: obj('{"a":"x"}'), nonce: 'bad-add', artifact });
    expect(again).toMatchObject({ kind: 'refused', status: 400, detail: "add: 'a' must be a number" });
    expect(existsSync(join(dir, 'effects.log'))).toBe(false);
  });
});
