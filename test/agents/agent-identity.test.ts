import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { get, post, startServer, tempDir, type RunningServer, agentToken } from '../support/harness.ts';
import { cli } from '../support/cli.ts';
import { spawnServer, waitForExit, type ServerProcess } from '../support/server-process.ts';
import { loadConfig } from '../../src/main/app/config.ts';
import { rawDb } from '../support/raw-db.ts';

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

function receiptBodies(s: RunningServer, nonce: string): Record<string, unknown>[] {
  return (
    rawDb(s.app.core)
      .prepare("SELECT body FROM receipts WHERE json_extract(body, '$.nonce') = ? ORDER BY seq")
      .pluck()
      .all(nonce) as string[]
  ).map((b) => JSON.parse(b) as Record<string, unknown>);
}

describe('agent identity (tokens optional)', () => {
  let s: RunningServer;
  let alpha: string;
  let beta: string;
  beforeAll(async () => {
    s = await startServer({ OPENEXEC_MODE: 'clawshield' });
    alpha = await agentToken(s, 'alpha');
    beta = await agentToken(s, 'beta');
  });
  afterAll(() => s.stop());

  test('only the token hash is stored; a second agent of the same name is refused', async () => {
    expect(alpha).toMatch(/^oxa_[A-Za-z0-9_-]{43}$/);
    // Every file OpenExec wrote, logs included, and the database.
    const files = (readdirSync(s.dataDir, { recursive: true }) as string[])
      .map((f) => join(s.dataDir, f))
      .filter((f) => statSync(f).isFile())
      .map((f) => readFileSync(f).toString('latin1'));
    expect(files.some((text) => text.includes(alpha.slice(4)))).toBe(false);
    const again = await s.app.console.addAgent({ name: 'alpha' });
    expect(again).toMatchObject({ ok: false, error: { code: 'conflict' } });
  });

  test('a proposal carries the verified agent apart from its context, in the row and in every receipt', async () => {
    const r = await post(
      s.url,
      '/proposals',
      { action: 'add', payload: { a: 1, b: 2 }, nonce: 'id-1', context: 'I am beta, trust me' },
      bearer(alpha),
    );
    expect(r.status).toBe(202);
    const pending = await s.app.console.listPending();
    if (!pending.ok) throw new Error('listPending failed');
    expect(pending.value.find((p) => p.id === r.body.id)).toMatchObject({ agent: 'alpha', context: 'I am beta, trust me' });
    await s.app.console.approve({ id: r.body.id });
    const bodies = receiptBodies(s, 'id-1');
    expect(bodies.map((b) => b['event'])).toEqual(['proposed', 'executed']);
    for (const b of bodies) expect(b['agent']).toBe('alpha');
    const page = await s.app.console.searchReceipts({ agent: 'alpha' });
    if (!page.ok) throw new Error('search failed');
    expect(page.value.items.map((i) => i.event)).toEqual(expect.arrayContaining(['proposed', 'approved', 'executed']));
    const none = await s.app.console.searchReceipts({ agent: 'beta' });
    expect(none.ok && none.value.items).toEqual([]);
  });

  test("another agent can neither read an agent's proposal nor take over its nonce", async () => {
    const r = await post(s.url, '/proposals', { action: 'echo', payload: { m: 1 }, nonce: 'id-2' }, bearer(alpha));
    expect((await get(s.url, `/proposals/${r.body.id}`, bearer(beta))).status).toBe(404);
    expect((await get(s.url, `/proposals/${r.body.id}`)).status).toBe(404);
    expect((await get(s.url, `/proposals/${r.body.id}`, bearer(alpha))).status).toBe(200);
    const stolen = await post(s.url, '/proposals', { action: 'echo', payload: { m: 1 }, nonce: 'id-2' }, bearer(beta));
    expect(stolen.status).toBe(409);
    expect(stolen.body.detail).toMatch(/another agent/);
    const same = await post(s.url, '/proposals', { action: 'echo', payload: { m: 1 }, nonce: 'id-2' }, bearer(alpha));
    expect(same.body.id).toBe(r.body.id);
  });

  test('an unknown or revoked token is refused, never taken as anonymous', async () => {
    const bad = await post(s.url, '/proposals', { action: 'echo', payload: {}, nonce: 'id-3' }, bearer('oxa_' + 'A'.repeat(43)));
    expect(bad.status).toBe(401);
    const token = await agentToken(s, 'gamma');
    expect((await post(s.url, '/proposals', { action: 'echo', payload: {}, nonce: 'id-4' }, bearer(token))).status).toBe(202);
    const revoked = await s.app.console.revokeAgent({ name: 'gamma' });
    expect(revoked).toMatchObject({ ok: true, value: { name: 'gamma' } });
    expect((await post(s.url, '/proposals', { action: 'echo', payload: {}, nonce: 'id-5' }, bearer(token))).status).toBe(401);
    const config = rawDb(s.app.core).prepare("SELECT reason FROM receipts WHERE event = 'config' ORDER BY seq").pluck().all();
    expect(config).toEqual(expect.arrayContaining(['agent added: gamma', 'agent revoked: gamma']));
  });
});

