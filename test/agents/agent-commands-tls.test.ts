/**
 * `openexec mcp serve`, `mcp proxy` and `hook claude-code` against an OpenExec served over
 * HTTPS: they trust exactly the certificate in OPENEXEC_TLS_CERT (as every CLI command does),
 * and without it, or with another one, they refuse before anything is sent.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { REPO_ROOT, startServer, tempDir, type RunningServer, agentToken } from '../support/harness.ts';
import { rawDb } from '../support/raw-db.ts';
import { pendingId } from '../support/pending.ts';
import { CLI_BIN, hookCli } from '../support/cli.ts';
import { selfSignedCert } from '../support/tls-cert.ts';

const certDir = tempDir('openexec-agent-tls-');
const good = selfSignedCert(certDir, 'good');
const other = selfSignedCert(certDir, 'other');
const EVERYTHING = join(REPO_ROOT, 'node_modules/@modelcontextprotocol/server-everything/dist/index.js');
const preBash = JSON.parse(readFileSync(join(REPO_ROOT, 'test/fixtures/claude-code/pre-bash.json'), 'utf8')) as Record<string, unknown>;

async function mcpClient(args: string[], env: Record<string, string>): Promise<Client> {
  const client = new Client({ name: 'openexec-tls-test', version: '1.0.0' });
  await client.connect(
    new StdioClientTransport({ command: CLI_BIN, args, env: { ...(process.env as Record<string, string>), ...env }, stderr: 'pipe' }),
  );
  return client;
}

describe('agent commands against an HTTPS OpenExec', () => {
  let s: RunningServer;
  let token: string;
  /** The CLI finds the server through the data directory's server.json, as an operator's would. */
  let env: Record<string, string>;
  beforeAll(async () => {
    s = await startServer({
      OPENEXEC_MODE: 'clawshield',
      OPENEXEC_TLS_CERT: good.certFile,
      OPENEXEC_TLS_KEY: good.keyFile,
      OPENEXEC_MCP_READ_ONLY_DIRECT: 'everything',
    });
    expect(s.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    token = await agentToken(s, 'tls-agent');
    for (const action of ['claude-code:*', 'mcp:everything/*']) await s.app.console.setAllowed({ action, allowed: true });
    env = { OPENEXEC_DATA_DIR: s.dataDir, OPENEXEC_TLS_CERT: good.certFile, OPENEXEC_AGENT_TOKEN: token };
  });
  afterAll(async () => {
    await s.stop();
    rmSync(certDir, { recursive: true, force: true });
  });

  test('hook claude-code: the operator approves over the pinned connection and the hook allows', async () => {
    const input = { ...preBash, tool_use_id: 'toolu_tls_1' };
    const held = hookCli(JSON.stringify(input), env);
    const id = await pendingId(s, (p) => p.nonce === 'toolu_tls_1');
    await s.app.console.approve({ id });
    const r = await held;
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).hookSpecificOutput).toMatchObject({ permissionDecision: 'allow' });
    // Through OPENEXEC_URL too (https on loopback), with the same pin.
    const viaUrl = await hookCli(JSON.stringify({ ...preBash, tool_use_id: 'toolu_tls_2' }), { ...env, OPENEXEC_URL: s.url });
    expect(viaUrl.code).toBe(0);
    expect(JSON.parse(viaUrl.stdout).hookSpecificOutput.permissionDecision).toBe('deny');
  }, 60_000);

  test('hook claude-code: another certificate or none blocks the tool call (exit 2) and nothing is proposed', async () => {
    const input = JSON.stringify({ ...preBash, tool_use_id: 'toolu_tls_wrong' });
    const wrong = await hookCli(input, { ...env, OPENEXEC_TLS_CERT: other.certFile });
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(
      /^openexec hook: cannot reach OpenExec at https:\/\/127\.0\.0\.1:\d+: not the certificate in OPENEXEC_TLS_CERT/,
    );
    const none = await hookCli(input, { ...env, OPENEXEC_TLS_CERT: '' });
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/served over TLS: set OPENEXEC_TLS_CERT/);
    const noneUrl = await hookCli(input, { ...env, OPENEXEC_TLS_CERT: '', OPENEXEC_URL: s.url });
    expect(noneUrl.code).toBe(2);
    expect(noneUrl.stderr).toMatch(/OPENEXEC_URL: https:\/\/127\.0\.0\.1:\d+ is served over TLS: set OPENEXEC_TLS_CERT/);
    const proposed = rawDb(s.app.core)
      .prepare("SELECT count(*) FROM receipts WHERE json_extract(body, '$.nonce') = 'toolu_tls_wrong'")
      .pluck()
      .get();
    expect(proposed).toBe(0);
  });

  test('mcp serve: tools/list and tools/call relayed to /mcp over the pinned connection', async () => {
    const client = await mcpClient(['mcp', 'serve'], env);
    try {
      const { tools } = await client.listTools();
      expect(tools.map((t) => t.name)).toContain('add');
      const held = client.callTool({ name: 'add', arguments: { a: 20, b: 22 } }, undefined, { timeout: 60_000 });
      const id = await pendingId(s, (p) => p.action === 'add');
      await s.app.console.approve({ id });
      const r = await held;
      expect(r.structuredContent).toEqual({ sum: 42 });
    } finally {
      await client.close();
    }
  }, 60_000);

  test('mcp serve with another certificate: the call is refused, never relayed', async () => {
    const before = s.app.core.ledger.size();
    await expect(mcpClient(['mcp', 'serve'], { ...env, OPENEXEC_TLS_CERT: other.certFile })).rejects.toThrow(
      /OpenExec refused: cannot reach https:\/\/127\.0\.0\.1:\d+ \(https:\/\/127\.0\.0\.1:\d+ did not present the certificate in OPENEXEC_TLS_CERT/,
    );
    expect(s.app.core.ledger.size()).toBe(before);
  });

  test('mcp proxy: pins the upstream tools and runs a read-only one through the pinned connection', async () => {
    const client = await mcpClient(['mcp', 'proxy', '--name', 'everything', '--', process.execPath, EVERYTHING, 'stdio'], env);
    try {
      const r = await client.callTool({ name: 'get-sum', arguments: { a: 2, b: 3 } });
      expect(r.content).toEqual([{ type: 'text', text: 'The sum of 2 and 3 is 5.' }]);
      expect(await s.app.core.toolPins.hashOf('mcp:everything/get-sum')).toMatch(/^[0-9a-f]{64}$/);
    } finally {
      await client.close();
    }
  }, 60_000);

  test('mcp proxy with another certificate exits with one line before pinning anything', async () => {
    const r = await new Promise<{ code: number; stderr: string }>((resolve) => {
      const child = spawn(CLI_BIN, ['mcp', 'proxy', '--name', 'other', '--', process.execPath, EVERYTHING, 'stdio'], {
        env: { ...process.env, ...env, OPENEXEC_TLS_CERT: other.certFile },
      });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('close', (code) => resolve({ code: code ?? -1, stderr }));
      child.stdin.end();
    });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/^openexec: .*https:\/\/127\.0\.0\.1:\d+ did not present the certificate in OPENEXEC_TLS_CERT/m);
    expect((await s.app.core.toolPins.list()).filter((p) => p.action.startsWith('mcp:other/'))).toEqual([]);
  }, 60_000);
});
