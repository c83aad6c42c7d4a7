import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify as toYaml } from 'yaml';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { post, startServer, tempDir, type RunningServer, agentToken } from '../support/harness.ts';
import { pendingId } from '../support/pending.ts';
import { CLI_BIN } from '../support/cli.ts';
import { GREET, stringSchema } from '../support/declared.ts';
import { rawDb } from '../support/raw-db.ts';

const greet = { ...GREET, annotations: { readOnlyHint: true } };

function manifestFile(): string {
  const file = join(tempDir(), 'actions.yaml');
  writeFileSync(file, toYaml({ actions: { greet } }));
  return file;
}

async function serve(env: Record<string, string>): Promise<{ s: RunningServer; token: string }> {
  const s = await startServer({ OPENEXEC_ACTIONS: manifestFile(), OPENEXEC_ALLOWED_ACTIONS: 'greet,add', ...env });
  const token = await agentToken(s, 'mcp-agent');
  return { s, token };
}

async function httpClient(s: RunningServer, token: string): Promise<Client> {
  const client = new Client({ name: 'openexec-test', version: '1.0.0' });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(`${s.url}/mcp`), { requestInit: { headers: { authorization: `Bearer ${token}` } } }),
  );
  return client;
}

const gate = (r: { _meta?: Record<string, unknown> }) => r._meta?.['openexec/gate'] as Record<string, unknown>;

describe('openexec mcp gateway over streamable HTTP (the SDK client)', () => {
  let s: RunningServer;
  let token: string;
  let client: Client;
  beforeAll(async () => {
    ({ s, token } = await serve({ OPENEXEC_MODE: 'clawshield', OPENEXEC_MCP_HOLD_SECONDS: '1' }));
    client = await httpClient(s, token);
  });
  afterAll(async () => {
    await client.close();
    await s.stop();
  });

  test('tools/list: the allowed actions with their payload schema as inputSchema and their annotations', async () => {
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(['add', 'greet']);
    const g = tools.find((t) => t.name === 'greet')!;
    expect(g).toMatchObject({ description: 'Print a greeting', inputSchema: stringSchema('name'), annotations: { readOnlyHint: true } });
  });

  test('no token or a bad token: 401, nothing reaches the gateway', async () => {
    expect((await post(s.url, '/mcp', { jsonrpc: '2.0', id: 1, method: 'tools/list' })).status).toBe(401);
    expect((await post(s.url, '/mcp', { jsonrpc: '2.0', id: 1, method: 'tools/list' }, { authorization: 'Bearer oxa_x' })).status).toBe(
      401,
    );
  });

  test('approved while the call is open: progress notifications, then the result with its receipt', async () => {
    const progress: number[] = [];
    const call = client.callTool({ name: 'greet', arguments: { name: 'ana' } }, undefined, {
      onprogress: (p) => progress.push(p.progress),
      resetTimeoutOnProgress: true,
      timeout: 120_000,
    });
    const id = await pendingId(s, (p) => p.action === 'greet');
    // Held past one progress interval (5 s), so at least one notification arrived.
    while (progress.length === 0) await new Promise((r) => setTimeout(r, 100));
    const detail = await s.app.console.getProposal({ id });
    expect(detail).toMatchObject({ ok: true, value: { agent: 'mcp-agent', context: 'MCP tools/call' } });
    await s.app.console.approve({ id });
    const r = await call;
    expect(r.isError).toBeFalsy();
    expect(r.structuredContent).toMatchObject({ exit_code: 0, stdout: 'hello ana\n' });
    expect(JSON.parse((r.content as { text: string }[])[0]!.text)).toMatchObject({ stdout: 'hello ana\n' });
    expect(gate(r)).toMatchObject({ outcome: 'executed', proposal_id: id, receipt: expect.stringMatching(/^[0-9a-f]{64}$/) });
    const seq = gate(r)['receipt_seq'] as number;
    const body = JSON.parse(rawDb(s.app.core).prepare('SELECT body FROM receipts WHERE seq = ?').pluck().get(seq) as string);
    expect(body).toMatchObject({ event: 'executed', agent: 'mcp-agent', proposal_id: id });
  }, 60_000);

  test('without a progress token: "pending, retry"; the same call again joins the same proposal', async () => {
    const first = await client.callTool({ name: 'add', arguments: { a: 2, b: 3 } });
    expect(first.isError).toBe(true);
    expect(gate(first)).toMatchObject({ outcome: 'pending', retry: true, request_hash: expect.stringMatching(/^[0-9a-f]{64}$/) });
    const id = gate(first)['proposal_id'] as string;
    const again = await client.callTool({ name: 'add', arguments: { a: 2, b: 3 } });
    expect(gate(again)).toMatchObject({ outcome: 'pending', proposal_id: id });
    const pending = await s.app.console.listPending();
    expect(pending.ok && pending.value.filter((p) => p.action === 'add').map((p) => p.id)).toEqual([id]);
    await s.app.console.approve({ id });
    const done = await client.callTool({ name: 'add', arguments: { a: 2, b: 3 } });
    expect(done.structuredContent).toEqual({ sum: 5 });
    expect(gate(done)).toMatchObject({ outcome: 'executed', proposal_id: id });
  });

  test("denied: isError with the operator's reason; not allowed and invalid are refused", async () => {
    const call = client.callTool({ name: 'greet', arguments: { name: 'bob' } }, undefined, { onprogress: () => {}, timeout: 120_000 });
    const id = await pendingId(s, (p) => p.action === 'greet');
    await s.app.console.deny({ id, reason: 'not bob' });
    const r = await call;
    expect(r.isError).toBe(true);
    expect(gate(r)).toEqual({ outcome: 'denied', proposal_id: id, reason: 'not bob' });
    const echo = await client.callTool({ name: 'echo', arguments: { m: 1 } });
    expect(echo.isError).toBe(true);
    expect(gate(echo)).toMatchObject({ outcome: 'not_allowed' });
    const invalid = await client.callTool({ name: 'greet', arguments: { name: 7 } });
    expect(gate(invalid)).toMatchObject({ outcome: 'invalid_payload' });
  });

  test('expired: the proposal expires into a denial, and the call says so', async () => {
    const first = await client.callTool({ name: 'add', arguments: { a: 40, b: 2 } });
    const id = gate(first)['proposal_id'] as string;
    rawDb(s.app.core).prepare("UPDATE proposals SET expires_at = '2000-01-01T00:00:00.000Z' WHERE id = ?").run(id);
    const again = await client.callTool({ name: 'add', arguments: { a: 40, b: 2 } });
    expect(gate(again)).toMatchObject({ outcome: 'expired', proposal_id: id });
  });
});

