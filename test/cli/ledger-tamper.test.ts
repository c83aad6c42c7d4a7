import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { tempDir } from '../support/harness.ts';
import { cli } from '../support/cli.ts';
import { TestApprover } from '../support/clawshield.ts';
import { loadConfig } from '../../src/main/app/config.ts';
import { OpenExecCore } from '../../src/main/core/openexec-core.ts';
import { parseJson } from '../../src/main/core/json/parse.ts';
import type { JsonObject } from '../../src/main/core/json/json-value.ts';
import { createHash } from 'node:crypto';
import { Ed25519Signer, Ed25519Verifier } from '../../src/main/core/crypto/ed25519.ts';
import { BODY_NOT_JSON, verifyChain, verifyChainRange, verifyOneReceipt } from '../../src/main/core/ledger/verify-ledger.ts';
import { GENERATED_BODY_FIELDS } from '../../src/main/core/ledger/receipts-layout.ts';

/** The receipt key's verifier, from the key file beside the ledger. */
const receiptVerifier = (dir: string) =>
  new Ed25519Verifier(Ed25519Signer.fromPkcs8Pem(readFileSync(join(dir, 'receipt-key.pem'), 'utf8')).publicKey);

/**
 * Every tampering a reviewer reproduced against the ledger, each on its own copy of one real
 * ledger, checked offline by `openexec verify-ledger` as a reviewer runs it.
 */
