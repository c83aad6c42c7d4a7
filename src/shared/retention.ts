import { z } from 'zod';

/**
 * Retention periods: a whole number and a unit, `h` (hours), `d` (days) or `w` (weeks), from
 * one hour to ten years. The same words for `openexec purge --older-than` and
 * `OPENEXEC_RETENTION`, parsed in one place.
 */
const UNIT_MS = { h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 } as const;
const MIN_MS = UNIT_MS.h;
const MAX_MS = 3653 * UNIT_MS.d;

/** The period in milliseconds, or why the text is not one (a phrase to put after the name). */
export function parseRetention(text: string): { ok: true; ms: number } | { ok: false; problem: string } {
  const m = /^([1-9][0-9]{0,5})([hdw])$/.exec(text.trim());
  if (!m) return { ok: false, problem: `must be a whole number of hours, days or weeks such as 12h, 90d or 8w, got '${text}'` };
  const ms = Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
  if (ms < MIN_MS || ms > MAX_MS) return { ok: false, problem: `must be from 1h to 3653d, got '${text}'` };
  return { ok: true, ms };
}

export const purgeInput = z.strictObject({
  olderThan: z.string().superRefine((text, ctx) => {
    const r = parseRetention(text);
    if (!r.ok) ctx.addIssue({ code: 'custom', message: r.problem });
  }),
});
export type PurgeInput = z.infer<typeof purgeInput>;

/** What a purge did (docs/receipts.md "The purge config receipt"). */
export interface PurgeDto {
  /** Everything written before this instant had its bodies removed. */
  cutoff: string;
  trigger: 'retention' | 'operator';
  /** The `config` receipt recording it; null when there was nothing to purge (none is written). */
  receiptSeq: number | null;
  purgedAt: string | null;
  /** The receipts whose bodies were removed, when any were. */
  fromSeq: number | null;
  toSeq: number | null;
  receipts: number;
  bodies: number;
  executions: number;
  proposals: number;
  /** The WAL was checkpointed and cut to nothing; false when a reader held it open. */
  walTruncated: boolean;
  /** Pages on the database's freelist afterwards (zeroed: the connection uses secure_delete). */
  freelistPages: number;
}
