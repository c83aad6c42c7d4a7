import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { randomUUID } from 'node:crypto';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { post, startServer, tempDir, type RunningServer, agentToken } from '../support/harness.ts';
import { pendingId } from '../support/pending.ts';
import { CLI_BIN, cliWithEnv } from '../support/cli.ts';
import { rawDb } from '../support/raw-db.ts';
import { crashMidCall, DUPLICATE_TOOLS_UPSTREAM, EVERYTHING, gate, held, receipt, reportedFor } from '../support/mcp-upstream.ts';

interface Proxied {
  client: Client;
  /** Passed to the upstream as an ignored argument, to find its process. */
  marker: string;
}

async function proxied(s: RunningServer, token: string, hold = '1'): Promise<Proxied> {
  const marker = `upstream-${randomUUID()}`;
  const client = new Client({ name: 'openexec-test', version: '1.0.0' });
  await client.connect(
    new StdioClientTransport({
      command: CLI_BIN,
      args: ['mcp', 'proxy', '--name', 'everything', '--', process.execPath, EVERYTHING, 'stdio', marker],
      env: {
        ...(process.env as Record<string, string>),
        OPENEXEC_DATA_DIR: tempDir(),
        OPENEXEC_URL: s.url,
        OPENEXEC_AGENT_TOKEN: token,
        OPENEXEC_MCP_HOLD_SECONDS: hold,
      },
      stderr: 'pipe',
    }),
  );
  return { client, marker };
}

describe('openexec mcp proxy in front of @modelcontextprotocol/server-everything', () => {
  let s: RunningServer;
  let token: string;
  let p: Proxied;
  beforeAll(async () => {
    s = await startServer({ OPENEXEC_MODE: 'clawshield', OPENEXEC_ALLOWED_ACTIONS: 'mcp:everything/*' });
    token = await agentToken(s, 'proxied-agent');
    p = await proxied(s, token);
  }, 60_000);
  afterAll(async () => {
    await p.client.close();
    await s.stop();
  });

  test("the upstream's tools are listed and each definition is pinned with a config receipt", async () => {
    const { tools } = await p.client.listTools();
    expect(tools.map((t) => t.name)).toEqual(expect.arrayContaining(['echo', 'get-sum', 'trigger-long-running-operation']));
    const pinned = rawDb(s.app.core)
      .prepare("SELECT reason FROM receipts WHERE event = 'config' AND reason LIKE 'mcp tool pinned:%'")
      .pluck()
      .all();
    expect(pinned).toEqual(expect.arrayContaining(['mcp tool pinned: mcp:everything/echo', 'mcp tool pinned: mcp:everything/get-sum']));
  });

  test('approved: forwarded once, the upstream result returned and witnessed as reported by the client', async () => {
    const call = p.client.callTool({ name: 'echo', arguments: { message: 'through the boundary' } }, undefined, held);
    const id = await pendingId(s, (p) => p.action === 'mcp:everything/echo');
    expect(await s.app.console.getProposal({ id })).toMatchObject({
      ok: true,
      value: { agent: 'proxied-agent', payloadCanonical: '{"message":"through the boundary"}' },
    });
    await s.app.console.approve({ id });
    const r = await call;
    expect(r.content).toEqual([{ type: 'text', text: 'Echo: through the boundary' }]);
    expect(gate(r)).toMatchObject({ outcome: 'executed', proposal_id: id });
    expect(receipt(s, gate(r)['receipt_seq'])).toMatchObject({
      event: 'reported',
      action: 'mcp:everything/echo',
      proposal_id: id,
      agent: 'proxied-agent',
      details: { executed_by: 'client', client: 'mcp-proxy', outcome: 'reported', matched: true, authorised_by: 'proposal' },
    });
    const defHash = await s.app.core.toolPins.hashOf('mcp:everything/echo');
    expect(rawDb(s.app.core).prepare('SELECT action_def_hash FROM proposals WHERE id = ?').pluck().get(id)).toBe(defHash);
  });

  test("denied: never forwarded; isError with the operator's reason", async () => {
    const call = p.client.callTool({ name: 'get-sum', arguments: { a: 1, b: 2 } }, undefined, held);
    const id = await pendingId(s, (p) => p.action === 'mcp:everything/get-sum');
    await s.app.console.deny({ id, reason: 'no sums today' });
    const r = await call;
    expect(r.isError).toBe(true);
    expect(gate(r)).toEqual({ outcome: 'denied', proposal_id: id, reason: 'no sums today' });
    expect(rawDb(s.app.core).prepare("SELECT count(*) FROM receipts WHERE event = 'reported' AND proposal_id = ?").pluck().get(id)).toBe(0);
  });

  test('expired: "pending, retry" first; the retry joins the proposal, which has expired', async () => {
    const first = await p.client.callTool({ name: 'get-sum', arguments: { a: 40, b: 2 } });
    expect(gate(first)).toMatchObject({ outcome: 'pending', retry: true });
    const id = gate(first)['proposal_id'] as string;
    rawDb(s.app.core).prepare("UPDATE proposals SET expires_at = '2000-01-01T00:00:00.000Z' WHERE id = ?").run(id);
    const again = await p.client.callTool({ name: 'get-sum', arguments: { a: 40, b: 2 } });
    expect(gate(again)).toMatchObject({ outcome: 'expired', proposal_id: id });
  });

  test('the upstream crashing mid-call: outcome_unknown in the receipt, and the call is never sent again', async () => {
    const { id } = await crashMidCall(s, p.client, p.marker);
    // Nothing resends it: the proxy is still there, and a later call is a new request needing its own decision.
    const later = await p.client.callTool({ name: 'echo', arguments: { message: 'after the crash' } });
    expect(gate(later)).toMatchObject({ outcome: 'pending' });
    expect(gate(later)['proposal_id']).not.toBe(id);
    expect(reportedFor(s, id)).toBe(1);
  }, 60_000);

  test('an upstream whose listing names a tool twice is refused at start-up, and so is such a listing at /mcp-proxy/tools', async () => {
    const run = await cliWithEnv(
      { OPENEXEC_DATA_DIR: tempDir(), OPENEXEC_URL: s.url, OPENEXEC_AGENT_TOKEN: token },
      'mcp',
      'proxy',
      '--name',
      'dup',
      '--',
      DUPLICATE_TOOLS_UPSTREAM.command,
      ...DUPLICATE_TOOLS_UPSTREAM.args,
    );
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain("The upstream 'dup' lists the tool 'echo' more than once: refused, nothing pinned");
    // The server refuses it by itself too, whole: not even the tool listed between the two is pinned.
    const tool = (name: string, description: string) => ({ name, description, inputSchema: { type: 'object' } });
    const listing = { server: 'dup', tools: [tool('echo', 'Echoes'), tool('ping', 'Pongs'), tool('echo', 'Deletes')] };
    const refused = await post(s.url, '/mcp-proxy/tools', listing, { authorization: `Bearer ${token}` });
    expect(refused).toMatchObject({
      status: 422,
      body: { code: 'invalid_request', detail: expect.stringContaining("lists the tool 'echo' more than once") },
    });
    expect((await s.app.core.toolPins.list()).filter((p) => p.action.startsWith('mcp:dup/'))).toEqual([]);
  }, 30_000);
});

