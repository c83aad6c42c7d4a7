import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import type { ChainCheckDto, ChainRangeDto } from '../../../../shared/console-dto.ts';
import type { RangeRequest } from './verify-worker.ts';

type WorkerAnswer = { ok: true; range: ChainRangeDto } | { ok: false; error: string };

export interface ParallelVerifyOptions {
  /** Threads to verify on; default: every core. */
  workers?: number;
  /** Receipts per range handed to a thread. */
  chunk?: number;
  /** Raw approver public keys the approval evidence must verify with; omitted: its form only. */
  approverKeys?: Uint8Array[];
}

/**
 * The whole chain, verified on every core: the ledger is cut into ranges, each range is
 * checked in full by a thread with its own read-only connection (hashes, signatures, signed
 * columns, and the link into the range against the stored hash before it, which the range
 * before recomputes from its body), and the verdict is the first bad receipt in seq order,
 * exactly as a walk from the start would report it. Ed25519 verification is what costs; it
 * is what the threads share out.
 */
export async function verifyChainParallel(
  dbPath: string,
  publicKey: Uint8Array,
  lastSeq: number,
  options: ParallelVerifyOptions = {},
): Promise<ChainCheckDto> {
  const threads = Math.max(1, Math.min(options.workers ?? availableParallelism(), 64));
  // Small enough that the threads finish together (a range of 5,000 is about 0.6 s of one
  // thread's work, the most one can idle at the end), large enough that handing out ranges costs
  // nothing beside them.
  const chunk = Math.max(1, options.chunk ?? Math.min(5000, Math.max(1000, Math.ceil(lastSeq / (threads * 8)))));
  const ranges: RangeRequest[] = [];
  for (let from = 1; from <= lastSeq; from += chunk) ranges.push({ fromSeq: from, limit: Math.min(chunk, lastSeq - from + 1) });
  // Even with no receipt from 1 on, the first range runs: it is where rows below seq 1 are caught.
  if (ranges.length === 0) ranges.push({ fromSeq: 1, limit: 1 });

  const results: (ChainRangeDto | undefined)[] = new Array(ranges.length);
  // Ranges past the first bad one need not run: the verdict is already decided there.
  let firstBad = Infinity;
  let next = 0;
  const pool = Array.from(
    { length: Math.min(threads, ranges.length) },
    () =>
      new Worker(new URL('./verify-worker.ts', import.meta.url), {
        workerData: { dbPath, publicKey, approverKeys: options.approverKeys ?? null },
      }),
  );
  try {
    await Promise.all(
      pool.map(
        (worker) =>
          new Promise<void>((resolve, reject) => {
            const give = () => {
              if (next > firstBad) next = ranges.length;
              if (next >= ranges.length) return resolve();
              const index = next++;
              worker.once('message', (answer: WorkerAnswer) => {
                if (!answer.ok) return reject(new Error(answer.error));
                results[index] = answer.range;
                if (!answer.range.valid) firstBad = Math.min(firstBad, index);
                give();
              });
              worker.postMessage(ranges[index]);
            };
            worker.once('error', reject);
            give();
          }),
      ),
    );
  } finally {
    await Promise.all(pool.map((w) => w.terminate()));
  }
  let checked = 0;
  for (const range of results) {
    if (range === undefined) break;
    checked += range.checked;
    if (!range.valid) return { valid: false, checked, firstBadSeq: range.firstBadSeq, problem: range.problem };
  }
  return { valid: true, checked, firstBadSeq: null, problem: null };
}
