import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { CONSOLE_METHODS, type ConsoleApi, type ConsoleMethod } from '../../shared/console-api.ts';
import { consoleStatus, type ConsoleErrorCode } from '../../shared/error-codes.ts';
import { sendJson } from './reply.ts';
import type { OpenEventStream } from './event-stream.ts';
import { noteRefusal } from './request-log.ts';

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/** Bearer-token check in constant time (both sides hashed, so lengths never leak); null when good. */
export function bearerProblem(req: FastifyRequest, token: string): string | null {
  const header = req.headers.authorization;
  const presented = header?.startsWith('Bearer ') ? header.slice(7).trim() : null;
  if (presented === null || presented === '') return 'Console token required (Authorization: Bearer <console-token>)';
  return timingSafeEqual(digest(presented), digest(token)) ? null : 'Console token is not valid';
}

function sendError(reply: FastifyReply, code: ConsoleErrorCode, detail: string): void {
  noteRefusal(reply.request, code, detail);
  sendJson(reply, consoleStatus(code), { detail, code });
}

function isMethod(name: string): name is ConsoleMethod {
  return Object.hasOwn(CONSOLE_METHODS, name);
}

/**
 * The console contract over HTTP for headless operators and the CLI:
 * `POST /console/<method>` with the method's input as a JSON body. Never given to agents.
 */
export function registerConsoleRoutes(app: FastifyInstance, api: ConsoleApi, token: string, stream: OpenEventStream): void {
  app.get('/console/events', (req, reply) => {
    const problem = bearerProblem(req, token);
    if (problem !== null) return sendError(reply, 'unauthorized', problem);
    stream(reply, { operator: true }, 'unavailable' satisfies ConsoleErrorCode);
  });

  app.post<{ Params: { method: string } }>('/console/:method', async (req, reply) => {
    const problem = bearerProblem(req, token);
    if (problem !== null) return sendError(reply, 'unauthorized', problem);
    const name = req.params.method;
    if (!isMethod(name)) return sendError(reply, 'not_found', `No console method '${name}'`);
    // Console inputs are small plain objects with no big numbers: JSON.parse is lossless here.
    let input: unknown = {};
    if (req.body instanceof Uint8Array && req.body.length > 0) {
      try {
        input = JSON.parse(Buffer.from(req.body).toString('utf8'));
      } catch {
        return sendError(reply, 'invalid_input', 'Request body is not valid JSON');
      }
    }
    const parsed = CONSOLE_METHODS[name].safeParse(input);
    if (!parsed.success) {
      const problems = parsed.error.issues.map((i) => `${i.path.length ? i.path.join('.') : 'input'}: ${i.message}`);
      return sendError(reply, 'invalid_input', `Invalid input: ${problems.join('; ')}`);
    }
    const call = api[name] as (input: unknown) => Promise<import('../../shared/console-result.ts').ConsoleResult<unknown>>;
    const result = await call.call(api, parsed.data);
    if (result.ok) return sendJson(reply, 200, result.value);
    return sendError(reply, result.error.code, result.error.message);
  });
}
