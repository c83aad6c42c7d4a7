import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { connectUpstream, type Upstream } from '../../src/main/mcp/sdk-adapter.ts';
import { McpProxy, type ProposalState, type ProxyBoundary } from '../../src/main/mcp/proxy.ts';
import { AgentHttp } from '../../src/main/mcp/agent-http.ts';
import { HttpBoundary } from '../../src/main/mcp/proxy-http-boundary.ts';
import { LocalBoundary } from '../../src/main/mcp/proxy-local-boundary.ts';
import { ProxyGate, type ProxyCall, type ProxyReport } from '../../src/main/mcp/proxy-gate.ts';
import type { ToolDescriptor } from '../../src/main/mcp/gate-result.ts';
import { post, startServer, type RunningServer, agentToken } from '../support/harness.ts';
import { pendingId } from '../support/pending.ts';
import { EVERYTHING, gate, reportedFor } from '../support/mcp-upstream.ts';

/**
 * A real boundary that counts the proxy's questions about used approvals and, while `late`,
 * holds back a decided proposal's state: a retry whose answer comes in after other calls.
 */
class Observed implements ProxyBoundary {
  asked = 0;
  private open: () => void = () => {};
  private readonly opened: Promise<void>;

  constructor(
    private readonly inner: ProxyBoundary,
    late: boolean,
  ) {
    this.opened = late ? new Promise((r) => (this.open = r)) : Promise.resolve();
  }

  get caller(): string {
    return this.inner.caller;
  }
  pin(server: string, tools: ToolDescriptor[]) {
    return this.inner.pin(server, tools);
  }
  gate(call: ProxyCall) {
    return this.inner.gate(call);
  }
  async wait(id: string, ms: number): Promise<ProposalState> {
    const row = await this.inner.wait(id, ms);
    if (row.status !== 'pending') await this.opened;
    return row;
  }
  report(report: ProxyReport) {
    return this.inner.report(report);
  }
  forwarded(server: string, proposalId: string) {
    this.asked++;
    return this.inner.forwarded(server, proposalId);
  }
  release(): void {
    this.open();
  }
}

const never = new AbortController().signal;
const keepWaiting = async () => {};

describe('an approval is forwarded once, even after the proxy has forgotten it', () => {
  let s: RunningServer;
  let token: string;
  let upstream: Upstream;
  beforeAll(async () => {
    s = await startServer({ OPENEXEC_MODE: 'clawshield', OPENEXEC_ALLOWED_ACTIONS: 'mcp:everything/*' });
    token = await agentToken(s, 'proxied-agent');
    upstream = await connectUpstream({ command: process.execPath, args: [EVERYTHING, 'stdio'] });
  }, 60_000);
  afterAll(async () => {
    await upstream.close();
    await s.stop();
  });

  const boundaries: Record<string, () => ProxyBoundary> = {
    'openexec mcp proxy (HTTP)': () => new HttpBoundary(new AgentHttp(s.url, token), 'everything'),
    'a hosted upstream (in-process)': () =>
      new LocalBoundary(new ProxyGate(s.app.core, s.app.proposals, []), s.app.proposals, 'proxied-agent', 'a test'),
  };

  test.each(Object.keys(boundaries))(
    'through %s',
    async (kind) => {
      const boundary = boundaries[kind]!();
      // Remembers one witnessed forward: the second approval pushes the first out of memory.
      const proxy = new McpProxy('everything', upstream, 300, 1);
      await proxy.pin(boundary);
      const message = `once through ${kind}`;
      const first = await proxy.callTool(boundary, 'echo', { message }, null, never);
      expect(gate(first)).toMatchObject({ outcome: 'pending', retry: true });
      const id = gate(first)['proposal_id'] as string;

      // Two identical retries join the proposal; the answer of one of them comes late.
      const late = new Observed(boundary, true);
      const lateRetry = proxy.callTool(late, 'echo', { message }, keepWaiting, never);
      const counted = new Observed(boundary, false);
      const retry = proxy.callTool(counted, 'echo', { message }, keepWaiting, never);
      await s.app.console.approve({ id });
      const ran = await retry;
      expect(ran.content).toEqual([{ type: 'text', text: `Echo: ${message}` }]);
      expect(gate(ran)).toMatchObject({ outcome: 'executed', proposal_id: id });
      expect(counted.asked).toBe(0); // nothing forgotten yet: memory answers

      const other = proxy.callTool(counted, 'echo', { message: `other ${message}` }, keepWaiting, never);
      await s.app.console.approve({ id: await pendingId(s, (p) => p.payloadCanonical.includes(`other ${message}`)) });
      expect(gate(await other)).toMatchObject({ outcome: 'executed' });

      // The first approval is forgotten now; the late retry must still not forward it again.
      late.release();
      const refused = await lateRetry;
      expect(refused.isError).toBe(true);
      expect(gate(refused)).toMatchObject({ outcome: 'approval_used' });
      expect(late.asked).toBe(1);
      expect(reportedFor(s, id)).toBe(1);

      // A fresh approval the proxy does not remember is asked about, and forwarded.
      const third = proxy.callTool(counted, 'echo', { message: `third ${message}` }, keepWaiting, never);
      await s.app.console.approve({ id: await pendingId(s, (p) => p.payloadCanonical.includes(`third ${message}`)) });
      expect((await third).content).toEqual([{ type: 'text', text: `Echo: third ${message}` }]);
      expect(counted.asked).toBe(1);
    },
    60_000,
  );

  test("POST /mcp-proxy/forwarded answers for the agent's own proposals only", async () => {
    const boundary = boundaries['openexec mcp proxy (HTTP)']!();
    const proxy = new McpProxy('everything', upstream, 300);
    await proxy.pin(boundary);
    const call = proxy.callTool(boundary, 'echo', { message: 'asked about' }, keepWaiting, never);
    const id = await pendingId(s, (p) => p.payloadCanonical.includes('asked about'));
    const bearer = { authorization: `Bearer ${token}` };
    expect(await post(s.url, '/mcp-proxy/forwarded', { server: 'everything', proposal_id: id }, bearer)).toMatchObject({
      status: 200,
      body: { forwarded: false },
    });
    await s.app.console.approve({ id });
    expect(gate(await call)).toMatchObject({ outcome: 'executed', proposal_id: id });
    expect(await post(s.url, '/mcp-proxy/forwarded', { server: 'everything', proposal_id: id }, bearer)).toMatchObject({
      status: 200,
      body: { forwarded: true },
    });
    const otherToken = await agentToken(s, 'other-agent');
    const theirs = await post(
      s.url,
      '/mcp-proxy/forwarded',
      { server: 'everything', proposal_id: id },
      {
        authorization: `Bearer ${otherToken}`,
      },
    );
    expect(theirs).toMatchObject({ status: 404, body: { code: 'not_found' } });
    expect(await post(s.url, '/mcp-proxy/forwarded', { server: 'elsewhere', proposal_id: id }, bearer)).toMatchObject({ status: 404 });
    expect(await post(s.url, '/mcp-proxy/forwarded', { server: 'everything', proposal_id: 'x' }, bearer)).toMatchObject({
      status: 422,
      body: { code: 'invalid_request' },
    });
  });
});
