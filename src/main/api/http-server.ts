import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import type { OpenExecCore } from '../core/openexec-core.ts';
import { Refusal } from '../core/errors.ts';
import { checkRequestOrigin } from './request-guard.ts';
import { BODY_LIMIT_BYTES } from './json-body.ts';
import { registerCompatRoutes } from './compat-routes.ts';
import { sendDetail, sendJson, sendRaw } from './reply.ts';
import { validationBody, ValidationRefusal } from './validation-error.ts';
import { storageFullDetail } from '../core/store/storage-full.ts';
import { AgentAuth } from './agent-auth.ts';

export interface HttpServerOptions {
  /** Host names accepted in the Host header besides loopback ones (a non-loopback bind). */
  extraHosts?: readonly string[];
  /** Further routes (proposals, console) registered by later layers. */
  register?: (app: FastifyInstance) => void;
  /** Who is calling agent routes; by default tokens are checked when given, and optional. */
  agentAuth?: AgentAuth;
}

/**
 * The loopback API. Bodies are taken as raw bytes and parsed by our lossless parser, so the
 * hash an approver signed is computed from exactly what the agent sent.
 */
export function createHttpServer(core: OpenExecCore, options: HttpServerOptions = {}): FastifyInstance {
  const app = Fastify({ logger: false, bodyLimit: BODY_LIMIT_BYTES, return503OnClosing: true });
  const extraHosts = (options.extraHosts ?? []).map((h) => h.toLowerCase());

  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  app.addHook('onRequest', async (req, reply) => {
    const verdict = checkRequestOrigin({ host: req.headers.host, origin: req.headers.origin }, extraHosts);
    if (!verdict.ok) sendDetail(reply, verdict.code, verdict.detail);
  });

  app.setErrorHandler((err: FastifyError | Refusal | Error, _req, reply) => {
    if (err instanceof ValidationRefusal) return sendRaw(reply, 422, validationBody(err.issues));
    if (err instanceof Refusal) return sendDetail(reply, err.code, err.detail);
    const code = (err as FastifyError).code;
    if (code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      return sendDetail(reply, 'body_too_large', `Request body is larger than ${BODY_LIMIT_BYTES} bytes`);
    }
    if (code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' || code === 'FST_ERR_CTP_INVALID_CONTENT_LENGTH') {
      return sendDetail(reply, 'unsupported_media_type', 'Content-Type must be application/json');
    }
    if (code === 'FST_ERR_CTP_EMPTY_JSON_BODY') return sendDetail(reply, 'invalid_request', 'Request body must be a JSON object');
    const full = storageFullDetail(err);
    if (full !== null) return sendDetail(reply, 'unavailable', full);
    const status = (err as FastifyError).statusCode;
    // Fastify's own protocol errors (a malformed URL, say) keep Fastify's status.
    if (status !== undefined && status >= 400 && status < 500) return sendJson(reply, status, { detail: err.message });
    process.stderr.write(`openexec: internal error: ${err.stack ?? String(err)}\n`);
    return sendDetail(reply, 'internal', 'Internal Server Error');
  });

  app.setNotFoundHandler((_req, reply) => sendDetail(reply, 'not_found', 'Not Found'));

  registerCompatRoutes(app, core, options.agentAuth ?? new AgentAuth(core.agents, false));
  options.register?.(app);
  return app;
}
