import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { loadConfig } from '../../../src/main/app/config.ts';
import { OpenExecCore } from '../../../src/main/core/openexec-core.ts';
import { loadOrCreateSigningKey } from '../../../src/main/core/crypto/key-file.ts';
import type { Ed25519Signer } from '../../../src/main/core/crypto/ed25519.ts';
import type { JsonObject } from '../../../src/main/core/json/json-value.ts';
import { migrate, SCHEMA_VERSION } from '../../../src/main/core/store/migrations.ts';
import { MerkleStore } from '../../../src/main/core/ledger/merkle/merkle-store.ts';
import { receiptFromRow, type ReceiptRow } from '../../../src/main/core/ledger/receipt-row.ts';
import type { ReceiptDraft } from '../../../src/main/core/ledger/receipt-body.ts';
import { verifyChain } from '../../../src/main/core/ledger/verify-ledger.ts';
import { sideTableProblems } from '../../../src/main/core/ledger/verify-side-tables.ts';
import type { ReceiptEvent } from '../../../src/shared/console-dto.ts';
import { tempDir } from '../../support/harness.ts';
import { appendAsBefore, BEFORE_COMPACT_RECEIPTS } from '../../support/previous-layout.ts';
import { rawDb } from '../../support/raw-db.ts';

const PREVIOUS = BEFORE_COMPACT_RECEIPTS;
const json = (o: Record<string, unknown>) => Object.assign(Object.create(null) as JsonObject, o);

/** Receipts of every shape the columns carried: sparse ids, reasons, grants, agents, bodies kept beside. */
function drafts(count: number): ReceiptDraft[] {
  const events: ReceiptEvent[] = ['proposed', 'approved', 'executed', 'refused', 'denied', 'config'];
  return Array.from({ length: count }, (_, i) => ({
    event: events[i % events.length]!,
    action: i % 6 === 5 ? null : i % 2 === 0 ? 'add' : 'echo',
    nonce: `n-${i}`,
    payload: json({ a: BigInt(i), to: `word${i % 7}@example.com` }),
    request_hash: (i % 16).toString(16).repeat(64),
    context: i % 3 === 0 ? `asked by agent ${i}` : null,
    agent: i % 4 === 0 ? 'builder' : null,
    reason: i % 6 === 3 ? `Action refused: ${i}` : null,
    proposal_id: i % 6 < 2 ? `p-${Math.floor(i / 6)}` : null,
    approval_id: i % 6 === 1 ? `ap-${i}` : null,
    approver_key_id: i % 6 === 1 ? '0123456789abcdef' : null,
    grant_id: i % 12 === 2 ? `g-${i}` : null,
    details: i % 6 === 5 ? json({ kind: 'note', n: BigInt(i) }) : null,
  }));
}