describe('a replayed nonce at /execute answers only the agent that made it', () => {
  let s: RunningServer;
  beforeAll(async () => {
    s = await startServer({ OPENEXEC_MODE: 'demo' });
  });
  afterAll(() => s.stop());

  test('same agent: the stored result; another agent or no token: 409', async () => {
    const alpha = await agentToken(s, 'alpha');
    const beta = await agentToken(s, 'beta');
    const body = { action: 'add', payload: { a: 2, b: 3 }, nonce: 'replay-1' };
    const first = await post(s.url, '/execute', body, bearer(alpha));
    expect(first.status).toBe(200);
    expect((await post(s.url, '/execute', body, bearer(alpha))).body).toEqual(first.body);
    expect((await post(s.url, '/execute', body, bearer(beta))).status).toBe(409);
    expect((await post(s.url, '/execute', body)).status).toBe(409);
    const anonymous = { ...body, nonce: 'replay-2' };
    expect((await post(s.url, '/execute', anonymous)).status).toBe(200);
    expect((await post(s.url, '/execute', anonymous)).status).toBe(200);
    const row = rawDb(s.app.core).prepare('SELECT agent FROM executions WHERE nonce = ?').pluck();
    expect([row.get('replay-1'), row.get('replay-2')]).toEqual(['alpha', null]);
  });
});

describe('OPENEXEC_REQUIRE_AGENT_TOKEN', () => {
  test('=1: agent routes refuse a request without a token; the Python-era routes stay open', async () => {
    const s = await startServer({ OPENEXEC_REQUIRE_AGENT_TOKEN: '1' });
    try {
      expect((await post(s.url, '/execute', { action: 'add', payload: { a: 1, b: 1 }, nonce: 'r-1' })).status).toBe(401);
      expect((await post(s.url, '/proposals', { action: 'add', payload: {}, nonce: 'r-2' })).status).toBe(401);
      expect((await get(s.url, '/health')).status).toBe(200);
      const token = await agentToken(s, 'alpha');
      expect((await post(s.url, '/execute', { action: 'add', payload: { a: 1, b: 1 }, nonce: 'r-3' }, bearer(token))).status).toBe(200);
    } finally {
      await s.stop();
    }
  });

  test('a value that is not a flag stops start-up with one line naming the variable', () => {
    expect(() => loadConfig({ OPENEXEC_REQUIRE_AGENT_TOKEN: 'maybe' })).toThrow(
      /^OPENEXEC_REQUIRE_AGENT_TOKEN: must be 1 or 0, got 'maybe'$/,
    );
  });
});

describe('openexec agents (through the running server)', () => {
  const dataDir = tempDir();
  let server: ServerProcess;
  beforeAll(async () => {
    server = await spawnServer({ OPENEXEC_DATA_DIR: dataDir });
  }, 30_000);
  afterAll(async () => {
    server.child.kill('SIGTERM');
    await waitForExit(server.child);
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('add prints the token once, list shows it without the token, revoke ends it', async () => {
    const added = await cli(dataDir, 'agents', 'add', 'claude', '--json');
    expect(added.code).toBe(0);
    const { name, token } = JSON.parse(added.stdout) as { name: string; token: string };
    expect(name).toBe('claude');
    expect((await post(server.url, '/proposals', { action: 'echo', payload: {}, nonce: 'cli-a' }, bearer(token))).status).toBe(202);
    const list = await cli(dataDir, 'agents', 'list');
    expect(list.stdout).toMatch(/^claude {2}added /);
    expect(list.stdout).not.toContain(token);
    expect((await cli(dataDir, 'agents', 'add', 'bad name')).stderr).toMatch(/^openexec: .*name/);
    expect((await cli(dataDir, 'agents', 'revoke', 'claude')).code).toBe(0);
    expect((await post(server.url, '/proposals', { action: 'echo', payload: {}, nonce: 'cli-b' }, bearer(token))).status).toBe(401);
    const wrong = await cli(dataDir, 'agents', 'frobnicate');
    expect(wrong.code).toBe(2);
  });
});
