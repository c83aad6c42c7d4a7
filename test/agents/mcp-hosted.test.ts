import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { randomUUID } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { loadConfig } from '../../src/main/app/config.ts';
import { startOpenExec } from '../../src/main/app/openexec-app.ts';
import { post, startServer, tempDir, type RunningServer, agentToken } from '../support/harness.ts';
import { pendingId } from '../support/pending.ts';
import { CLI_BIN } from '../support/cli.ts';
import { rawDb } from '../support/raw-db.ts';
import { crashMidCall, DUPLICATE_TOOLS_UPSTREAM, EVERYTHING, gate, held, pidWith, receipt, reportedFor } from '../support/mcp-upstream.ts';

interface Hosted {
  s: RunningServer;
  token: string;
  /** Passed to the upstream as an ignored argument, to find its process. */
  marker: string;
}

/** A server hosting server-everything as `everything` (OPENEXEC_MCP_UPSTREAMS), and an agent. */
async function hosting(env: Record<string, string> = {}): Promise<Hosted> {
  const marker = `hosted-${randomUUID()}`;
  const file = join(tempDir(), 'upstreams.yaml');
  writeFileSync(
    file,
    [
      'upstreams:',
      '  everything:',
      `    command: ${JSON.stringify(process.execPath)}`,
      `    args: [${JSON.stringify(EVERYTHING)}, stdio, ${marker}]`,
      '    env: { HOSTED_BY: openexec }',
    ].join('\n'),
  );
  const s = await startServer({
    OPENEXEC_MODE: 'clawshield',
    OPENEXEC_ALLOWED_ACTIONS: 'mcp:everything/*',
    OPENEXEC_MCP_UPSTREAMS: file,
    OPENEXEC_MCP_HOLD_SECONDS: '1',
    ...env,
  });
  const token = await agentToken(s, 'hosted-agent');
  return { s, token, marker };
}

/** The SDK's own client over streamable HTTP, as Claude Code or Cursor would connect. */
async function agentClient(h: Hosted): Promise<Client> {
  const client = new Client({ name: 'openexec-test', version: '1.0.0' });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(`${h.s.url}/mcp/everything`), {
      requestInit: { headers: { authorization: `Bearer ${h.token}` } },
    }),
  );
  return client;
}

