import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { tempDir } from '../test/support/harness.ts';
import { Ed25519Signer, Ed25519Verifier } from '../src/main/core/crypto/ed25519.ts';

/**
 * What one `/execute` cannot do without on this machine, measured in the same run as the
 * figures it is compared with: verify the approval's Ed25519 signature, sign the receipt
 * (node:crypto, both), and write two receipt-shaped rows (the execution and its receipt)
 * in a WAL group commit of 64 rows at the same synchronous setting. The sum is the floor's
 * CPU per execution on one core; `perSecond` is its inverse.
 */
export interface MachineFloor {
  synchronous: 'NORMAL' | 'FULL';
  verifyUs: number;
  signUs: number;
  rowUs: number;
  perExecutionUs: number;
  perSecond: number;
  /**
   * Not in the floor as issue 14 defines it, but owed by any server that enforces single use in
   * its database: the extra CPU per execution of the three unique keys it rests on (the nonce,
   * the approval's id and its signed message's hash, each random) in the same group commit,
   * into a table already holding SINGLE_USE_FILL of each (singleUse below).
   */
  singleUseUs: number;
}

/** Entries already spent when single use is measured: a ledger of modest size. */
export const SINGLE_USE_FILL = 100_000;

const BODY = Buffer.from(`{"action":"add","body":"${'x'.repeat(400)}","seq":1}`);

/** Median of `rounds` means, each over `per` calls: steady-state cost, robust to a busy neighbour. */
function microseconds(rounds: number, per: number, work: (i: number) => void): number {
  const means: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    for (let i = 0; i < per; i++) work(r * per + i);
    means.push(((performance.now() - t0) * 1000) / per);
  }
  means.sort((a, b) => a - b);
  return means[Math.floor(means.length / 2)]!;
}

export function measureFloor(synchronous: 'NORMAL' | 'FULL'): MachineFloor {
  const signer = Ed25519Signer.generate();
  const verifier = new Ed25519Verifier(signer.publicKey);
  const signature = signer.sign(BODY);
  const verifyUs = microseconds(7, 400, () => verifier.verify(BODY, signature));
  const signUs = microseconds(7, 400, () => signer.sign(BODY));

  const dir = tempDir('openexec-floor-');
  const db = new Database(join(dir, 'floor.db'));
  try {
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${synchronous}`);
    db.exec(
      'CREATE TABLE r (seq INTEGER PRIMARY KEY, hash TEXT NOT NULL, prev_hash TEXT NOT NULL, body TEXT NOT NULL, signature TEXT NOT NULL) STRICT',
    );
    const insert = db.prepare('INSERT INTO r VALUES (?, ?, ?, ?, ?)');
    const hash = 'ab'.repeat(32);
    const sig = Buffer.from(signature).toString('base64');
    const body = BODY.toString('utf8');
    const group = 64;
    const commit = db.transaction((first: number) => {
      for (let i = 0; i < group; i++) insert.run(first + i, hash, hash, body, sig);
    });
    const commitUs = microseconds(7, 40, (i) => commit.immediate(1 + i * group));
    const rowUs = commitUs / group;
    const perExecutionUs = verifyUs + signUs + 2 * rowUs;
    const round = (x: number) => Math.round(x * 10) / 10;
    return {
      synchronous,
      verifyUs: round(verifyUs),
      signUs: round(signUs),
      rowUs: round(rowUs),
      perExecutionUs: round(perExecutionUs),
      perSecond: Math.round(1e6 / perExecutionUs),
      singleUseUs: round(singleUse(db, group)),
    };
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Microseconds per row that three unique random keys add to a row of a group commit of `group`
 * rows: the same rows into a table with and without those keys' indexes, each already holding
 * SINGLE_USE_FILL rows, so that (as in a real ledger) each new key lands on a page of its own.
 */
function singleUse(db: Database.Database, group: number): number {
  const key = () => randomBytes(16).toString('hex');
  const costOf = (table: string, keyed: boolean): number => {
    db.exec(
      `CREATE TABLE ${table} (seq INTEGER PRIMARY KEY, nonce TEXT NOT NULL ${keyed ? 'UNIQUE' : ''},
         approval_id TEXT NOT NULL ${keyed ? 'UNIQUE' : ''}, message_hash TEXT NOT NULL ${keyed ? 'UNIQUE' : ''}) STRICT`,
    );
    const insert = db.prepare(`INSERT INTO ${table} VALUES (?, ?, ?, ?)`);
    db.transaction(() => {
      for (let i = 1; i <= SINGLE_USE_FILL; i++) insert.run(i, key(), key(), `${key()}${key()}`);
    })();
    const commit = db.transaction((first: number) => {
      for (let i = 0; i < group; i++) insert.run(first + i, key(), key(), `${key()}${key()}`);
    });
    return microseconds(7, 20, (i) => commit.immediate(SINGLE_USE_FILL + 1 + i * group)) / group;
  };
  return Math.max(0, costOf('keyed', true) - costOf('plain', false));
}

/** A worker that verifies one signature `n` times with node:crypto and reports when done. */
const VERIFY_LOOP = `
const { parentPort, workerData } = require('node:worker_threads');
const { generateKeyPairSync, sign, verify } = require('node:crypto');
const { publicKey, privateKey } = generateKeyPairSync('ed25519');
const message = Buffer.alloc(450, 'x');
const signature = sign(null, message, privateKey);
parentPort.once('message', () => {
  for (let i = 0; i < workerData.n; i++) verify(null, message, publicKey, signature);
  parentPort.postMessage('done');
});
`;

/**
 * Microseconds per Ed25519 verification when `threads` threads verify at once (node:crypto):
 * the floor of a walk that verifies on every core, measured rather than assumed to be one
 * core's figure divided by the cores (cores that share caches or a physical core do not add up).
 */
export async function parallelVerifyUs(threads: number, perThread = 2000): Promise<number> {
  const { Worker } = await import('node:worker_threads');
  const workers = Array.from({ length: threads }, () => new Worker(VERIFY_LOOP, { eval: true, workerData: { n: perThread } }));
  try {
    // Started together once every thread has loaded, so the timing covers only verification.
    await Promise.all(workers.map((w) => new Promise((resolve) => w.once('online', resolve))));
    const t0 = performance.now();
    await Promise.all(
      workers.map((w) => {
        const done = new Promise((resolve) => w.once('message', resolve));
        w.postMessage('go');
        return done;
      }),
    );
    return Math.round((((performance.now() - t0) * 1000) / (threads * perThread)) * 10) / 10;
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}
