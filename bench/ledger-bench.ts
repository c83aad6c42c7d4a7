import { rmSync } from 'node:fs';
import { tempDir } from '../test/support/harness.ts';
import { loadConfig } from '../src/main/app/config.ts';
import { OpenExecCore } from '../src/main/core/openexec-core.ts';
import { searchReceipts } from '../src/main/core/ledger/receipt-search.ts';
import { verifyChain } from '../src/main/core/ledger/verify-ledger.ts';
import { searchIndexOf } from '../src/main/core/ledger/search-index.ts';
import { storagePerReceipt } from './storage-bytes.ts';
import type { ReceiptQuery } from '../src/shared/console-schemas.ts';
import { fillLedger, rng, WORDS } from '../test/support/fill-ledger.ts';
import { rawDb } from '../test/support/raw-db.ts';

function percentile(sorted: number[], p: number): number {
  return Math.round((sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0) * 100) / 100;
}

/** Fills a real ledger with `count` signed receipts, then times appends, search and a full verify. */
export async function benchLedger(count: number) {
  const dir = tempDir('openexec-ledger-bench-');
  let core = await OpenExecCore.open(loadConfig({ OPENEXEC_DATA_DIR: dir }));
  const random = rng(42);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  try {
    const appendSeconds = fillLedger(core, count, random);
    // The full-text index trails the ledger (search-index.ts): building it is timed on its own.
    const i0 = performance.now();
    searchIndexOf(rawDb(core)).catchUp();
    const indexSeconds = (performance.now() - i0) / 1000;

    const queries: [string, (i: number) => ReceiptQuery][] = [
      ['text (common word) + event filter', () => ({ text: pick(WORDS), events: ['executed'], limit: 100 })],
      ['text (two words) + action filter', () => ({ text: `${pick(WORDS)} ${pick(WORDS)}`, action: 'add', limit: 100 })],
      [
        'text (rare: one recipient) + approver filter',
        (i) => ({ text: `${pick(WORDS)} ${i % 997}`, approverKeyId: '0123456789abcdef', limit: 100 }),
      ],
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
        searchReceipts(rawDb(core), q);
        times.push(performance.now() - s);
      }
      times.sort((a, b) => a - b);
      search[name] = { p50ms: percentile(times, 50), p95ms: percentile(times, 95), maxMs: percentile(times, 100) };
    }

    const v0 = performance.now();
    const chain = verifyChain(rawDb(core), core.receiptVerifier);
    const verifySeconds = (performance.now() - v0) / 1000;

    // Start-up on this ledger: the core opened again on the same files (schema, keys, tip, checks).
    core.close();
    const s0 = performance.now();
    core = await OpenExecCore.open(loadConfig({ OPENEXEC_DATA_DIR: dir }));
    const startupSeconds = (performance.now() - s0) / 1000;
    return {
      receipts: count,
      appendSeconds: Math.round(appendSeconds * 10) / 10,
      appendsPerSecond: Math.round(count / appendSeconds),
      indexSeconds: Math.round(indexSeconds * 10) / 10,
      indexedPerSecond: Math.round(count / indexSeconds),
      startupSeconds: Math.round(startupSeconds * 1000) / 1000,
      storage: storagePerReceipt(rawDb(core)),
      search,
      verifyChain: {
        valid: chain.valid,
        seconds: Math.round(verifySeconds * 10) / 10,
        receiptsPerSecond: Math.round(count / verifySeconds),
      },
    };
  } finally {
    core.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
