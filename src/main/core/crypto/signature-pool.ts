import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import type { Ed25519Verifier } from './ed25519.ts';

/**
 * The worker's whole program. It is plain JavaScript given to the Worker as text, so the same
 * code runs under tsx and in the bundled Electron main process (where a worker file beside the
 * source would not exist). Keys arrive as raw bytes of keys the main thread has already
 * accepted (Ed25519Verifier refuses small-order and mixed-order keys); the verification itself
 * is the one Ed25519Verifier.verify makes: node:crypto, a 64-byte signature, and never a throw.
 */
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createPublicKey, verify } = require('node:crypto');
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
const keys = new Map();
function keyOf(raw) {
  const id = Buffer.from(raw).toString('hex');
  let key = keys.get(id);
  if (!key) {
    key = createPublicKey({ key: Buffer.concat([SPKI_PREFIX, raw]), format: 'der', type: 'spki' });
    keys.set(id, key);
  }
  return key;
}
function verifies(message, signature, raw) {
  if (signature.length !== 64) return false;
  try { return verify(null, message, keyOf(raw), signature); } catch { return false; }
}
parentPort.on('message', ({ bytes, keys, jobs }) => {
  const answers = jobs.map(([messageEnd, signatureEnd, ...keyIndexes], i) => {
    const message = bytes.subarray(i === 0 ? 0 : jobs[i - 1][1], messageEnd);
    const signature = bytes.subarray(messageEnd, signatureEnd);
    return keyIndexes.findIndex((k) => verifies(message, signature, keys[k]));
  });
  parentPort.postMessage(answers);
});
`;

interface Job {
  message: Uint8Array;
  signature: Uint8Array;
  verifiers: readonly Ed25519Verifier[];
  resolve: (index: number) => void;
  reject: (err: unknown) => void;
}

interface Lane {
  worker: Worker;
  /** Set when the thread has stopped: its jobs failed, and it takes no more. */
  dead: boolean;
  /** Batches posted and not yet answered, oldest first (a worker answers in order). */
  inFlight: Job[][];
}

/**
 * One batch as one buffer (moved, not copied, to the thread) and small arrays: a typed array
 * posted on its own would copy its whole backing store, which for a Buffer is an 8 KiB pool.
 * Each job is [end of its message, end of its signature, ...indexes of its keys].
 */
function packed(batch: readonly Job[]): { bytes: Uint8Array<ArrayBuffer>; keys: Uint8Array[]; jobs: number[][] } {
  const bytes = new Uint8Array(batch.reduce((n, job) => n + job.message.length + job.signature.length, 0));
  const keys: Uint8Array[] = [];
  const keyIndex = new Map<Ed25519Verifier, number>();
  let at = 0;
  const jobs = batch.map((job) => {
    bytes.set(job.message, at);
    const messageEnd = (at += job.message.length);
    bytes.set(job.signature, at);
    const signatureEnd = (at += job.signature.length);
    const indexes = job.verifiers.map((v) => {
      let k = keyIndex.get(v);
      if (k === undefined) keyIndex.set(v, (k = keys.push(v.publicKey) - 1));
      return k;
    });
    return [messageEnd, signatureEnd, ...indexes];
  });
  return { bytes, keys, jobs };
}

function here(message: Uint8Array, signature: Uint8Array, verifiers: readonly Ed25519Verifier[]): number {
  return verifiers.findIndex((v) => v.verify(message, signature));
}

/** Threads beside the event loop: every core but the one the loop runs on, at most four. */
export function defaultVerifyThreads(): number {
  return Math.max(0, Math.min(4, availableParallelism() - 1));
}

/**
 * Ed25519 verification on worker threads, so the event loop can go on writing while signatures
 * are checked on the other cores. The jobs submitted in one event-loop turn travel as one
 * message per thread (a message costs about as much as a small verification). With no threads
 * (a one-core machine) it verifies on the caller's thread, as before.
 */
export class SignaturePool {
  /** Started on the first verification, so a core that never verifies starts no thread. */
  private lanes: Lane[] | null = null;
  private queue: Job[] = [];
  private scheduled = false;
  private next = 0;
  private closed = false;

  constructor(private readonly threads: number = defaultVerifyThreads()) {}

  /**
   * The index of the first of `verifiers` under whose key `signature` over `message` verifies,
   * or -1: the answer `verifiers.findIndex((v) => v.verify(message, signature))` gives.
   */
  firstSigner(message: Uint8Array, signature: Uint8Array, verifiers: readonly Ed25519Verifier[]): Promise<number> {
    this.lanes ??= this.closed ? [] : Array.from({ length: this.threads }, () => this.lane());
    if (this.closed || !this.lanes.some((lane) => !lane.dead)) return Promise.resolve(here(message, signature, verifiers));
    return new Promise((resolve, reject) => {
      this.queue.push({ message, signature, verifiers, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.post());
      }
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all((this.lanes ?? []).map((lane) => lane.worker.terminate()));
  }

  private lane(): Lane {
    // Plain JavaScript: none of the parent's loaders (tsx) need to start in it.
    const worker = new Worker(WORKER_SOURCE, { eval: true, execArgv: [] });
    const lane: Lane = { worker, dead: false, inFlight: [] };
    worker.unref();
    worker.on('message', (answers: number[]) => {
      const batch = lane.inFlight.shift()!;
      batch.forEach((job, i) => job.resolve(answers[i] ?? -1));
      if (lane.inFlight.length === 0) worker.unref();
    });
    const fail = (err: unknown) => {
      lane.dead = true;
      for (const batch of lane.inFlight.splice(0)) for (const job of batch) job.reject(err);
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`signature verification thread exited (${code})`)));
    return lane;
  }

  /** Shares this turn's jobs out over the threads, one message each. */
  private post(): void {
    this.scheduled = false;
    const jobs = this.queue;
    this.queue = [];
    const live = (this.lanes ?? []).filter((lane) => !lane.dead);
    if (live.length === 0) {
      for (const job of jobs) job.resolve(here(job.message, job.signature, job.verifiers));
      return;
    }
    const per = Math.ceil(jobs.length / live.length);
    for (let start = 0; start < jobs.length; start += per) {
      const lane = live[this.next++ % live.length]!;
      const batch = jobs.slice(start, start + per);
      lane.inFlight.push(batch);
      // Referenced while it owes answers, so a waiting caller keeps the process alive.
      lane.worker.ref();
      const message = packed(batch);
      lane.worker.postMessage(message, [message.bytes.buffer]);
    }
  }
}
