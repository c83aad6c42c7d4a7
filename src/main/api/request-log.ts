import type { FastifyInstance, FastifyRequest } from 'fastify';

declare module 'fastify' {
  interface FastifyRequest {
    /** The receipt this request produced, for its log line and metrics (set by the routes). */
    receiptSeq: number | null;
    /** The refusal it was answered with, if any (set by sendDetail). */
    refusal: { code: string; detail: string } | null;
  }
}

export function noteReceipt(req: FastifyRequest, seq: number): void {
  req.receiptSeq = seq;
}

/** `code`: a refusal code, or a console error code for /console/* (src/shared/error-codes.ts). */
export function noteRefusal(req: FastifyRequest, code: string, detail: string): void {
  req.refusal = { code, detail };
}

/** Longest refusal detail in a log line: details quote what agents sent (action names …). */
const DETAIL_CHARS = 300;

/**
 * One line per request: its id, method, route pattern (never the raw URL), status, duration, the
 * receipt it produced and the refusal it was given. Never headers or bodies: tokens, artifacts
 * and payloads stay out of the log by construction.
 */
export interface RequestDone {
  route: string;
  seconds: number;
  refusal: string | null;
}

export function registerRequestLog(app: FastifyInstance, observe?: (done: RequestDone) => void): void {
  app.decorateRequest('receiptSeq', null);
  app.decorateRequest('refusal', null);
  app.addHook('onResponse', (req, reply, done) => {
    // The request id (reqId) is already bound to req.log.
    const route = req.routeOptions.url ?? '(no route)';
    const line: Record<string, unknown> = {
      method: req.method,
      route,
      status: reply.statusCode,
      ms: Math.round(reply.elapsedTime * 100) / 100,
    };
    if (req.receiptSeq !== null) line['seq'] = req.receiptSeq;
    if (req.refusal !== null) {
      line['refusal'] = req.refusal.code;
      line['reason'] = req.refusal.detail.slice(0, DETAIL_CHARS);
    }
    req.log.info(line, 'request');
    observe?.({ route, seconds: reply.elapsedTime / 1000, refusal: req.refusal?.code ?? null });
    done();
  });
}