describe('an MCP upstream hosted by the server, at /mcp/NAME', () => {
  let h: Hosted;
  let client: Client;
  beforeAll(async () => {
    h = await hosting();
    client = await agentClient(h);
  }, 60_000);
  afterAll(async () => {
    await client.close();
    await h.s.stop();
  });

  test("the upstream's tools are listed and each definition is pinned with a config receipt, at start-up", async () => {
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toEqual(expect.arrayContaining(['echo', 'get-sum', 'trigger-long-running-operation']));
    const pinned = rawDb(h.s.app.core)
      .prepare("SELECT reason FROM receipts WHERE event = 'config' AND reason LIKE 'mcp tool pinned:%'")
      .pluck()
      .all();
    expect(pinned).toEqual(expect.arrayContaining(['mcp tool pinned: mcp:everything/echo', 'mcp tool pinned: mcp:everything/get-sum']));
  });

  test('approved: forwarded once, the upstream result returned and witnessed', async () => {
    const call = client.callTool({ name: 'echo', arguments: { message: 'hosted' } }, undefined, held);
    const id = await pendingId(h.s, (p) => p.action === 'mcp:everything/echo');
    expect(await h.s.app.console.getProposal({ id })).toMatchObject({
      ok: true,
      value: { agent: 'hosted-agent', payloadCanonical: '{"message":"hosted"}' },
    });
    await h.s.app.console.approve({ id });
    const r = await call;
    expect(r.content).toEqual([{ type: 'text', text: 'Echo: hosted' }]);
    expect(gate(r)).toMatchObject({ outcome: 'executed', proposal_id: id });
    expect(receipt(h.s, gate(r)['receipt_seq'])).toMatchObject({
      event: 'reported',
      action: 'mcp:everything/echo',
      proposal_id: id,
      agent: 'hosted-agent',
      details: { executed_by: 'client', client: 'mcp-hosted', outcome: 'reported', matched: true, authorised_by: 'proposal' },
    });
    expect(reportedFor(h.s, id)).toBe(1);
    // The agent cannot add an account of its own to the server's, nor pin or gate this server's
    // tools over the proxy routes: only the server forwards to an upstream it hosts.
    const bearer = { authorization: `Bearer ${h.token}` };
    const forged = await post(
      h.s.url,
      '/mcp-proxy/report',
      {
        server: 'everything',
        tool: 'echo',
        arguments: { message: 'hosted' },
        nonce: 'forged-report',
        proposal_id: id,
        outcome: 'reported',
        result: { content: [{ type: 'text', text: 'Echo: something else' }] },
      },
      bearer,
    );
    expect(forged).toMatchObject({ status: 403, body: { code: 'not_allowed', detail: expect.stringContaining('/mcp/everything') } });
    expect(reportedFor(h.s, id)).toBe(1);
    const tools = await post(h.s.url, '/mcp-proxy/tools', { server: 'everything', tools: [{ name: 'echo', inputSchema: {} }] }, bearer);
    expect(tools).toMatchObject({ status: 403, body: { code: 'not_allowed' } });
    expect((await h.s.app.core.toolPins.list()).find((p) => p.action === 'mcp:everything/echo')?.changedHash).toBeNull();
    const defHash = await h.s.app.core.toolPins.hashOf('mcp:everything/echo');
    expect(rawDb(h.s.app.core).prepare('SELECT action_def_hash, context FROM proposals WHERE id = ?').get(id)).toEqual({
      action_def_hash: defHash,
      context: "MCP tools/call through OpenExec's hosted upstream everything (/mcp/everything)",
    });
  });

  test("denied: never forwarded; isError with the operator's reason", async () => {
    const call = client.callTool({ name: 'get-sum', arguments: { a: 1, b: 2 } }, undefined, held);
    const id = await pendingId(h.s, (p) => p.action === 'mcp:everything/get-sum');
    await h.s.app.console.deny({ id, reason: 'no sums today' });
    const r = await call;
    expect(r.isError).toBe(true);
    expect(gate(r)).toEqual({ outcome: 'denied', proposal_id: id, reason: 'no sums today' });
    expect(reportedFor(h.s, id)).toBe(0);
  });

  test('without a progress token: "pending, retry"; the retry joins the same proposal, and another agent\'s does not', async () => {
    const first = await client.callTool({ name: 'get-sum', arguments: { a: 40, b: 2 } });
    expect(gate(first)).toMatchObject({ outcome: 'pending', retry: true });
    const id = gate(first)['proposal_id'] as string;
    const again = await client.callTool({ name: 'get-sum', arguments: { a: 40, b: 2 } });
    expect(gate(again)).toMatchObject({ outcome: 'pending', proposal_id: id });
    const otherToken = await agentToken(h.s, 'other-agent');
    const otherClient = await agentClient({ ...h, token: otherToken });
    try {
      const theirs = await otherClient.callTool({ name: 'get-sum', arguments: { a: 40, b: 2 } });
      expect(gate(theirs)).toMatchObject({ outcome: 'pending' });
      expect(gate(theirs)['proposal_id']).not.toBe(id);
    } finally {
      await otherClient.close();
    }
  });

  test('the upstream crashing mid-call: outcome_unknown in the receipt, never sent again; the next call starts it again', async () => {
    const { id, upstream } = await crashMidCall(h.s, client, h.marker);
    // A later call is a new request needing its own decision, on a freshly started upstream.
    const later = client.callTool({ name: 'echo', arguments: { message: 'after the crash' } }, undefined, held);
    const laterId = await pendingId(h.s, (p) => p.action === 'mcp:everything/echo' && p.payloadCanonical.includes('after the crash'));
    expect(laterId).not.toBe(id);
    await h.s.app.console.approve({ id: laterId });
    expect((await later).content).toEqual([{ type: 'text', text: 'Echo: after the crash' }]);
    const restarted = pidWith(h.marker);
    expect(restarted).not.toBeNull();
    expect(restarted).not.toBe(upstream);
    expect(reportedFor(h.s, id)).toBe(1);
  }, 60_000);

  test('answered as plain JSON unless the call asks for progress, which needs an event stream', async () => {
    const call = (meta: Record<string, unknown>) =>
      fetch(`${h.s.url}/mcp/everything`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${h.token}`,
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          'mcp-protocol-version': '2025-06-18',
        },
        body: JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'tools/list', params: { _meta: meta } }),
      });
    const plain = await call({});
    expect(plain.headers.get('content-type')).toMatch(/^application\/json/);
    expect(((await plain.json()) as { result: { tools: unknown[] } }).result.tools.length).toBeGreaterThan(3);
    const streamed = await call({ progressToken: 'p1' });
    expect(streamed.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(await streamed.text()).toContain('"tools"');
  });

  test('a request without a valid agent token is refused with 401; an unknown upstream with 404', async () => {
    const initialize = {
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'x', version: '1' } },
    };
    const post = (path: string, headers: Record<string, string>) =>
      fetch(`${h.s.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers },
        body: JSON.stringify(initialize),
      });
    expect((await post('/mcp/everything', {})).status).toBe(401);
    expect((await post('/mcp/everything', { authorization: 'Bearer oxa_not-a-token' })).status).toBe(401);
    const revokedToken = await agentToken(h.s, 'revoked-agent');
    await h.s.app.console.revokeAgent({ name: 'revoked-agent' });
    expect((await post('/mcp/everything', { authorization: `Bearer ${revokedToken}` })).status).toBe(401);
    const unknown = await post('/mcp/nothing-here', { authorization: `Bearer ${h.token}` });
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { detail: string }).detail).toContain('No hosted MCP upstream at /mcp/nothing-here');
    expect((await fetch(`${h.s.url}/mcp/everything`)).status).toBe(405);
  });
});

