import { z } from 'zod';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Refusal } from '../core/errors.ts';
import type { AgentAuth } from '../api/agent-auth.ts';
import { proposalWire } from '../api/proposal-routes.ts';
import { sendJson, sendRaw } from '../api/reply.ts';
import type { ProxyGate } from './proxy-gate.ts';
import { MCP_PATH } from './mcp-http-route.ts';
import { tooDeep } from './plain-json.ts';

export const PROXY_PATH = '/mcp-proxy';

const server = z.string().regex(/^[A-Za-z0-9._-]{1,64}$/);
const toolName = z.string().regex(/^[A-Za-z0-9_.\-/]{1,128}$/);
const hash = z.string().regex(/^[0-9a-f]{64}$/);
const toolsBody = z.strictObject({
  server,
  tools: z
    .array(
      z.looseObject({
        name: toolName,
        description: z.string().optional(),
        inputSchema: z.record(z.string(), z.unknown()),
        annotations: z.record(z.string(), z.unknown()).optional(),
      }),
    )
    .max(1000),
});
const callBody = z.strictObject({
  server,
  tool: toolName,
  arguments: z.record(z.string(), z.unknown()),
  definition_hash: hash,
  nonce: z.string().min(1).max(256),
});
const forwardedBody = z.strictObject({ server, proposal_id: z.uuid() });
const reportBody = z.strictObject({
  server,
  tool: toolName,
  arguments: z.record(z.string(), z.unknown()),
  nonce: z.string().min(1).max(256),
  proposal_id: z.uuid().nullable(),
  outcome: z.enum(['reported', 'outcome_unknown']),
  result: z.unknown().nullable(),
});

function parsed<T>(schema: z.ZodType<T>, req: FastifyRequest): T {
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(req.body as Uint8Array).toString('utf8'));
  } catch {
    throw new Refusal('bad_request', 'Request body is not valid JSON');
  }
  const deep = tooDeep(raw);
  if (deep !== null) throw new Refusal('invalid_request', deep);
  const r = schema.safeParse(raw);
  if (!r.success) throw new Refusal('invalid_request', r.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '));
  return r.data;
}

/** Refusals here carry their code as well, so that the proxy can name the outcome. */
function withCodes(
  handler: (req: FastifyRequest, reply: FastifyReply) => Promise<unknown>,
): (req: FastifyRequest, reply: FastifyReply) => Promise<void> {
  return async (req, reply) => {
    try {
      await handler(req, reply);
    } catch (err) {
      if (!(err instanceof Refusal)) throw err;
      sendJson(reply, err.status, { detail: err.detail, code: err.code });
    }
  };
}

/**
 * What `openexec mcp proxy` asks of the running OpenExec, as an agent with a token: pin the
 * upstream's tool definitions (a listing naming a tool twice is refused, 422), gate a call (a
 * proposal for `mcp:SERVER/TOOL` bound to the pinned definition, or no decision for a read-only
 * tool of a server the operator named), witness how the forwarded call ended, and say whether a
 * call was already forwarded under a proposal's approval (the same ProxyGate a hosted upstream calls in-process). A server
 * this OpenExec hosts (`hosted`) is refused here: only the server forwards to it, so an agent
 * has no definitions to pin for it, no call to gate and no outcome to report (a report of its
 * own would stand beside the server's account of the same approval).
 */
export function registerProxyRoutes(app: FastifyInstance, gate: ProxyGate, agentAuth: AgentAuth, hosted: ReadonlySet<string>): void {
  const agentOf = async (req: FastifyRequest): Promise<string> => {
    const agent = await agentAuth.of(req);
    if (agent === null) throw new Refusal('unauthorized', 'Agent token required for the MCP proxy (Authorization: Bearer <agent-token>)');
    return agent;
  };
  const notHosted = <T extends { server: string }>(body: T): T => {
    if (hosted.has(body.server)) {
      throw new Refusal(
        'not_allowed',
        `'${body.server}' is an upstream this OpenExec hosts: call it at ${MCP_PATH}/${body.server}, not through ${PROXY_PATH}`,
      );
    }
    return body;
  };

  app.post(
    `${PROXY_PATH}/tools`,
    withCodes(async (req, reply) => {
      await agentOf(req);
      const body = notHosted(parsed(toolsBody, req));
      sendJson(reply, 200, { tools: await gate.pin(body.server, body.tools) });
    }),
  );

  app.post(
    `${PROXY_PATH}/call`,
    withCodes(async (req, reply) => {
      const agent = await agentOf(req);
      const body = notHosted(parsed(callBody, req));
      const decided = await gate.call(agent, body, `openexec mcp proxy --name ${body.server}`);
      if (decided.decision === 'direct') return sendJson(reply, 200, { decision: 'direct' });
      sendRaw(reply, 202, proposalWire(decided.proposal, null));
    }),
  );

  app.post(
    `${PROXY_PATH}/forwarded`,
    withCodes(async (req, reply) => {
      const agent = await agentOf(req);
      const body = notHosted(parsed(forwardedBody, req));
      sendJson(reply, 200, { forwarded: await gate.forwarded(agent, body.server, body.proposal_id) });
    }),
  );

  app.post(
    `${PROXY_PATH}/report`,
    withCodes(async (req, reply) => {
      const agent = await agentOf(req);
      const body = notHosted(parsed(reportBody, req));
      sendJson(reply, 200, { receipt_seq: await gate.report(agent, { ...body, result: body.result ?? null }, 'mcp-proxy') });
    }),
  );
}
