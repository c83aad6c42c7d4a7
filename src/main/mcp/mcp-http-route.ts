import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AgentAuth } from '../api/agent-auth.ts';
import { Refusal } from '../core/errors.ts';
import { sendDetail } from '../api/reply.ts';
import type { McpGateway } from './gateway.ts';
import { serveStreamableHttp, type ToolHandlers } from './sdk-adapter.ts';
import { tooDeep } from './plain-json.ts';

export const MCP_PATH = '/mcp';

/** The verified agent of an MCP request: an anonymous MCP client is refused even when tokens are optional elsewhere. */
export async function mcpAgentOf(agentAuth: AgentAuth, req: FastifyRequest, path: string): Promise<string> {
  const agent = await agentAuth.of(req);
  if (agent === null) throw new Refusal('unauthorized', `Agent token required at ${path} (Authorization: Bearer <agent-token>)`);
  return agent;
}

/** One authenticated streamable HTTP request, stateless, answered by `handlers`. */
export async function answerMcp(req: FastifyRequest, reply: FastifyReply, handlers: ToolHandlers, path: string): Promise<unknown> {
  let body: unknown;
  try {
    body = JSON.parse(Buffer.from(req.body as Uint8Array).toString('utf8'));
  } catch {
    return sendDetail(reply, 'bad_request', 'Request body is not valid JSON');
  }
  const deep = tooDeep(body);
  if (deep !== null) return sendDetail(reply, 'invalid_request', deep);
  reply.hijack();
  try {
    await serveStreamableHttp(handlers, req.raw, reply.raw, body);
  } catch (err) {
    // The reply is ours now (hijacked): answer a failure ourselves, never leave it hanging.
    process.stderr.write(`openexec: ${path} error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    if (!reply.raw.headersSent) reply.raw.writeHead(500, { 'content-type': 'application/json' });
    if (!reply.raw.writableEnded) reply.raw.end(JSON.stringify({ detail: 'Internal Server Error' }));
  }
  return undefined;
}

/** Stateless: no server-initiated stream and no session to end. */
export function postOnly(app: FastifyInstance, path: string): void {
  const notHere = (_req: unknown, reply: Parameters<typeof sendDetail>[0]) =>
    void reply.code(405).header('allow', 'POST').send({ detail: 'Method Not Allowed: POST only' });
  app.get(path, notHere);
  app.delete(path, notHere);
}

/** The gateway over streamable HTTP at /mcp, for agents with a token only. */
export function registerMcpRoute(app: FastifyInstance, gateway: McpGateway, agentAuth: AgentAuth): void {
  app.post(MCP_PATH, async (req, reply) => {
    const agent = await mcpAgentOf(agentAuth, req, MCP_PATH);
    return answerMcp(
      req,
      reply,
      {
        listTools: () => gateway.listTools(),
        callTool: (name, args, progress, signal) => gateway.callTool(agent, name, args, progress, signal),
      },
      MCP_PATH,
    );
  });
  postOnly(app, MCP_PATH);
}
