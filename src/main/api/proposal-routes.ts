import { z } from 'zod';
import type { FastifyInstance } from 'fastify';
import type { ProposalService } from '../core/proposals/proposal-service.ts';
import { MAX_TTL_SECONDS } from '../core/proposals/proposal-service.ts';
import type { ProposalRow } from '../core/proposals/proposal-store.ts';
import type { JsonObject } from '../core/json/json-value.ts';
import { Refusal } from '../core/errors.ts';
import type { OpenExecCore } from '../core/openexec-core.ts';
import { jsonInt, jsonObject, parseBody, validateBody } from './json-body.ts';
import { sendRaw } from './reply.ts';
import { issuesFromZod, ValidationRefusal } from './validation-error.ts';
import type { AgentAuth } from './agent-auth.ts';

export const MAX_CONTEXT_CHARS = 4000;
export const MAX_WAIT_SECONDS = 60;

const proposeBody = z.looseObject({
  action: z.string().min(1).max(200),
  payload: jsonObject.nullish(),
  nonce: z.string().min(1).max(256),
  ttl_seconds: jsonInt(1, MAX_TTL_SECONDS).nullish(),
  context: z.string().max(MAX_CONTEXT_CHARS).nullish(),
});

const waitQuery = z.strictObject({ wait: z.coerce.number().min(0).max(MAX_WAIT_SECONDS).optional() });
const idParams = z.strictObject({ id: z.uuid() });

/** What an agent sees of its proposal: snake_case like the rest of the agent API. */
export function proposalWire(row: ProposalRow, legacyReceipt: string | null): string {
  const fields: string[] = [
    `"id":${JSON.stringify(row.id)}`,
    `"status":${JSON.stringify(row.status)}`,
    `"action":${JSON.stringify(row.action)}`,
    `"request_hash":${JSON.stringify(row.request_hash)}`,
    `"action_def_hash":${JSON.stringify(row.action_def_hash)}`,
    `"created_at":${JSON.stringify(row.created_at)}`,
    `"expires_at":${JSON.stringify(row.expires_at)}`,
    `"decided_at":${JSON.stringify(row.decided_at)}`,
    `"reason":${JSON.stringify(row.reason)}`,
    // Canonical text keeps big integers exact; it is valid JSON as it stands.
    `"result":${row.result ?? 'null'}`,
    `"exec_id":${JSON.stringify(row.exec_id)}`,
    `"receipt":${JSON.stringify(legacyReceipt)}`,
    `"receipt_seq":${row.receipt_seq ?? 'null'}`,
  ];
  return `{${fields.join(',')}}`;
}

export function registerProposalRoutes(app: FastifyInstance, proposals: ProposalService, core: OpenExecCore, agentAuth: AgentAuth): void {
  const send = async (reply: Parameters<typeof sendRaw>[0], status: number, row: ProposalRow) =>
    sendRaw(reply, status, proposalWire(row, row.exec_id === null ? null : await core.legacyReceiptOf(row.exec_id)));

  app.post('/proposals', async (req, reply) => {
    const agent = await agentAuth.of(req);
    const body = validateBody(proposeBody, parseBody(req.body));
    const { proposal } = await proposals.submit({
      action: body.action,
      payload: body.payload ?? (Object.create(null) as JsonObject),
      nonce: body.nonce,
      ttlSeconds: body.ttl_seconds ?? null,
      context: body.context ?? null,
      agent,
    });
    await send(reply, 202, proposal);
  });

  app.get('/proposals/:id', async (req, reply) => {
    const agent = await agentAuth.of(req);
    const params = idParams.safeParse(req.params);
    if (!params.success) throw new Refusal('not_found', 'No such proposal');
    const query = waitQuery.safeParse(req.query);
    if (!query.success) throw new ValidationRefusal(issuesFromZod(query.error, req.query, 'query'));
    const row = await proposals.wait(params.data.id, (query.data.wait ?? 0) * 1000);
    // An agent's proposal (and its result) is answered to that agent only.
    if (!row || (row.agent !== null && row.agent !== agent)) throw new Refusal('not_found', `No proposal ${params.data.id}`);
    await send(reply, 200, row);
  });
}
