import { afterEach, describe, expect, test } from 'vitest';
import { rmSync } from 'node:fs';
import { loadConfig, type OpenExecConfig } from '../../src/main/app/config.ts';
import { startOpenExec, type OpenExecApp } from '../../src/main/app/openexec-app.ts';
import type { CoreOptions } from '../../src/main/core/openexec-core.ts';
import type { SqliteDatabase } from '../../src/main/core/store/database.ts';
import { get, post, tempDir } from '../support/harness.ts';
import { rawDb } from '../support/raw-db.ts';

const FULL = /^Storage full: OpenExec cannot record receipts; nothing was executed/;

/**
 * A real "disk full" without root: SQLite answers SQLITE_FULL, exactly as it does for ENOSPC,
 * once the database may not grow by another page. Raising the limit is the space coming back.
 */
function fill(db: SqliteDatabase): void {
  db.pragma(`max_page_count = ${db.pragma('page_count', { simple: true }) as number}`);
}
function makeRoom(db: SqliteDatabase): void {
  db.pragma('max_page_count = 4294967294');
}

/** Large enough that any write of it needs pages the database does not have. */
const big = (tag: string) => ({ tag, blob: 'x'.repeat(64 * 1024) });

let app: OpenExecApp | null = null;
let dataDir = '';
afterEach(async () => {
  await app?.close();
  app = null;
  rmSync(dataDir, { recursive: true, force: true });
});

async function start(extra: Partial<CoreOptions> = {}): Promise<{ app: OpenExecApp; db: SqliteDatabase; url: string }> {
  dataDir = tempDir();
  const config = { ...loadConfig({ OPENEXEC_PORT: '0', OPENEXEC_DATA_DIR: dataDir }), ...extra } as OpenExecConfig;
  app = await startOpenExec(config);
  return { app, db: rawDb(app.core), url: app.address };
}

