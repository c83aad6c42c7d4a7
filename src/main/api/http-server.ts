import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import type { OpenExecCore } from '../core/openexec-core.ts';
import { Refusal } from '../core/errors.ts';
import { checkRequestOrigin } from './request-guard.ts';
import { BODY_LIMIT_BYTES } from './json-body.ts';
import { registerCompatRoutes } from './compat-routes.ts';
import { sendDetail } from './reply.ts';
import { clientErrorHandler, requestTimeoutOptions, type ConnectionLimits } from './connection-limits.ts';

export interface HttpServerOptions {
  /** Host names accepted in the Host header besides loopback ones (a non-loopback bind). */
  extraHosts?: readonly string[];
  /** Slow senders and connection count (OPENEXEC_REQUEST_TIMEOUT, OPENEXEC_MAX_CONNECTIONS). */
  limits: ConnectionLimits;
  /** Further routes (proposals, console) registered by later layers. */
  register?: (app: FastifyInstance) => void;
}

/**
 * The loopback API. Bodies are taken as raw bytes and parsed by our lossless parser, so the
 * hash an approver signed is computed from exactly what the agent sent.
 */
export function createHttpServer(core: OpenExecCore, options: HttpServerOptions): FastifyInstance {
  const app = Fastify({
    logger: false,
    bodyLimit: BODY_LIMIT_BYTES,
    return503OnClosing: true,
    ...requestTimeoutOptions(options.limits),
    clientErrorHandler: clientErrorHandler(options.limits),
  });
  app.server.maxConnections = options.limits.maxConnections;
  const extraHosts = (options.extraHosts ?? []).map((h) => h.toLowerCase());

  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  app.addHook('onRequest', async (req, reply) => {
    const verdict = checkRequestOrigin({ host: req.headers.host, origin: req.headers.origin }, extraHosts);
    if (!verdict.ok) sendDetail(reply, verdict.status, verdict.detail);
  });

  app.setErrorHandler((err: FastifyError | Refusal | Error, _req, reply) => {
    if (err instanceof Refusal) return sendDetail(reply, err.status, err.detail);
    const code = (err as FastifyError).code;
    if (code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      return sendDetail(reply, 413, `Request body is larger than ${BODY_LIMIT_BYTES} bytes`);
    }
    if (code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' || code === 'FST_ERR_CTP_INVALID_CONTENT_LENGTH') {
      return sendDetail(reply, 415, 'Content-Type must be application/json');
    }
    if (code === 'FST_ERR_CTP_EMPTY_JSON_BODY') return sendDetail(reply, 422, 'Request body must be a JSON object');
    const status = (err as FastifyError).statusCode;
    if (status !== undefined && status >= 400 && status < 500) return sendDetail(reply, status, err.message);
    process.stderr.write(`openexec: internal error: ${err.stack ?? String(err)}\n`);
    return sendDetail(reply, 500, 'Internal Server Error');
  });

  app.setNotFoundHandler((_req, reply) => sendDetail(reply, 404, 'Not Found'));

  registerCompatRoutes(app, core);
  options.register?.(app);
  return app;
}
