import Fastify, { LogController, type FastifyError, type FastifyInstance, type FastifyBaseLogger } from 'fastify';
import type { OpenExecCore } from '../core/openexec-core.ts';
import { Refusal } from '../core/errors.ts';
import { checkRequestOrigin } from './request-guard.ts';
import { BODY_LIMIT_BYTES } from './json-body.ts';
import { registerCompatRoutes } from './compat-routes.ts';
import { sendDetail, sendJson, sendRaw } from './reply.ts';
import { validationBody, ValidationRefusal } from './validation-error.ts';
import { storageFullDetail } from '../core/store/storage-full.ts';
import { clientErrorHandler, requestTimeoutOptions, type ConnectionLimits } from './connection-limits.ts';
import { noteRefusal, registerRequestLog, type RequestDone } from './request-log.ts';
import { AgentAuth } from './agent-auth.ts';

export interface HttpServerOptions {
  /** Host names accepted in the Host header besides loopback ones (a non-loopback bind). */
  extraHosts?: readonly string[];
  /** OPENEXEC_TLS_CERT / OPENEXEC_TLS_KEY as PEM text: serve HTTPS; null for plain HTTP. */
  tls?: { cert: string; key: string } | null;
  /** Slow senders and connection count (OPENEXEC_REQUEST_TIMEOUT, OPENEXEC_MAX_CONNECTIONS). */
  limits: ConnectionLimits;
  /** Further routes (proposals, console) registered by later layers. */
  register?: (app: FastifyInstance) => void;
  /** pino, for one line per request (src/main/app/logging.ts); none: nothing is logged. */
  logger?: FastifyBaseLogger;
  /** Told of every request once it is answered (metrics). */
  observe?: (done: RequestDone) => void;
  /** Who is calling agent routes; by default tokens are checked when given, and optional. */
  agentAuth?: AgentAuth;
}

/**
 * The loopback API. Bodies are taken as raw bytes and parsed by our lossless parser, so the
 * hash an approver signed is computed from exactly what the agent sent.
 */
export function createHttpServer(core: OpenExecCore, options: HttpServerOptions): FastifyInstance {
  const { requestTimeout, http } = requestTimeoutOptions(options.limits);
  const common = {
    ...(options.logger
      ? { loggerInstance: options.logger, logController: new LogController({ disableRequestLogging: true }) }
      : { logger: false }),
    bodyLimit: BODY_LIMIT_BYTES,
    return503OnClosing: true,
    requestTimeout,
    clientErrorHandler: clientErrorHandler(options.limits),
  };
  // Fastify gives the https server only its `https` options, so the timeouts go there too;
  // the request timer starts only once TLS is up, so a stalled handshake gets the same limit
  // (Node's default would hold the connection for 120 s). The cast: everything done with the
  // server below exists on http and https servers alike.
  const tls = options.tls ? { cert: options.tls.cert, key: options.tls.key, handshakeTimeout: options.limits.requestTimeoutMs } : null;
  const app = tls ? (Fastify({ ...common, https: { ...http, ...tls } }) as unknown as FastifyInstance) : Fastify({ ...common, http });
  app.server.maxConnections = options.limits.maxConnections;
  const extraHosts = (options.extraHosts ?? []).map((h) => h.toLowerCase());

  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  // Not async (a promise per request for a check that never waits); a refusal answers and ends
  // the request there, without done(). The verdict depends on Host and Origin alone and clients
  // send the same Host every time, so the last Host accepted is remembered, not parsed again.
  let acceptedHost: string | undefined;
  app.addHook('onRequest', (req, reply, done) => {
    const { host, origin } = req.headers;
    if (host !== undefined && host === acceptedHost && origin === undefined) return done();
    const verdict = checkRequestOrigin({ host, origin }, extraHosts);
    if (!verdict.ok) return sendDetail(reply, verdict.code, verdict.detail);
    acceptedHost = host;
    done();
  });

  app.setErrorHandler((err: FastifyError | Refusal | Error, req, reply) => {
    if (err instanceof ValidationRefusal) {
      noteRefusal(req, 'invalid_request', 'request body failed validation');
      return sendRaw(reply, 422, validationBody(err.issues));
    }
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

  registerRequestLog(app, options.observe);
  registerCompatRoutes(app, core, options.agentAuth ?? new AgentAuth(core.agents, false));
  options.register?.(app);
  return app;
}