describe('a hosted upstream whose read-only tools run undecided, and a changed tool definition', () => {
  test('read-only calls run with no decision and are witnessed; a changed definition is refused until accepted', async () => {
    const h = await hosting({ OPENEXEC_MCP_READ_ONLY_DIRECT: 'everything' });
    const client = await agentClient(h);
    try {
      const direct = await client.callTool({ name: 'get-sum', arguments: { a: 2, b: 3 } });
      expect(direct.content).toEqual([{ type: 'text', text: 'The sum of 2 and 3 is 5.' }]);
      expect(receipt(h.s, gate(direct)['receipt_seq'])).toMatchObject({
        event: 'reported',
        agent: 'hosted-agent',
        details: { matched: true, authorised_by: 'read-only' },
      });
      // The upstream gets the SDK's default environment and what the operator declared, never OpenExec's own settings.
      const listed = (await client.callTool({ name: 'get-env', arguments: {} })).content as { text: string }[];
      const env = JSON.parse(listed[0]!.text) as Record<string, string>;
      expect(env['HOSTED_BY']).toBe('openexec');
      expect(Object.keys(env).filter((k) => k.startsWith('OPENEXEC_'))).toEqual([]);

      // Claude Desktop starts stdio servers only: `openexec mcp serve --name` relays to /mcp/NAME.
      const relayed = new Client({ name: 'openexec-test', version: '1.0.0' });
      await relayed.connect(
        new StdioClientTransport({
          command: CLI_BIN,
          args: ['mcp', 'serve', '--name', 'everything'],
          env: { ...(process.env as Record<string, string>), OPENEXEC_URL: h.s.url, OPENEXEC_AGENT_TOKEN: h.token },
          stderr: 'pipe',
        }),
      );
      try {
        const viaRelay = await relayed.callTool({ name: 'get-sum', arguments: { a: 20, b: 22 } });
        expect(viaRelay.content).toEqual([{ type: 'text', text: 'The sum of 20 and 22 is 42.' }]);
        expect(receipt(h.s, gate(viaRelay)['receipt_seq'])).toMatchObject({
          agent: 'hosted-agent',
          details: { authorised_by: 'read-only' },
        });
      } finally {
        await relayed.close();
      }

      // What the operator pinned earlier differs from what the upstream offers when it is next started.
      const old = { name: 'echo', description: 'Echoes back the input string (older)', inputSchema: { type: 'object' }, annotations: null };
      rawDb(h.s.app.core)
        .prepare("UPDATE mcp_tool_pins SET definition_hash = ?, definition = ? WHERE action = 'mcp:everything/echo'")
        .run('ab'.repeat(32), JSON.stringify(old));
      const pid = pidWith(h.marker)!;
      process.kill(pid, 'SIGKILL');
      // Reaped by the server, which then sees its connection close; the next call starts it again.
      while (existsSync(`/proc/${pid}`)) await new Promise((r) => setTimeout(r, 20));
      await new Promise((r) => setTimeout(r, 200));
      const refused = await client.callTool({ name: 'echo', arguments: { message: 'x' } });
      expect(refused.isError).toBe(true);
      expect(gate(refused)).toMatchObject({ outcome: 'definition_changed' });
      const accepted = await h.s.app.console.acceptToolDefinition({ action: 'mcp:everything/echo' });
      expect(accepted).toMatchObject({ ok: true, value: { before: 'ab'.repeat(32) } });
      const ok = await client.callTool({ name: 'echo', arguments: { message: 'accepted' } });
      expect(ok.content).toEqual([{ type: 'text', text: 'Echo: accepted' }]);
    } finally {
      await client.close();
      await h.s.stop();
    }
  }, 90_000);
});

