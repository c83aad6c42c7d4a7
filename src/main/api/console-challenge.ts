import { createHmac } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { sendJson } from './reply.ts';
import { consoleStatus } from '../../shared/error-codes.ts';

/** Who the CLI believes it is talking to: the address and pid recorded in server.json. */
export interface ServerIdentity {
  address: string;
  pid: number;
}

export const CHALLENGE_PATH = '/console/challenge';

/** A fresh nonce of at least 256 bits, base64url. */
export const challengeInput = z.strictObject({ nonce: z.string().regex(/^[A-Za-z0-9_-]{43,128}$/) });

/**
 * HMAC-SHA256 keyed with the console token over the nonce and the server's own address and
 * pid. Binding the address and pid means an answer fetched from the real server is no proof
 * for anyone else: a stranger on a stale address who relays the CLI's nonce to the real
 * OpenExec gets a proof for the real address, which the CLI (expecting the stale one) refuses.
 */
export function consoleTokenProof(token: string, server: ServerIdentity, nonce: string): string {
  return createHmac('sha256', token)
    .update(`openexec-console-challenge-v1\n${server.address}\n${server.pid}\n${nonce}`, 'utf8')
    .digest('base64url');
}

/**
 * `POST /console/challenge {nonce}` → `{proof}`, unauthenticated: the server shows that it
 * knows the console token without the token ever crossing the wire, so the CLI can check
 * whom it is about to send the token to (a crashed server's port may have a new owner).
 */
export function registerConsoleChallenge(app: FastifyInstance, token: string, identity: () => ServerIdentity): void {
  app.post(CHALLENGE_PATH, (req, reply) => {
    let input: unknown;
    try {
      input = JSON.parse(Buffer.from(req.body as Uint8Array).toString('utf8'));
    } catch {
      return sendJson(reply, consoleStatus('invalid_input'), { detail: 'Request body is not valid JSON', code: 'invalid_input' });
    }
    const parsed = challengeInput.safeParse(input);
    if (!parsed.success)
      return sendJson(reply, consoleStatus('invalid_input'), {
        detail: 'nonce: 43 to 128 base64url characters required',
        code: 'invalid_input',
      });
    sendJson(reply, 200, { proof: consoleTokenProof(token, identity(), parsed.data.nonce) });
  });
}