describe('a full disk answers 503, keeps serving reads, and recovers when space returns', () => {
  test('writes are refused with 503 and nothing is spent; reads go on; the next write after space returns succeeds', async () => {
    const { app, db, url } = await start();
    const first = await post(url, '/execute', { action: 'echo', payload: { a: 1 }, nonce: 'before' });
    expect(first.status).toBe(200);
    const pending = await post(url, '/proposals', { action: 'echo', payload: big('to approve'), nonce: 'approve-me' });
    expect(pending.status).toBe(202);
    const seqBefore = db.prepare('SELECT max(seq) FROM receipts').pluck().get() as number;

    fill(db);
    // Many at once, so they share group commits: each gets the same clear answer.
    const refused = await Promise.all(
      Array.from({ length: 12 }, (_, i) => post(url, '/execute', { action: 'echo', payload: big(`e${i}`), nonce: `full-${i}` })),
    );
    for (const r of refused) {
      expect(r.status).toBe(503);
      expect(r.body.detail).toMatch(FULL);
    }
    const proposal = await post(url, '/proposals', { action: 'echo', payload: big('p'), nonce: 'full-p' });
    expect(proposal.status).toBe(503);
    expect(proposal.body.detail).toMatch(FULL);
    const approved = await app.console.approve({ id: pending.body.id });
    expect(approved).toEqual({ ok: false, error: { code: 'unavailable', message: expect.stringMatching(FULL) } });

    // Reads: the agent's GET routes, /receipts/verify, and the console's read methods.
    expect((await get(url, '/health')).status).toBe(200);
    expect((await get(url, '/ready')).status).toBe(200);
    expect((await get(url, '/receipts/public-key')).status).toBe(200);
    const verified = await post(url, '/receipts/verify', {
      exec_id: first.body.id,
      result: first.body.result,
      receipt: first.body.receipt,
    });
    expect(verified.body).toEqual({ valid: true });
    for (const read of [
      () => app.console.health(),
      () => app.console.listPending(),
      () => app.console.getAllowList(),
      () => app.console.searchReceipts({}),
      () => app.console.verifyChain(),
    ]) {
      expect((await read()).ok).toBe(true);
    }
    // Only the operator's approval (a small receipt that still fitted) was recorded; nothing ran.
    expect(db.prepare("SELECT count(*) FROM receipts WHERE seq > ? AND event <> 'approved'").pluck().get(seqBefore)).toBe(0);
    expect(db.prepare("SELECT count(*) FROM executions WHERE nonce LIKE 'full-%' OR nonce = 'approve-me'").pluck().get()).toBe(0);
    expect(app.core.ledger.uncommittedCount()).toBe(0);

    makeRoom(db);
    // Nothing was spent while full: the same nonces now run, as new executions.
    const after = await Promise.all(
      Array.from({ length: 12 }, (_, i) => post(url, '/execute', { action: 'echo', payload: big(`e${i}`), nonce: `full-${i}` })),
    );
    for (const r of after) expect(r.status).toBe(200);
    expect((await post(url, '/proposals', { action: 'echo', payload: big('p'), nonce: 'full-p' })).status).toBe(202);
    const approvedNow = await app.console.approve({ id: pending.body.id });
    expect(approvedNow.ok && approvedNow.value.status).toBe('executed');
    const chain = await app.console.verifyChain();
    expect(chain.ok && chain.value.valid).toBe(true);
  });

  test('a handler that ran before the disk filled: 503 says so, it never runs again, and it is closed as interrupted', async () => {
    let ran = 0;
    let db: SqliteDatabase | null = null;
    const started = await start({
      extraActions: {
        // The disk fills while this handler, which has effects, is running.
        pay: async () => {
          ran += 1;
          fill(db!);
          return { paid: true, note: 'y'.repeat(64 * 1024) };
        },
      },
    });
    db = started.db;
    const r = await post(started.url, '/execute', { action: 'pay', payload: { amount: 5 }, nonce: 'pay-1' });
    expect(r.status).toBe(503);
    expect(r.body.detail).toMatch(/^Storage full: the action ran, but OpenExec could not record its outcome/);
    // The nonce is still spent: asking again neither runs it nor waits for a run that is over.
    // (Closing it as interrupted is a small write that may still fit: 500 or 503.)
    expect([500, 503]).toContain((await post(started.url, '/execute', { action: 'pay', payload: { amount: 5 }, nonce: 'pay-1' })).status);
    makeRoom(db);
    const again = await post(started.url, '/execute', { action: 'pay', payload: { amount: 5 }, nonce: 'pay-1' });
    expect(again.status).toBe(500);
    expect(again.body.detail).toMatch(/^Interrupted: /);
    expect(ran).toBe(1);
    expect(db.prepare("SELECT status FROM executions WHERE nonce = 'pay-1'").pluck().get()).toBe('failed');
    const chain = await started.app.console.verifyChain();
    expect(chain.ok && chain.value.valid).toBe(true);
  });

  test('an overdue proposal still reads while its expiry cannot be recorded, and expires once there is room', async () => {
    let now = Date.parse('2030-01-01T00:00:00Z');
    const { app, db, url } = await start({ clock: { now: () => now } });
    // A big proposal: closing it rewrites its row, which needs new pages before it frees the old.
    const created = await post(url, '/proposals', { action: 'echo', payload: big('p'), nonce: 'p-1', ttl_seconds: 60 });
    expect(created.status).toBe(202);
    fill(db);
    now += 120_000;
    const read = await get(url, `/proposals/${created.body.id}`);
    expect(read.status).toBe(200);
    expect(read.body.status).toBe('pending');
    expect((await app.console.listPending()).ok).toBe(true);
    await app.proposals.expireDue(); // the sweeper's pass: must not throw
    makeRoom(db);
    expect((await get(url, `/proposals/${created.body.id}`)).body.status).toBe('expired');
  });
});
