import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { AgentAuth } from '../api/agent-auth.ts';
import type { ProposalService } from '../core/proposals/proposal-service.ts';
import { Refusal } from '../core/errors.ts';
import { refused } from './gate-result.ts';
import type { HostedUpstream } from './hosted-upstreams.ts';
import { answerMcp, MCP_PATH, mcpAgentOf, postOnly } from './mcp-http-route.ts';
import type { McpProxy } from './proxy.ts';
import type { ProxyGate } from './proxy-gate.ts';
import { LocalBoundary } from './proxy-local-boundary.ts';

const params = z.strictObject({ name: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/) });

/**
 * Each upstream the server hosts, over streamable HTTP at /mcp/NAME for agents with a token:
 * what `openexec mcp proxy --name NAME` offers on stdio, with the gate and the witness called
 * in-process (LocalBoundary) instead of over two round trips.
 */
export function registerHostedRoutes(
  app: FastifyInstance,
  hosted: ReadonlyMap<string, HostedUpstream>,
  gate: ProxyGate,
  proposals: ProposalService,
  agentAuth: AgentAuth,
): void {
  const path = `${MCP_PATH}/:name`;
  app.post(path, async (req, reply) => {
    const parsed = params.safeParse(req.params);
    const where = `${MCP_PATH}/${parsed.success ? parsed.data.name : '…'}`;
    const agent = await mcpAgentOf(agentAuth, req, where);
    const upstream = parsed.success ? hosted.get(parsed.data.name) : undefined;
    if (upstream === undefined) throw new Refusal('not_found', `No hosted MCP upstream at ${where} (OPENEXEC_MCP_UPSTREAMS)`);
    const boundary = new LocalBoundary(gate, proposals, agent, `OpenExec's hosted upstream ${upstream.name} (${where})`);
    const running = (): Promise<McpProxy | string> =>
      upstream.proxy().catch((err: unknown) => (err instanceof Error ? err.message : String(err)));
    return answerMcp(
      req,
      reply,
      {
        // An upstream that cannot be started again: tools/list answers an error naming why.
        listTools: async () => (await upstream.proxy()).listTools(),
        callTool: async (name, args, progress, signal) => {
          const proxy = await running();
          if (typeof proxy === 'string') return refused('unavailable', `${proxy}; nothing was forwarded`);
          return proxy.callTool(boundary, name, args, progress, signal);
        },
      },
      where,
    );
  });
  postOnly(app, path);
}