describe('a changed upstream tool definition', () => {
  test('is refused until the operator accepts it (a config receipt); read-only tools may run undecided where the operator said so', async () => {
    const s = await startServer({
      OPENEXEC_MODE: 'clawshield',
      OPENEXEC_ALLOWED_ACTIONS: 'mcp:everything/*',
      OPENEXEC_MCP_READ_ONLY_DIRECT: 'everything',
    });
    try {
      const token = await agentToken(s, 'proxied-agent');
      const first = await proxied(s, token);
      // Read-only (the pinned readOnlyHint) and the operator named this server: no decision, still a receipt.
      const direct = await first.client.callTool({ name: 'get-sum', arguments: { a: 2, b: 3 } });
      expect(direct.content).toEqual([{ type: 'text', text: 'The sum of 2 and 3 is 5.' }]);
      expect(receipt(s, gate(direct)['receipt_seq'])).toMatchObject({
        event: 'reported',
        details: { matched: true, authorised_by: 'read-only' },
      });
      await first.client.close();

      // What the operator pinned earlier differs from what the upstream offers now.
      const old = { name: 'echo', description: 'Echoes back the input string (older)', inputSchema: { type: 'object' }, annotations: null };
      rawDb(s.app.core)
        .prepare("UPDATE mcp_tool_pins SET definition_hash = ?, definition = ? WHERE action = 'mcp:everything/echo'")
        .run('ab'.repeat(32), JSON.stringify(old));
      const second = await proxied(s, token);
      try {
        const refused = await second.client.callTool({ name: 'echo', arguments: { message: 'x' } });
        expect(refused.isError).toBe(true);
        expect(gate(refused)).toMatchObject({ outcome: 'definition_changed' });
        const accepted = await s.app.console.acceptToolDefinition({ action: 'mcp:everything/echo' });
        expect(accepted).toMatchObject({ ok: true, value: { before: 'ab'.repeat(32) } });
        const config = rawDb(s.app.core)
          .prepare("SELECT reason FROM receipts WHERE event = 'config' ORDER BY seq DESC LIMIT 1")
          .pluck()
          .get();
        expect(config).toBe('mcp tool definition accepted: mcp:everything/echo');
        const ok = await second.client.callTool({ name: 'echo', arguments: { message: 'accepted' } });
        expect(ok.content).toEqual([{ type: 'text', text: 'Echo: accepted' }]);
      } finally {
        await second.client.close();
      }
    } finally {
      await s.stop();
    }
  }, 90_000);
});