describe(`the receipts table rewritten for size (migration ${SCHEMA_VERSION}) on a ledger the previous version wrote`, () => {
  let dir: string;
  let dbPath: string;
  let signer: Ed25519Signer;
  let before: ReceiptRow[];
  let core: OpenExecCore | null = null;

  beforeEach(() => {
    dir = tempDir('openexec-layout-');
    dbPath = join(dir, 'openexec.db');
    signer = loadOrCreateSigningKey(join(dir, 'receipt-key.pem')).signer;
    const old = new Database(dbPath);
    old.pragma('foreign_keys = ON');
    migrate(old, PREVIOUS);
    before = [];
    old.transaction(() => {
      for (const d of drafts(60)) before.push(appendAsBefore(old, signer, d, before.at(-1) ?? null));
    })();
    old.close();
  });
  afterEach(() => {
    core?.close();
    core = null;
    rmSync(dir, { recursive: true, force: true });
  });

  const open = async () => (core = await OpenExecCore.open(loadConfig({ OPENEXEC_DATA_DIR: dir })));

  test('keeps every signed byte, verifies, returns the same receipts, and still catches a tampered body or hash', async () => {
    const rootBefore = (() => {
      const db = new Database(dbPath, { readonly: true });
      const root = new MerkleStore(db).root(before.length);
      db.close();
      return root;
    })();
    const c = await open();
    const db = rawDb(c);
    expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);

    const stored = db.prepare('SELECT seq, hash_bytes, signature_bytes, body FROM receipts ORDER BY seq').all() as {
      seq: number;
      hash_bytes: Buffer;
      signature_bytes: Buffer;
      body: string;
    }[];
    expect(stored.map((r) => r.seq)).toEqual(before.map((r) => r.seq));
    stored.forEach((r, i) => {
      expect(r.body).toBe(before[i]!.body);
      expect(r.hash_bytes.toString('hex')).toBe(before[i]!.hash);
      expect(r.signature_bytes.toString('base64')).toBe(before[i]!.signature);
    });
    expect(verifyChain(db, c.receiptVerifier)).toEqual({ valid: true, checked: 60, firstBadSeq: null, problem: null });
    expect(c.ledger.tree.root(before.length)).toEqual(rootBefore);

    // The DTOs the console and the API return are the ones the previous layout gave.
    const page = c.ledger.read.search({ limit: 100 });
    const expected = [...before].reverse().map((row) => {
      const agent = (JSON.parse(row.body) as { agent?: string }).agent ?? null;
      return receiptFromRow({ ...row, agent }, c.ledger.bodies.of(row.seq));
    });
    expect(page.items).toEqual(expected);
    expect(c.ledger.read.search({ id: 'p-3' }).items.map((r) => r.seq)).toEqual([20, 19]);
    expect(c.ledger.read.search({ hash: before[9]!.hash }).items.map((r) => r.seq)).toEqual([10]);
    const byRequest = before.filter((r) => r.request_hash === 'a'.repeat(64) && r.event === 'denied').map((r) => r.seq);
    expect(byRequest.length).toBeGreaterThan(0);
    expect(c.ledger.read.search({ hash: 'a'.repeat(64), events: ['denied'] }).items.map((r) => r.seq)).toEqual(byRequest.reverse());
    expect(c.ledger.read.search({ approverKeyId: '0123456789abcdef', action: 'echo' }).items).toHaveLength(10);
    expect(c.ledger.read.search({ text: 'agent', agent: 'builder' }).items.map((r) => r.seq)).toEqual([49, 37, 25, 13, 1]);

    // The chain goes on from where it was; retention purges the migrated receipts' bodies; a backup verifies.
    c.ledger.witness(() => c.ledger.append({ event: 'config', details: json({ kind: 'after-migration' }) }));
    expect(verifyChain(db, c.receiptVerifier)).toMatchObject({ valid: true, checked: 61 });
    const purge = await c.purgeOlderThan(Date.parse('2026-01-01T00:00:30.000Z'), 'operator');
    expect(purge).toMatchObject({ fromSeq: 1, toSeq: 29 });
    expect(verifyChain(db, c.receiptVerifier)).toMatchObject({ valid: true, checked: 62 });
    expect(sideTableProblems(db)).toEqual([]);
    const backup = await c.ledger.backup(c.receiptVerifier, join(dir, 'copy.db'));
    expect(backup.seq).toBe(62);

    db.exec('DROP TRIGGER receipts_append_only_update');
    db.prepare('UPDATE receipts SET body = ? WHERE seq = 7').run(before[6]!.body.replace('"v":2', '"v":3'));
    expect(verifyChain(db, c.receiptVerifier)).toMatchObject({
      valid: false,
      firstBadSeq: 7,
      problem: expect.stringMatching(/^hash does not match/),
    });
    db.prepare('UPDATE receipts SET body = ? WHERE seq = 7').run(before[6]!.body);
    db.prepare('UPDATE receipts SET hash_bytes = ? WHERE seq = 12').run(Buffer.alloc(32));
    expect(verifyChain(db, c.receiptVerifier)).toMatchObject({
      valid: false,
      firstBadSeq: 12,
      problem: 'hash does not match the receipt body',
    });
  });

  test('refuses, naming the receipt, a ledger whose copied column differs from its signed body, and leaves it as it was', () => {
    const old = new Database(dbPath);
    old.pragma('foreign_keys = ON');
    old.exec('DROP TRIGGER receipts_append_only_update');
    old.prepare("UPDATE receipts SET action = 'transfer' WHERE seq = 5").run();
    expect(() => migrate(old)).toThrow(/^receipt 5: its stored action differs from its signed body/);
    expect(old.pragma('user_version', { simple: true })).toBe(PREVIOUS);
    expect(old.prepare('SELECT action, body FROM receipts WHERE seq = 5').get()).toEqual({ action: 'transfer', body: before[4]!.body });
    expect(old.pragma('foreign_keys', { simple: true })).toBe(1);
    old.close();
  });

  test('refuses a ledger holding a body that is not JSON (the new columns are read out of it), naming the receipt', () => {
    const old = new Database(dbPath);
    old.exec('DROP TRIGGER receipts_append_only_update');
    old.prepare('UPDATE receipts SET body = ? WHERE seq = 9').run(before[8]!.body.slice(0, -1));
    expect(() => migrate(old)).toThrow(/^receipt 9: its signed body is not JSON/);
    expect(old.pragma('user_version', { simple: true })).toBe(PREVIOUS);
    old.close();
  });

  test('after it, a body that is not JSON cannot be written at all; one edited otherwise is caught', async () => {
    const c = await open();
    const db = rawDb(c);
    db.exec('DROP TRIGGER receipts_append_only_update');
    expect(() => db.prepare('UPDATE receipts SET body = ? WHERE seq = 9').run(before[8]!.body.slice(0, -1))).toThrow(/malformed JSON/);
    expect(db.prepare('SELECT body FROM receipts WHERE seq = 9').pluck().get()).toBe(before[8]!.body);
  });

  test('a signature or hash that was not canonical text still fails after the migration', async () => {
    const old = new Database(dbPath);
    old.exec('DROP TRIGGER receipts_append_only_update');
    // Base64 that decodes leniently to the right 64 bytes, and a hash in capitals: neither verified before.
    old.prepare('UPDATE receipts SET signature = ? WHERE seq = 3').run(`${before[2]!.signature.slice(0, -2)}=\n=`);
    old.prepare('UPDATE receipts SET hash = upper(hash) WHERE seq = 8').run();
    old.close();
    const c = await open();
    const chain = verifyChain(rawDb(c), c.receiptVerifier);
    expect(chain).toMatchObject({ valid: false, firstBadSeq: 3, problem: 'signature is not strict base64 of 64 bytes' });
    expect(c.ledger.read.verifyOne(c.receiptVerifier, 8)).toMatchObject({ valid: false, hashValid: false });
  });
});