describe('OPENEXEC_MCP_UPSTREAMS that cannot be used', () => {
  const dir = tempDir();
  const start = async (yaml: string) => {
    const file = join(tempDir(), 'upstreams.yaml');
    writeFileSync(file, yaml);
    const app = await startOpenExec(loadConfig({ OPENEXEC_PORT: '0', OPENEXEC_DATA_DIR: dir, OPENEXEC_MCP_UPSTREAMS: file }));
    await app.close();
  };

  test('stops start-up with one line naming the variable, the file, the upstream and the field', async () => {
    await expect(start('upstreams:\n  everything:\n    command: node\n')).rejects.toThrow(
      /^OPENEXEC_MCP_UPSTREAMS: .*upstreams\.yaml: upstream 'everything': command: must be an absolute path$/,
    );
    await expect(start(`upstreams:\n  everything:\n    command: ${process.execPath}\n    argz: []\n`)).rejects.toThrow(
      /upstream 'everything': Unrecognized key: "argz"/,
    );
    await expect(start(`upstreams:\n  "bad name":\n    command: ${process.execPath}\n`)).rejects.toThrow(/upstreams\.bad name: /);
    await expect(start('upstreams:\n  remote:\n    url: ftp://127.0.0.1/mcp\n')).rejects.toThrow(
      /upstream 'remote': url: must be an http:\/\/ or https:\/\/ URL/,
    );
    await expect(
      start(`upstreams:\n  everything:\n    command: ${process.execPath}\n    inherit_env: [OPENEXEC_TEST_UNSET_VARIABLE]\n`),
    ).rejects.toThrow(/inherit_env: OPENEXEC_TEST_UNSET_VARIABLE is not set in OpenExec's environment/);
    await expect(start('upstreams: [\n')).rejects.toThrow(/^OPENEXEC_MCP_UPSTREAMS: .*upstreams\.yaml: line \d+: /);
    expect(() => loadConfig({ OPENEXEC_MCP_UPSTREAMS: '/nonexistent/upstreams.yaml' })).toThrow(
      'OPENEXEC_MCP_UPSTREAMS: /nonexistent/upstreams.yaml does not exist',
    );
  });

  test('an upstream that does not start, or lists a tool twice, stops start-up too, and leaves the data directory free', async () => {
    const yaml = 'upstreams:\n  broken:\n    command: /nonexistent/mcp-server\n';
    await expect(start(yaml)).rejects.toThrow(/^OPENEXEC_MCP_UPSTREAMS: MCP upstream 'broken': could not start it \(/);
    const dup = `upstreams:\n  dup:\n    command: ${JSON.stringify(DUPLICATE_TOOLS_UPSTREAM.command)}\n    args: ${JSON.stringify(DUPLICATE_TOOLS_UPSTREAM.args)}\n`;
    await expect(start(dup)).rejects.toThrow(
      "MCP upstream 'dup': could not list its tools (The upstream 'dup' lists the tool 'echo' more than once: refused, nothing pinned",
    );
    const app = await startOpenExec(loadConfig({ OPENEXEC_PORT: '0', OPENEXEC_DATA_DIR: dir }));
    await app.close();
  });
});