describe('verify-ledger catches what a hash chain alone cannot', () => {
  const approver = new TestApprover();
  let original: string;
  let work: string;
  let checkpointFile: string;
  let checkpointSize: number;
  /** ClawShield's public key as a reviewer holds it: its approvals' evidence is checked with it. */
  let approverFile: string;
  const envFor = (dir: string) => ({ OPENEXEC_DATA_DIR: dir, OPENEXEC_MODE: 'clawshield', CLAWSHIELD_PUBLIC_KEY: approver.publicKeyPem });

  beforeAll(async () => {
    original = tempDir();
    work = tempDir('openexec-tamper-');
    approverFile = join(work, 'clawshield.pem');
    writeFileSync(approverFile, approver.publicKeyPem);
    const core = await OpenExecCore.open(loadConfig(envFor(original)));
    try {
      for (let i = 0; i < 6; i++) {
        const wire = `{"a":${i},"b":1}`;
        const outcome = await core.engine.execute({
          action: 'add',
          payload: parseJson(wire) as JsonObject,
          nonce: `t-${i}`,
          artifact: approver.mint('add', wire),
        });
        expect(outcome.kind).toBe('executed');
      }
      // Three refusals at the tail: removing them breaks no side table, only the history.
      for (let i = 0; i < 3; i++) {
        await core.engine.execute({ action: 'add', payload: {}, nonce: `r-${i}`, artifact: null });
      }
      const checkpoint = await core.checkpoints.issue();
      checkpointSize = checkpoint.size;
      checkpointFile = join(work, 'saved-checkpoint.txt');
      writeFileSync(checkpointFile, checkpoint.note);
    } finally {
      core.close();
    }
  });
  afterAll(() => {
    rmSync(original, { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
  });

  /** A copy of the whole data directory, changed by `tamper` through a plain SQLite connection. */
  function tampered(name: string, tamper: (db: Database.Database) => void): string {
    const dir = join(work, name);
    mkdirSync(dir);
    cpSync(original, dir, { recursive: true });
    const db = new Database(join(dir, 'openexec.db'));
    db.pragma('foreign_keys = OFF');
    db.exec('DROP TRIGGER receipts_append_only_delete');
    tamper(db);
    db.close();
    return dir;
  }

  test('the untouched ledger verifies, and extends its saved checkpoint', async () => {
    const r = await cli(original, 'verify-ledger', '--approver-key', approverFile, '--checkpoint', checkpointFile);
    expect(r.stdout).toContain(`ledger valid: ${checkpointSize} receipts`);
    expect(r.stdout).toContain('checkpoints: the ledger extends all 1 saved');
    expect(r.code).toBe(0);
  });

  test.each([
    ['the last receipt', 1],
    ['the last three', 3],
    ['all of them', Infinity],
  ])('deleting %s: the chain still holds, the saved checkpoint does not (exit 3)', async (_what, n) => {
    const keep = Number.isFinite(n) ? checkpointSize - n : 0;
    const dir = tampered(`cut-${keep}`, (db) => db.prepare('DELETE FROM receipts WHERE seq > ?').run(keep));
    // The chain alone holds (deleting everything only shows in the side tables).
    const chainOnly = await cli(dir, 'verify-ledger', '--approver-key', approverFile);
    expect(chainOnly.stdout).toContain(`ledger valid: ${keep} receipts`);
    const r = await cli(dir, 'verify-ledger', '--approver-key', approverFile, '--checkpoint', checkpointFile);
    expect(r.code, r.stdout + r.stderr).toBe(3);
    expect(r.stdout).toContain(`checkpoints INVALID: the ledger has ${keep} receipts, fewer than the ${checkpointSize}`);
    expect(r.stdout).toContain('receipts were removed');
  });

  test('a fork re-signed with the stolen receipt key: chain valid, saved checkpoint names where it parts', async () => {
    // The forger cuts the tail, removes the tree nodes and checkpoints that covered it, and
    // appends other receipts with the real key.
    const keep = checkpointSize - 2;
    tampered('fork', (db) => {
      db.prepare('DELETE FROM receipt_bodies WHERE seq > ?').run(keep);
      db.prepare('DELETE FROM receipts WHERE seq > ?').run(keep);
      db.exec('DROP TRIGGER merkle_nodes_append_only_delete');
      db.prepare('DELETE FROM merkle_nodes WHERE (idx + 1) * (1 << level) > ?').run(keep);
      db.prepare('DELETE FROM checkpoints WHERE size > ?').run(keep);
    });
    const dir = join(work, 'fork');
    const core = await OpenExecCore.open(loadConfig(envFor(dir)));
    try {
      for (let i = 0; i < 2; i++) await core.engine.execute({ action: 'echo', payload: {}, nonce: `fork-${i}`, artifact: null });
      expect(core.ledger.size()).toBe(checkpointSize);
    } finally {
      core.close();
    }
    const earlier = join(work, 'earlier-checkpoints');
    mkdirSync(earlier);
    writeFileSync(join(earlier, 'b.txt'), readFileSync(checkpointFile, 'utf8'));
    const r = await cli(dir, 'verify-ledger', '--approver-key', approverFile, '--checkpoint', earlier);
    expect(r.stdout).toContain(`ledger valid: ${checkpointSize} receipts`);
    expect(r.stdout).toContain(`checkpoints INVALID: the ledger's first ${checkpointSize} receipts are not the ones checkpoint`);
    expect(r.stdout).toContain('rewritten (a fork)');
    expect(r.code).toBe(3);
  });

  test.each([0, -7])('a forged receipt inserted at seq %i, below the chain, is caught (exit 3), not skipped', async (seq) => {
    // INSERT is not refused by the append-only triggers, and seq is an INTEGER PRIMARY KEY: any
    // whole number fits. A walk that starts at 1 never reads a row below it, yet search shows it.
    const forge = (db: Database.Database) => {
      const body = JSON.stringify({ seq, event: 'approved', action: 'add', time: '2026-01-01T00:00:00.000Z', prev_hash: '0'.repeat(64) });
      db.prepare(`INSERT INTO receipts (seq, hash_bytes, signature_bytes, event, action, body) VALUES (?, ?, ?, 'approved', 'add', ?)`).run(
        seq,
        createHash('sha256').update(body).digest(),
        Buffer.alloc(64),
        body,
      );
    };
    const dir = tampered(`below-${seq}`, forge);
    const r = await cli(dir, 'verify-ledger', '--approver-key', approverFile);
    expect(r.stdout).toContain(`ledger INVALID at receipt ${seq}: `);
    expect(r.stdout).toContain('outside the chain: seq must not be below 1');
    expect(r.code, r.stdout + r.stderr).toBe(3);
    const json = await cli(dir, 'verify-ledger', '--approver-key', approverFile, '--json');
    expect(JSON.parse(json.stdout)).toMatchObject({ valid: false, chainValid: false, firstBadSeq: seq });
    // With no receipt left from 1 on, the forged one is still found, not taken for an empty chain.
    const alone = tampered(`alone-${seq}`, (db) => {
      db.prepare('DELETE FROM receipts WHERE seq >= 1').run();
      forge(db);
    });
    const aloneJson = await cli(alone, 'verify-ledger', '--approver-key', approverFile, '--json');
    expect(JSON.parse(aloneJson.stdout)).toMatchObject({ chainValid: false, firstBadSeq: seq });
    // The console's own check (and a backup's) walks the same way.
    const db = new Database(join(dir, 'openexec.db'), { readonly: true });
    try {
      const key = receiptVerifier(dir);
      expect(verifyChain(db, key)).toMatchObject({ valid: false, firstBadSeq: seq });
      expect(verifyChainRange(db, key, 1, 5)).toMatchObject({ valid: false, firstBadSeq: seq });
    } finally {
      db.close();
    }
  });

  test('un-spending an approval is caught in the side tables (exit 3)', async () => {
    const dir = tampered('unspend', (db) => db.exec('UPDATE approvals SET used_by_exec_id = NULL WHERE rowid = 1'));
    const r = await cli(dir, 'verify-ledger', '--approver-key', approverFile);
    expect(r.stdout).toContain('ledger valid:');
    expect(r.stdout).toMatch(/side tables INVALID: approval \S+ authorised execution \S+ but is not recorded as spent by it/);
    expect(r.code).toBe(3);
  });

  test('un-spending an approval behind a receipts table whose columns no longer follow the signed body is caught (exit 3)', async () => {
    // The side-table checks read the receipts' exec_id and approval_id columns, which OpenExec
    // generates from the signed body. Whoever rewrites the file can rebuild the table with plain
    // columns instead, and clear the approval there, in executions and in approvals alike.
    const dir = tampered('unspend-columns', (db) => {
      const spent = db.prepare('SELECT id, approval_id FROM executions WHERE approval_id IS NOT NULL LIMIT 1').get() as {
        id: string;
        approval_id: string;
      };
      const plain = ['time', 'prev_hash', 'reason', 'exec_id', 'proposal_id', 'approval_id', 'approver_key_id', 'request_hash', 'grant_id'];
      db.exec(`
        CREATE TABLE receipts_plain (seq INTEGER PRIMARY KEY, hash_bytes BLOB NOT NULL, signature_bytes BLOB NOT NULL,
          event TEXT NOT NULL, action TEXT, body TEXT NOT NULL, hash TEXT GENERATED ALWAYS AS (lower(hex(hash_bytes))) VIRTUAL,
          ${plain.map((c) => `${c} ANY`).join(', ')}) STRICT;
        INSERT INTO receipts_plain SELECT seq, hash_bytes, signature_bytes, event, action, body, ${plain.join(', ')} FROM receipts;
        DROP TABLE receipts;
        ALTER TABLE receipts_plain RENAME TO receipts;
      `);
      db.prepare('UPDATE receipts SET approval_id = NULL WHERE approval_id = ?').run(spent.approval_id);
      db.prepare('UPDATE executions SET approval_id = NULL WHERE id = ?').run(spent.id);
      db.prepare('DELETE FROM approvals WHERE approval_id = ?').run(spent.approval_id);
    });
    const r = await cli(dir, 'verify-ledger', '--approver-key', approverFile);
    expect(r.stdout).toMatch(/ledger INVALID at receipt \d+: .*stored approval_id differs from the signed body/);
    expect(r.code, r.stdout + r.stderr).toBe(3);
  });

  test('a body that is not JSON behind a table rebuilt around it is reported, not a crash (exit 3)', async () => {
    // SQLite computes the generated columns of every row written, so OpenExec's table cannot
    // hold a body that is not JSON. A table whose generated columns were added after such a row
    // (ALTER TABLE ADD COLUMN checks no existing row) can, and reading a generated column of
    // that row is then an SQLite error, which used to end verify-ledger instead of being its verdict.
    const dir = tampered('not-json-body', (db) => {
      db.exec(`
        CREATE TABLE receipts_loose (seq INTEGER PRIMARY KEY, hash_bytes BLOB NOT NULL, signature_bytes BLOB NOT NULL,
          event TEXT NOT NULL, action TEXT, body TEXT NOT NULL, hash TEXT GENERATED ALWAYS AS (lower(hex(hash_bytes))) VIRTUAL);
        INSERT INTO receipts_loose SELECT seq, hash_bytes, signature_bytes, event, action, body FROM receipts;
        DROP TABLE receipts;
        ALTER TABLE receipts_loose RENAME TO receipts;
        UPDATE receipts SET body = 'not json' WHERE seq = 3;
        ${GENERATED_BODY_FIELDS.map((c) => `ALTER TABLE receipts ADD COLUMN ${c} GENERATED ALWAYS AS (json_extract(body, '$.${c}')) VIRTUAL;`).join('\n')}
      `);
    });
    const r = await cli(dir, 'verify-ledger', '--approver-key', approverFile);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain(
      'ledger INVALID at receipt 3: body is not valid JSON, so none of its columns can be read: the receipts table was rebuilt around it (2 receipts before it hold)',
    );
    expect(r.stdout).toContain(
      "side tables not checked: they are compared with columns read out of the receipts' bodies, and receipt 3's is not JSON",
    );
    expect(r.code, r.stdout + r.stderr).toBe(3);
    // The console's check of the same file says the same (one thread, in-process).
    const db = new Database(join(dir, 'openexec.db'), { readonly: true });
    try {
      const range = verifyChainRange(db, receiptVerifier(dir), 1, 100);
      expect(range).toMatchObject({ valid: false, firstBadSeq: 3, checked: 2 });
      // And its Verify of that one receipt: a verdict, where it used to be an internal error.
      expect(verifyOneReceipt(db, receiptVerifier(dir), 3)).toMatchObject({ seq: 3, valid: false, problems: [BODY_NOT_JSON] });
      expect(verifyOneReceipt(db, receiptVerifier(dir), 2)).toMatchObject({ seq: 2, valid: true });
      expect(verifyOneReceipt(db, receiptVerifier(dir), 4)).toMatchObject({ seq: 4, linkValid: false, valid: false });
    } finally {
      db.close();
    }
  });

  test('one approval made to authorise two executions is caught (exit 3)', async () => {
    const dir = tampered('duplicate', (db) =>
      db.exec(`UPDATE executions SET approval_id = (SELECT approval_id FROM executions WHERE rowid = 1) WHERE rowid = 2`),
    );
    const r = await cli(dir, 'verify-ledger', '--approver-key', approverFile, '--json');
    const verdict = JSON.parse(r.stdout) as { valid: boolean; chainValid: boolean; sideTableProblems: string[] };
    expect(verdict.chainValid).toBe(true);
    expect(verdict.valid).toBe(false);
    expect(verdict.sideTableProblems.join('\n')).toMatch(/authorised 2 executions/);
    expect(r.code).toBe(3);
  });

  test('a checkpoint of another ledger, or an edited one, is refused with one line', async () => {
    const edited = join(work, 'edited.txt');
    writeFileSync(edited, readFileSync(checkpointFile, 'utf8').replace(`\n${checkpointSize}\n`, `\n${checkpointSize + 1}\n`));
    const r = await cli(original, 'verify-ledger', '--approver-key', approverFile, '--checkpoint', edited);
    expect(r.code).toBe(3);
    expect(r.stderr.trim()).toBe(`openexec: ${edited}: checkpoint signature does not verify with the receipt key`);
  });
});
