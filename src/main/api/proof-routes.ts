import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { Refusal } from '../core/errors.ts';
import type { LedgerProofs } from '../core/ledger/proofs.ts';
import { sendJson } from './reply.ts';

/** A query parameter that is a whole number, written in plain decimal. */
const count = z
  .string()
  .regex(/^\d{1,15}$/, 'must be a whole number')
  .transform(Number);
const inclusionQuery = z.object({ size: count.optional() });
const consistencyQuery = z.object({ from: count, to: count.optional() });
const seqParam = z.object({ seq: count });

function parsed<T>(schema: z.ZodType<T>, value: unknown, where: string): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const problems = result.error.issues.map((i) => `${i.path.join('.') || where}: ${i.message}`);
  throw new Refusal('invalid_request', `Invalid ${where}: ${problems.join('; ')}`);
}

/**
 * Proofs over the receipts' Merkle tree, open to anyone who can reach the API (they reveal
 * hashes only): the latest signed checkpoint, a receipt's inclusion proof, and the
 * consistency proof between two tree sizes.
 */
export function registerProofRoutes(app: FastifyInstance, proofs: LedgerProofs): void {
  app.get('/receipts/checkpoint', async (_req, reply) => sendJson(reply, 200, await proofs.latestCheckpoint()));

  app.get('/receipts/consistency', async (req, reply) => {
    const q = parsed(consistencyQuery, req.query, 'query');
    sendJson(reply, 200, await proofs.consistency(q.from, q.to));
  });

  app.get('/receipts/:seq/inclusion', async (req, reply) => {
    const { seq } = parsed(seqParam, req.params, 'receipt number');
    const q = parsed(inclusionQuery, req.query, 'query');
    sendJson(reply, 200, await proofs.inclusion(seq, q.size));
  });
}
