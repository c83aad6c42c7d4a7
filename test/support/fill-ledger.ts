import type { OpenExecCore } from '../../src/main/core/openexec-core.ts';
import type { ReceiptEvent } from '../../src/shared/console-dto.ts';
import type { JsonObject } from '../../src/main/core/json/json-value.ts';
import { rawDb } from './raw-db.ts';

export const WORDS = [
  'invoice',
  'refund',
  'payroll',
  'deploy',
  'backup',
  'rotate',
  'archive',
  'email',
  'wire',
  'ticket',
  'customer',
  'vendor',
  'quarterly',
  'urgent',
  'database',
  'cleanup',
  'report',
  'budget',
  'contract',
  'renewal',
];
const EVENTS: ReceiptEvent[] = ['executed', 'executed', 'executed', 'refused', 'replayed', 'proposed', 'denied'];

export function rng(seed: number) {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

/**
 * Appends `count` signed receipts of varied, searchable content to a real core's ledger, 10,000
 * per transaction (one commit per batch, not per receipt). Returns seconds.
 */
export function fillLedger(core: OpenExecCore, count: number, random: () => number = rng(42)): number {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  const batch = 10_000;
  const t0 = performance.now();
  for (let done = 0; done < count; done += batch) {
    rawDb(core)
      .transaction(() => {
        for (let i = done; i < Math.min(count, done + batch); i++) {
          const payload = Object.assign(Object.create(null) as JsonObject, {
            to: `${pick(WORDS)}-${i % 997}@example.com`,
            subject: `${pick(WORDS)} ${pick(WORDS)} ${i}`,
            amount: BigInt(i % 10_000),
          });
          const event = pick(EVENTS);
          core.ledger.append({
            event,
            action: i % 3 === 0 ? 'add' : 'echo',
            nonce: `bench-${i}`,
            payload,
            request_hash: 'ab'.repeat(32),
            context: i % 5 === 0 ? `${pick(WORDS)} requested by agent ${i % 17}` : null,
            reason: event === 'refused' ? `Action refused: ${pick(WORDS)}` : null,
            approver_key_id: i % 2 === 0 ? '0123456789abcdef' : 'fedcba9876543210',
          });
        }
      })
      .immediate();
    core.ledger.publishCommitted();
  }
  return (performance.now() - t0) / 1000;
}
