import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { post, startServer, type RunningServer, agentToken } from '../support/harness.ts';

/** A JSON text nesting `depth` arrays, spliced into a body where the placeholder string stands. */
const DEEP = '"@deep@"';
const nested = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);
const withDeep = (body: unknown, depth: number) => JSON.stringify(body).replace(DEEP, nested(depth));

describe('MCP routes: JSON nested beyond 512 levels is a 4xx with detail, never an internal error', () => {
  let s: RunningServer;
  let auth: Record<string, string>;
  let definitionHash: string;
  beforeAll(async () => {
    s = await startServer({ OPENEXEC_MODE: 'clawshield', OPENEXEC_ALLOWED_ACTIONS: 'mcp:srv/*,echo' });
    const token = await agentToken(s, 'deep');
    auth = { authorization: `Bearer ${token}` };
    const pinned = await post(s.url, '/mcp-proxy/tools', { server: 'srv', tools: [{ name: 't', inputSchema: {} }] }, auth);
    definitionHash = pinned.body.tools[0].definition_hash;
  });
  afterAll(() => s.stop());

  const proxyBodies = () => ({
    '/mcp-proxy/tools': { server: 'srv', tools: [{ name: 'u', inputSchema: { x: '@deep@' } }] },
    '/mcp-proxy/call': { server: 'srv', tool: 't', arguments: { a: '@deep@' }, definition_hash: definitionHash, nonce: 'deep-1' },
    '/mcp-proxy/report': {
      server: 'srv',
      tool: 't',
      arguments: {},
      nonce: 'deep-2',
      proposal_id: null,
      outcome: 'reported',
      result: '@deep@',
    },
  });

  test('/mcp-proxy/*: 422 invalid_request naming the limit; 512 levels still pass', async () => {
    for (const [path, body] of Object.entries(proxyBodies())) {
      const r = await post(s.url, path, withDeep(body, 100_000), auth);
      expect({ path, status: r.status, body: r.body }).toMatchObject({
        path,
        status: 422,
        body: { code: 'invalid_request', detail: expect.stringContaining('512') },
      });
    }
    const ok = await post(s.url, '/mcp-proxy/report', withDeep(proxyBodies()['/mcp-proxy/report'], 510), auth);
    expect(ok.status).toBe(200);
  });

  test('/mcp: 422 with detail before the call reaches the gateway', async () => {
    const body = { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', arguments: { a: '@deep@' } } };
    const r = await post(s.url, '/mcp', withDeep(body, 100_000), { ...auth, accept: 'application/json, text/event-stream' });
    expect(r).toMatchObject({ status: 422, body: { detail: expect.stringContaining('512') } });
  });
});
