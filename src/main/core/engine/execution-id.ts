import { randomUUID } from 'node:crypto';

const MAX_MS = 2 ** 48 - 1;

/**
 * A new execution's id: a UUID of version 7 (RFC 9562), its first 48 bits the time in
 * milliseconds and the other 74 random (node:crypto's CSPRNG). Ids made later sort later, so
 * the indexes keyed by them (executions' primary key, receipts' exec_id) take each new entry at
 * their right edge: a group commit dirties one page of each instead of one page per execution
 * (README, issue 14 "pages per execution"). 74 random bits cannot be guessed either; the time
 * it shows is the execution's `created_at`, which its receipt shows anyway.
 */
export function executionId(ms: number): string {
  const time = Math.min(Math.max(0, Math.floor(ms)), MAX_MS)
    .toString(16)
    .padStart(12, '0');
  // A version 4 UUID's random bits after its version digit, behind the time and a version 7 digit.
  return `${time.slice(0, 8)}-${time.slice(8)}-7${randomUUID().slice(15)}`;
}
