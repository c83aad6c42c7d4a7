import pg from 'pg';
import { z } from 'zod';
import type { ReceiptDto } from '../../../../shared/console-dto.ts';
import type { LedgerChange } from '../ledger-store.ts';
import { LEDGER_CHANNEL } from './pg-locks.ts';

/** NOTIFY payloads must stay under 8000 bytes; past this the proposals are left for the reader to find. */
const MAX_NOTICE = 7000;

const notice = z.strictObject({
  head: z.int().min(1),
  proposals: z.array(z.string()).nullable(),
});

/** What a committed group tells the other instances: the new head and the proposals it touched. */
export function changeNotice(receipts: readonly ReceiptDto[]): string {
  const head = receipts[receipts.length - 1]!.seq;
  const proposals = [...new Set(receipts.flatMap((r) => (r.proposalId === null ? [] : [r.proposalId])))];
  const full = JSON.stringify({ head, proposals });
  return Buffer.byteLength(full, 'utf8') <= MAX_NOTICE ? full : JSON.stringify({ head, proposals: null });
}

/**
 * What ends a group transaction, in one round trip: its notice (when it appended receipts) and
 * COMMIT, as one simple query, so the notice carries no parameters and is quoted as a literal.
 * If the NOTIFY fails, the COMMIT after it is not run.
 */
export function commitStatement(appended: readonly ReceiptDto[]): string {
  if (appended.length === 0) return 'COMMIT';
  return `SELECT pg_notify('${LEDGER_CHANNEL}', ${pg.escapeLiteral(changeNotice(appended))}); COMMIT`;
}

/** A notice from the channel, or null when it is not one of ours. */
export function parseChangeNotice(payload: string | undefined): LedgerChange | null {
  if (payload === undefined) return null;
  let value: unknown;
  try {
    value = JSON.parse(payload);
  } catch {
    return null;
  }
  const parsed = notice.safeParse(value);
  return parsed.success ? { head: parsed.data.head, proposalIds: parsed.data.proposals } : null;
}

/** Calls each listener; one that throws cannot keep the others from hearing, nor a write from being answered. */
export function announce<T>(listeners: Iterable<(value: T) => void>, value: T): void {
  for (const listener of listeners) {
    try {
      listener(value);
    } catch {
      // The listener's failure is its own: what it hears of has committed either way.
    }
  }
}
