import { z } from 'zod';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { OpenExecCore } from '../core/openexec-core.ts';
import type { ProposalService } from '../core/proposals/proposal-service.ts';
import { isClientExecuted } from '../core/actions/client-executed.ts';
import { recordClientReport } from '../core/proposals/client-report.ts';
import { isJsonObject, type JsonObject, type JsonValue } from '../core/json/json-value.ts';
import { Refusal } from '../core/errors.ts';
import type { AgentAuth } from '../api/agent-auth.ts';
import { proposalWire } from '../api/proposal-routes.ts';
import { sendJson, sendRaw } from '../api/reply.ts';
import { fromPlainJson } from './plain-json.ts';

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
const reportBody = z.strictObject({
  server,
  tool: toolName,
  arguments: z.record(z.string(), z.unknown()),
  nonce: z.string().min(1).max(256),
  proposal_id: z.uuid().nullable(),
  outcome: z.enum(['reported', 'outcome_unknown']),
  result: z.unknown().nullable(),
});

function json(v: unknown, what: string): JsonObject {
  const j = fromPlainJson(v);
  if (j === undefined || !isJsonObject(j)) throw new Refusal('invalid_request', `${what} must be a JSON object`);
  return j;
}

function parsed<T>(schema: z.ZodType<T>, req: FastifyRequest): T {
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(req.body as Uint8Array).toString('utf8'));
  } catch {
    throw new Refusal('bad_request', 'Request body is not valid JSON');
  }
  const r = schema.safeParse(raw);
  if (!r.success) throw new Refusal('invalid_request', r.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '));
  return r.data;
}

/**
 * What `openexec mcp proxy` asks of the running OpenExec, as an agent with a token: pin the
 * upstream's tool definitions, gate a call (a proposal for `mcp:SERVER/TOOL` bound to the pinned
 * definition, or no decision for a read-only tool of a server the operator named), and witness
 * how the forwarded call ended.
 */
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

export function registerProxyRoutes(
  app: FastifyInstance,
  core: OpenExecCore,
  proposals: ProposalService,
  agentAuth: AgentAuth,
  readOnlyDirect: readonly string[],
): void {
  const agentOf = async (req: FastifyRequest): Promise<string> => {
    const agent = await agentAuth.of(req);
    if (agent === null) throw new Refusal('unauthorized', 'Agent token required for the MCP proxy (Authorization: Bearer <agent-token>)');
    return agent;
  };
  const actionOf = (srv: string, tool: string): string => {
    const action = `mcp:${srv}/${tool}`;
    if (!isClientExecuted(action)) throw new Refusal('invalid_request', `'${action}' is not an MCP tool action name`);
    return action;
  };
  /** A read-only tool (by its pinned definition) of a server the operator named may run undecided. */
  const runsUndecided = async (srv: string, action: string): Promise<boolean> =>
    readOnlyDirect.includes(srv) &&
    (await core.allowList.allowsNow(action)) &&
    ((await core.toolPins.definitionOf(action))?.['annotations'] as { readOnlyHint?: unknown } | null)?.readOnlyHint === true;

  app.post(
    `${PROXY_PATH}/tools`,
    withCodes(async (req, reply) => {
      await agentOf(req);
      const body = parsed(toolsBody, req);
      const tools = [];
      // One after another, in the listing's order: each new pin is a receipt.
      for (const t of body.tools) {
        const action = actionOf(body.server, t.name);
        const definition = json(
          { name: t.name, description: t.description ?? null, inputSchema: t.inputSchema, annotations: t.annotations ?? null },
          'a tool definition',
        );
        const pin = await core.toolPins.observe(action, definition);
        tools.push({
          name: t.name,
          action,
          definition_hash: pin.hash,
          status: pin.status,
          ...(pin.status === 'changed' ? { pinned_hash: pin.pinnedHash } : {}),
        });
      }
      sendJson(reply, 200, { tools });
    }),
  );

  app.post(
    `${PROXY_PATH}/call`,
    withCodes(async (req, reply) => {
      const agent = await agentOf(req);
      const body = parsed(callBody, req);
      const action = actionOf(body.server, body.tool);
      const pinned = await core.toolPins.hashOf(action);
      if (pinned === null) throw new Refusal('not_found', `'${action}' has no pinned definition: the proxy must list it first`);
      if (pinned !== body.definition_hash) {
        throw new Refusal(
          'definition_changed',
          `The definition of '${action}' changed since it was pinned (pinned ${pinned}, now ${body.definition_hash}): refused until the operator accepts it`,
        );
      }
      if (await runsUndecided(body.server, action)) return sendJson(reply, 200, { decision: 'direct' });
      const { proposal } = await proposals.propose({
        action,
        payload: json(body.arguments, 'arguments'),
        nonce: body.nonce,
        context: `MCP tools/call through openexec mcp proxy --name ${body.server}`,
        agent,
      });
      sendRaw(reply, 202, proposalWire(proposal, null));
    }),
  );

  app.post(
    `${PROXY_PATH}/report`,
    withCodes(async (req, reply) => {
      const agent = await agentOf(req);
      const body = parsed(reportBody, req);
      const action = actionOf(body.server, body.tool);
      const proposal = body.proposal_id === null ? null : ((await proposals.get(body.proposal_id)) ?? null);
      if (proposal !== null && proposal.agent !== agent) throw new Refusal('not_found', `No proposal ${body.proposal_id}`);
      const result = body.result === null ? null : fromPlainJson(body.result);
      const receipt = await recordClientReport(core, {
        client: 'mcp-proxy',
        action,
        payload: json(body.arguments, 'arguments'),
        nonce: body.nonce,
        agent,
        proposal,
        outcome: body.outcome,
        result: (result ?? null) as JsonValue | null,
        readOnlyDirect: proposal === null && (await runsUndecided(body.server, action)),
      });
      sendJson(reply, 200, { receipt_seq: receipt.seq });
    }),
  );
}
