/**
 * The `walpages` part of `npm run bench`: what one execution writes, in pages. The real core
 * (OpenExecCore, as the server opens it) on a real SQLite file, its checkpointer stopped and
 * `wal_autocheckpoint` off, so the WAL keeps every frame the executions wrote; the WAL is read
 * frame by frame and each page named by the b-tree it belongs to (dbstat). The figures do not
 * depend on the machine's speed or load, only on the code and the ledger's size (an index over
 * random keys dirties a page of its own for each entry once it has many pages).
 */
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { OpenExecCore } from '../src/main/core/openexec-core.ts';
import type { SqliteDatabase } from '../src/main/core/store/database.ts';
import type { ExecuteRequest } from '../src/main/core/engine/engine.ts';
import type { JsonObject } from '../src/main/core/json/json-value.ts';
import { parseJson } from '../src/main/core/json/parse.ts';
import { searchIndexOf } from '../src/main/core/ledger/search-index.ts';
import { TestApprover } from '../test/support/clawshield.ts';
import { tempDir } from '../test/support/harness.ts';
import { btreeOfPages, framesByBtree, keepEveryWalFrame, readWalFrames } from '../test/support/wal-frames.ts';

type Mode = 'demo' | 'clawshield';
type Synchronous = 'NORMAL' | 'FULL';

const TENANT = 'tenant-001';
const round = (x: number) => Math.round(x * 100) / 100;
const isFullText = (btree: string) => btree.startsWith('receipts_fts');

/** A request like an agent's: a random nonce, and in clawshield mode a fresh artifact. */
function addRequest(mode: Mode, approver: TestApprover, i: number): ExecuteRequest {
  const wire = `{"a":${i},"b":${i + 1}}`;
  return {
    action: 'add',
    payload: parseJson(wire) as JsonObject,
    nonce: randomUUID(),
    artifact: mode === 'clawshield' ? approver.mint('add', wire, { tenant: TENANT }) : null,
  };
}

export interface WalPhase {
  executions: number;
  commits: number;
  /** Pages (WAL frames) the executions' own transactions wrote, per execution. */
  pagesPerExecution: number;
  bytesPerExecution: number;
  pagesPerCommit: number;
  /** The full-text index, written after the commits in batches (search-index.ts), per execution. */
  fullTextPagesPerExecution: number;
  /** Pages per execution by b-tree (table or index). */
  byBtree: Record<string, number>;
}

/** Runs `batches`, each as one turn's worth of executions (one group commit), and reads what they wrote. */
async function phase(core: OpenExecCore, db: SqliteDatabase, batches: ExecuteRequest[][]): Promise<WalPhase> {
  const wal = `${db.name}-wal`;
  db.pragma('wal_checkpoint(TRUNCATE)');
  let executions = 0;
  for (const batch of batches) {
    const outcomes = await Promise.all(batch.map((r) => core.engine.execute(r)));
    const wrong = outcomes.find((o) => o.kind !== 'executed');
    if (wrong) throw new Error(`walpages (${core.engine.mode}): an execution was not executed: ${JSON.stringify(wrong)}`);
    executions += batch.length;
  }
  searchIndexOf(db).catchUp();
  const frames = readWalFrames(wal);
  const byBtree = framesByBtree(frames, btreeOfPages(db));
  const own = byBtree.filter(([name]) => !isFullText(name)).reduce((n, [, c]) => n + c, 0);
  const fullText = byBtree.filter(([name]) => isFullText(name)).reduce((n, [, c]) => n + c, 0);
  return {
    executions,
    commits: frames.commits,
    pagesPerExecution: round(own / executions),
    bytesPerExecution: Math.round((own * (frames.pageSize + 24)) / executions),
    pagesPerCommit: round(own / frames.commits),
    fullTextPagesPerExecution: round(fullText / executions),
    byBtree: Object.fromEntries(byBtree.filter(([name]) => !isFullText(name)).map(([name, n]) => [name, round(n / executions)])),
  };
}

async function setup(mode: Mode, synchronous: Synchronous, prefill: number, measured: number) {
  const dir = tempDir('openexec-walpages-');
  const approver = new TestApprover();
  const core = await OpenExecCore.open({
    mode,
    dataDir: dir,
    dbPath: join(dir, 'openexec.db'),
    synchronous,
    clawshieldPublicKey: mode === 'clawshield' ? approver.signer.publicKey : null,
    tenantId: TENANT,
    allowedActions: null,
    clockSkewSeconds: 0,
  });
  try {
    // Every frame stays in the WAL until the phase has read it.
    const db = keepEveryWalFrame(core);
    const batchesOf = (size: number, count: number, from: number) =>
      Array.from({ length: Math.ceil(count / size) }, (_, b) =>
        Array.from({ length: Math.min(size, count - b * size) }, (_, i) => addRequest(mode, approver, from + b * size + i)),
      );
    // A ledger of `prefill` executions first: the random-keyed indexes' pages are then many.
    for (const batch of batchesOf(64, prefill, 0)) await Promise.all(batch.map((r) => core.engine.execute(r)));
    const one = await phase(core, db, batchesOf(1, measured, prefill));
    const sixteen = await phase(core, db, batchesOf(16, measured, prefill + measured));
    return { mode, synchronous, ledgerBefore: prefill, onePerCommit: one, groupsOf16: sixteen };
  } finally {
    core.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Pages and bytes per execution of the built-in `add`: one execution per commit (concurrency
 * 1) and 16 per group commit (what concurrency 16 gathers), in demo mode and in clawshield mode
 * with an approval artifact, at NORMAL and FULL (the frames do not differ; FULL fsyncs them).
 */
export async function benchWalPages(prefill: number, measured: number) {
  return {
    what: 'WAL frames (4 KiB pages) written per execution of add by the core on a real SQLite file, after a ledger of ledgerBefore executions',
    setups: [
      await setup('demo', 'NORMAL', prefill, measured),
      await setup('clawshield', 'NORMAL', prefill, measured),
      await setup('clawshield', 'FULL', prefill, measured),
    ],
  };
}
