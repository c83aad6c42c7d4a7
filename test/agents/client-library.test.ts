import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { join } from 'node:path';
import { OpenExecClient, OpenExecError, clawshieldArtifact } from 'openexec-console/client';
import { REPO_ROOT, startServer, type RunningServer, agentToken } from '../support/harness.ts';
import { pendingId } from '../support/pending.ts';
import { rawDb } from '../support/raw-db.ts';

const { publicKey, privateKey } = generateKeyPairSync('ed25519');

describe('openexec-console/client', () => {
  let s: RunningServer;
  let client: OpenExecClient;
  let token: string;
  beforeAll(async () => {
    s = await startServer({
      OPENEXEC_MODE: 'clawshield',
      CLAWSHIELD_PUBLIC_KEY: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
      CLAWSHIELD_TENANT_ID: 'tenant-a',
    });
    token = await agentToken(s, 'sdk-user');
    client = new OpenExecClient({ url: s.url, token });
  });
  afterAll(() => s.stop());

  test('propose, then waitForDecision returns the executed proposal with its result and receipt', async () => {
    const p = await client.propose({ action: 'add', payload: { a: 5, b: 6 }, context: 'client test' });
    expect(p.status).toBe('pending');
    const waiting = client.waitForDecision(p.id, { timeoutMs: 30_000 });
    await s.app.console.approve({ id: await pendingId(s, (p) => p.action === 'add') });
    const decided = await waiting;
    expect(decided).toMatchObject({ status: 'executed', result: { sum: 11 }, receipt: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(rawDb(s.app.core).prepare('SELECT agent FROM proposals WHERE id = ?').pluck().get(p.id)).toBe('sdk-user');
  });

  test("a denial comes back with the operator's reason; a timeout returns the proposal still pending", async () => {
    const p = await client.propose({ action: 'echo', payload: { m: 'x' } });
    expect((await client.waitForDecision(p.id, { timeoutMs: 200 })).status).toBe('pending');
    await s.app.console.deny({ id: p.id, reason: 'not now' });
    expect(await client.waitForDecision(p.id)).toMatchObject({ status: 'denied', reason: 'not now' });
  });

  test('execute with a ClawShield-v1 artifact from the helper runs once; the same artifact again is refused', async () => {
    const payload = { a: 2, b: 3 };
    const artifact = clawshieldArtifact({ privateKey, action: 'add', payload, tenantId: 'tenant-a' });
    const done = await client.execute({ action: 'add', payload, artifact });
    expect(done).toMatchObject({ action: 'add', result: { sum: 5 }, approved: true });
    const again = client.execute({ action: 'add', payload, artifact });
    await expect(again).rejects.toBeInstanceOf(OpenExecError);
    await expect(again).rejects.toMatchObject({ status: 403, detail: expect.stringContaining('Approval already used') });
    const other = clawshieldArtifact({ privateKey, action: 'add', payload: { a: 2, b: 4 }, tenantId: 'tenant-a' });
    await expect(client.execute({ action: 'add', payload, artifact: other })).rejects.toMatchObject({ status: 403 });
  });

  test('an unreachable server is an OpenExecError with status 0', async () => {
    const nowhere = new OpenExecClient({ url: 'http://127.0.0.1:9' });
    await expect(nowhere.propose({ action: 'echo' })).rejects.toMatchObject({ name: 'OpenExecError', status: 0 });
  });

  test('examples/openai-tool-loop.ts: approved calls return results to the model, denied ones say so', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'examples/openai-tool-loop.ts')], {
      cwd: REPO_ROOT,
      env: { ...process.env, OPENEXEC_URL: s.url, OPENEXEC_AGENT_TOKEN: token, RUN_ID: 'example-run' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? -1)));
    await s.app.console.approve({ id: await pendingId(s, (p) => p.action === 'add') });
    const echo = await pendingId(s, (p) => p.action === 'echo');
    expect(await s.app.console.getProposal({ id: echo })).toMatchObject({
      ok: true,
      value: { agent: 'sdk-user', nonce: 'example-run:call_echo_1' },
    });
    await s.app.console.deny({ id: echo, reason: 'no echo today' });
    expect(await exited, stderr).toBe(0);
    expect(stdout.trim()).toBe('Tool results: {"sum":42}; not run: denied (no echo today)');
  }, 60_000);
});
