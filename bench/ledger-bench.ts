import { rmSync } from 'node:fs';
import { tempDir } from '../test/support/harness.ts';
import { loadConfig } from '../src/main/app/config.ts';
import { OpenExecCore } from '../src/main/core/openexec-core.ts';
import { searchReceipts } from '../src/main/core/ledger/receipt-search.ts';
import { verifyChain } from '../src/main/core/ledger/verify-ledger.ts';
import type { ReceiptQuery } from '../src/shared/console-schemas.ts';
import type { ReceiptEvent } from '../src/shared/console-dto.ts';
import type { JsonObject } from '../src/main/core/json/json-value.ts';

export const WORDS = ['invoice', 'refund', 'payroll', 'deploy', 'backup', 'rotate', 'archive', 'email', 'wire', 'ticket',
  'customer', 'vendor', 'quarterly', 'urgent', 'database', 'cleanup', 'report', 'budget', 'contract', 'renewal'];
const EVENTS: ReceiptEvent[] = ['executed', 'executed', 'executed', 'refused', 'replayed', 'proposed', 'denied'];

export function rng(seed: number) {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

function percentile(sorted: number[], p: number): number {
  return Math.round((sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0) * 100) / 100;
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
    core.db.transaction(() => {
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
    }).immediate();
    core.ledger.publishCommitted();
  }
  return (performance.now() - t0) / 1000;
}

/** Fills a real ledger with `count` signed receipts, then times appends, search and a full verify. */
export function benchLedger(count: number) {
  const dir = tempDir('openexec-ledger-bench-');
  const core = new OpenExecCore(loadConfig({ OPENEXEC_DATA_DIR: dir }));
  const random = rng(42);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  try {
    const appendSeconds = fillLedger(core, count, random);

    const queries: [string, (i: number) => ReceiptQuery][] = [
      ['text (common word) + event filter', () => ({ text: pick(WORDS), events: ['executed'], limit: 100 })],
      ['text (two words) + action filter', () => ({ text: `${pick(WORDS)} ${pick(WORDS)}`, action: 'add', limit: 100 })],
      ['text (rare: one recipient) + approver filter', (i) => ({ text: `${pick(WORDS)} ${i % 997}`, approverKeyId: '0123456789abcdef', limit: 100 })],
      ['text + time range', () => ({ text: pick(WORDS), from: new Date(Date.now() - 3_600_000).toISOString(), limit: 100 })],
      ['filters only (event + action), newest first', () => ({ events: ['denied'], action: 'echo', limit: 100 })],
      ['second page (keyset) of a text search', () => ({ text: pick(WORDS), beforeSeq: Math.floor(count / 2), limit: 100 })],
    ];
    const search: Record<string, { p50ms: number; p95ms: number; maxMs: number }> = {};
    for (const [name, make] of queries) {
      const times: number[] = [];
      for (let i = 0; i < 60; i++) {
        const q = make(i);
        const s = performance.now();
        searchReceipts(core.db, q);
        times.push(performance.now() - s);
      }
      times.sort((a, b) => a - b);
      search[name] = { p50ms: percentile(times, 50), p95ms: percentile(times, 95), maxMs: percentile(times, 100) };
    }

    const v0 = performance.now();
    const chain = verifyChain(core.db, core.receiptVerifier);
    const verifySeconds = (performance.now() - v0) / 1000;
    return {
      receipts: count,
      appendSeconds: Math.round(appendSeconds * 10) / 10,
      appendsPerSecond: Math.round(count / appendSeconds),
      search,
      verifyChain: { valid: chain.valid, seconds: Math.round(verifySeconds * 10) / 10, receiptsPerSecond: Math.round(count / verifySeconds) },
    };
  } finally {
    core.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
