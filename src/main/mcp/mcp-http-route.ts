import type { FastifyInstance } from 'fastify';
import type { AgentAuth } from '../api/agent-auth.ts';
import { Refusal } from '../core/errors.ts';
import { sendDetail } from '../api/reply.ts';
import type { McpGateway } from './gateway.ts';
import { serveStreamableHttp } from './sdk-adapter.ts';

export const MCP_PATH = '/mcp';

/**
 * The gateway over streamable HTTP at /mcp, stateless, for agents with a token only (an
 * anonymous MCP client is refused even when tokens are optional elsewhere).
 */
export function registerMcpRoute(app: FastifyInstance, gateway: McpGateway, agentAuth: AgentAuth): void {
  app.post(MCP_PATH, async (req, reply) => {
    const agent = await agentAuth.of(req);
    if (agent === null) throw new Refusal('unauthorized', 'Agent token required at /mcp (Authorization: Bearer <agent-token>)');
    let body: unknown;
    try {
      body = JSON.parse(Buffer.from(req.body as Uint8Array).toString('utf8'));
    } catch {
      return sendDetail(reply, 'bad_request', 'Request body is not valid JSON');
    }
    reply.hijack();
    try {
      await serveStreamableHttp(
        {
          listTools: () => gateway.listTools(),
          callTool: (name, args, progress, signal) => gateway.callTool(agent, name, args, progress, signal),
        },
        req.raw,
        reply.raw,
        body,
      );
    } catch (err) {
      // The reply is ours now (hijacked): answer a failure ourselves, never leave it hanging.
      process.stderr.write(`openexec: /mcp error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      if (!reply.raw.headersSent) reply.raw.writeHead(500, { 'content-type': 'application/json' });
      if (!reply.raw.writableEnded) reply.raw.end(JSON.stringify({ detail: 'Internal Server Error' }));
    }
  });
  // Stateless: no server-initiated stream and no session to end.
  const notHere = (_req: unknown, reply: Parameters<typeof sendDetail>[0]) =>
    void reply.code(405).header('allow', 'POST').send({ detail: 'Method Not Allowed: POST only' });
  app.get(MCP_PATH, notHere);
  app.delete(MCP_PATH, notHere);
}
