import { z } from 'zod';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { OpenExecCore } from '../core/openexec-core.ts';
import { approvalArtifactSchema } from '../core/approval/approval-artifact.ts';
import { isJsonObject, type JsonObject, type JsonValue } from '../core/json/json-value.ts';
import { pythonJsonDumpsSorted } from '../core/json/canonical.ts';
import { publicKeyToPem } from '../core/crypto/ed25519.ts';
import type { ExecuteOutcome } from '../core/engine/engine.ts';
import { Refusal } from '../core/errors.ts';
import { APP_VERSION } from '../core/version.ts';
import { jsonObject, parseBody, validateBody } from './json-body.ts';
import { sendJson, sendRaw } from './reply.ts';
import { noteReceipt } from './request-log.ts';
import type { AgentAuth } from './agent-auth.ts';

// Pydantic ignored unknown fields; so do we (loose objects).
export const executeBody = z.looseObject({
  action: z.string().min(1).max(200),
  payload: jsonObject.nullish(),
  nonce: z.string().min(1).max(256),
  approval_artifact: approvalArtifactSchema.nullish(),
});

/**
 * As the Python model declares it: `result` is the result's JSON text exactly as the legacy
 * receipt hashed it (`json.dumps(result, sort_keys=True)`). A JSON object is accepted as well
 * (our extension) and stands for that text.
 */
const verifyBody = z.looseObject({
  exec_id: z.string(),
  result: z.custom<string | JsonObject>((v) => typeof v === 'string' || isJsonObject(v as JsonValue), {
    message: 'Input should be a valid string',
    params: { type: 'string_type' },
  }),
  receipt: z.string(),
});

/** Python's datetime.utcnow().isoformat(): naive UTC with microseconds. */
function pythonUtcNow(ms: number): string {
  return new Date(ms).toISOString().replace('Z', '000');
}

function sendOutcome(reply: FastifyReply, outcome: ExecuteOutcome): void {
  if (outcome.kind === 'refused') throw new Refusal(outcome.code, outcome.detail);
  const a = outcome.answer;
  // The result is written as canonical JSON text so integers of any size reach the agent exact.
  sendRaw(
    reply,
    200,
    `{"id":${JSON.stringify(a.id)},"action":${JSON.stringify(a.action)},"result":${a.resultCanonical},"approved":${a.approved},"receipt":${JSON.stringify(a.receipt)}}`,
  );
}

/** The surface the Python service offered (protocol §3), answer for answer. */
export function registerCompatRoutes(app: FastifyInstance, core: OpenExecCore, agentAuth: AgentAuth): void {
  app.get('/', (_req, reply) => sendJson(reply, 200, { service: 'OpenExec', status: 'running', version: APP_VERSION }));

  app.get('/health', (_req, reply) => {
    const list = core.allowList.list();
    sendJson(reply, 200, {
      status: 'healthy',
      exec_mode: core.engine.mode,
      signature_verification: core.engine.mode === 'clawshield' ? 'enabled' : 'disabled',
      restriction: list === null ? 'open' : 'restricted',
      ...(list === null ? { warning: 'No execution allow-list configured' } : { allow_list: list }),
    });
  });

  app.get('/ready', (_req, reply) => sendJson(reply, 200, { ready: true }));

  app.get('/version', (_req, reply) => sendJson(reply, 200, { version: APP_VERSION, timestamp: pythonUtcNow(core.clock.now()) }));

  app.post('/execute', async (req, reply) => {
    const agent = await agentAuth.of(req);
    const body = validateBody(executeBody, parseBody(req.body));
    const outcome = await core.engine.execute({
      action: body.action,
      payload: body.payload ?? (Object.create(null) as JsonObject),
      nonce: body.nonce,
      artifact: body.approval_artifact ?? null,
      agent,
    });
    if (outcome.receiptSeq !== undefined) noteReceipt(req, outcome.receiptSeq);
    sendOutcome(reply, outcome);
  });

  app.post('/receipts/verify', async (req, reply) => {
    const body = validateBody(verifyBody, parseBody(req.body));
    const resultJson = typeof body.result === 'string' ? body.result : pythonJsonDumpsSorted(body.result);
    sendJson(reply, 200, { valid: await core.verifyLegacyReceipt(body.exec_id, resultJson, body.receipt) });
  });

  app.get('/receipts/public-key', (_req, reply) =>
    sendJson(reply, 200, {
      algorithm: 'Ed25519',
      key_id: core.receiptVerifier.keyId,
      public_key_pem: publicKeyToPem(core.receiptVerifier.publicKey),
    }),
  );
}