describe('openexec mcp serve on stdio (the SDK client starting it)', () => {
  let s: RunningServer;
  let token: string;
  beforeAll(async () => {
    ({ s, token } = await serve({ OPENEXEC_MODE: 'demo' }));
  });
  afterAll(() => s.stop());

  test('lists and calls through the relay; in demo mode an allowed action runs directly, with a receipt', async () => {
    const client = new Client({ name: 'openexec-test', version: '1.0.0' });
    await client.connect(
      new StdioClientTransport({
        command: CLI_BIN,
        args: ['mcp', 'serve'],
        env: { ...(process.env as Record<string, string>), OPENEXEC_DATA_DIR: tempDir(), OPENEXEC_URL: s.url, OPENEXEC_AGENT_TOKEN: token },
        stderr: 'pipe',
      }),
    );
    try {
      const { tools } = await client.listTools();
      expect(tools.map((t) => t.name).sort()).toEqual(['add', 'greet']);
      const r = await client.callTool({ name: 'add', arguments: { a: 20, b: 22 } });
      expect(r.structuredContent).toEqual({ sum: 42 });
      const seq = gate(r)['receipt_seq'] as number;
      expect(JSON.parse(rawDb(s.app.core).prepare('SELECT body FROM receipts WHERE seq = ?').pluck().get(seq) as string)).toMatchObject({
        event: 'executed',
        agent: 'mcp-agent',
      });
    } finally {
      await client.close();
    }
  }, 30_000);

  test('without OPENEXEC_AGENT_TOKEN it refuses to start, with one line', async () => {
    const { spawnSync } = await import('node:child_process');
    const r = spawnSync(CLI_BIN, ['mcp', 'serve'], {
      env: { ...process.env, OPENEXEC_DATA_DIR: tempDir(), OPENEXEC_URL: s.url, OPENEXEC_AGENT_TOKEN: '' },
      encoding: 'utf8',
    });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/^openexec: OPENEXEC_AGENT_TOKEN: required/);
    expect(r.stdout).toBe('');
  });
});
