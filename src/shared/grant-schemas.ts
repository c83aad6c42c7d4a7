import { z } from 'zod';
import { wellFormedString } from './well-formed-unicode';

/** Grant inputs of the console contract (see console-schemas.ts for the conventions). */
const id = wellFormedString().min(1).max(128);
const field = wellFormedString().min(1).max(200);
export const MAX_GRANT_USES = 10_000;
export const MAX_GRANT_SECONDS = 7 * 24 * 3600;

/** "Approve similar…": the proposal, the fields that may vary, and the limit (one or more). */
export const similarGrantInput = z.strictObject({
  id,
  vary: z.array(field).max(64),
  uses: z.int().min(1).max(MAX_GRANT_USES).optional(),
  forSeconds: z.int().min(1).max(MAX_GRANT_SECONDS).optional(),
  untilRestart: z.boolean().optional(),
  reason: wellFormedString().trim().max(1000).optional(),
});
export const listGrantsInput = z.strictObject({ all: z.boolean().optional() });
export const revokeGrantInput = z.strictObject({ id, reason: wellFormedString().trim().min(1).max(2000) });

export type SimilarGrantInput = z.infer<typeof similarGrantInput>;
export type ListGrantsInput = z.infer<typeof listGrantsInput>;
export type RevokeGrantInput = z.infer<typeof revokeGrantInput>;
