import { Worker } from 'node:worker_threads';
import type { ApproverKeys } from '../../approval/check-evidence.ts';
import { Ed25519Verifier, parsePublicKeyPem } from '../../crypto/ed25519.ts';
import { checkBatch, type BatchVerdict, type ReceiptBatch } from './pg-receipt-check.ts';

/** Where the walk's batches are checked: threads (ReceiptCheckPool) or this thread (inlineChecker). */
export interface ReceiptChecker {
  /** Batches it works on at once. */
  readonly size: number;
  check(batch: ReceiptBatch): Promise<BatchVerdict>;
  close(): Promise<void>;
}

/**
 * The batches checked on this thread, one after the other: for callers that cannot start
 * worker threads on our TypeScript sources (a test runner's own loader).
 */
export function inlineChecker(approvers: ApproverKeys | null): ReceiptChecker {
  const verifiers = new Map<string, Ed25519Verifier>();
  return {
    size: 1,
    check: async (batch) => {
      for (const [keyId, pem] of batch.keys) if (!verifiers.has(keyId)) verifiers.set(keyId, new Ed25519Verifier(parsePublicKeyPem(pem)));
      return checkBatch(batch.rows, (keyId) => verifiers.get(keyId)!, approvers);
    },
    close: async () => undefined,
  };
}

type Answer = { ok: true; verdict: BatchVerdict } | { ok: false; error: string };

interface Waiting {
  resolve: (verdict: BatchVerdict) => void;
  reject: (err: Error) => void;
}

/**
 * Verifier threads for the PostgreSQL walk: batches are handed out in turn, each thread
 * answers its batches in the order it got them. The walk reads, links and orders; the threads
 * do the signatures.
 */
export class ReceiptCheckPool implements ReceiptChecker {
  private readonly workers: { worker: Worker; waiting: Waiting[]; failed: Error | null }[];
  private next = 0;

  constructor(threads: number, approverKeys: Uint8Array[] | null) {
    this.workers = Array.from({ length: Math.max(1, threads) }, () => {
      const worker = new Worker(new URL('./pg-receipt-check-worker.ts', import.meta.url), { workerData: { approverKeys } });
      const entry = { worker, waiting: [] as Waiting[], failed: null as Error | null };
      worker.on('message', (answer: Answer) => {
        const waiter = entry.waiting.shift();
        if (answer.ok) waiter?.resolve(answer.verdict);
        else waiter?.reject(new Error(answer.error));
      });
      // A thread that failed (its code would not load, it ran out of memory) answers nothing more.
      worker.on('error', (err) => {
        entry.failed = err;
        for (const w of entry.waiting.splice(0)) w.reject(err);
      });
      return entry;
    });
  }

  get size(): number {
    return this.workers.length;
  }

  check(batch: ReceiptBatch): Promise<BatchVerdict> {
    const entry = this.workers[this.next++ % this.workers.length]!;
    return new Promise((resolve, reject) => {
      if (entry.failed !== null) return reject(entry.failed);
      entry.waiting.push({ resolve, reject });
      entry.worker.postMessage(batch);
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map(({ worker }) => worker.terminate()));
  }
}
