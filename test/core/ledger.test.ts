import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../support/harness.ts';
import { loadConfig } from '../../src/main/app/config.ts';
import { OpenExecCore } from '../../src/main/core/openexec-core.ts';
import { verifyChain, verifyOneReceipt } from '../../src/main/core/ledger/verify-ledger.ts';
import { parseJson } from '../../src/main/core/json/parse.ts';
import type { JsonObject } from '../../src/main/core/json/json-value.ts';
import { Ed25519Signer, Ed25519Verifier } from '../../src/main/core/crypto/ed25519.ts';
import { createHash } from 'node:crypto';
import { rawDb } from '../support/raw-db.ts';

describe('the receipt ledger (real SQLite file)', () => {
  let dir: string;
  let core: OpenExecCore;
  beforeEach(async () => {
    dir = tempDir();
    core = await OpenExecCore.open(loadConfig({ OPENEXEC_DATA_DIR: dir }));
    for (let i = 0; i < 5; i++) {
      await core.engine.execute({ action: 'add', payload: parseJson(`{"a":${i},"b":1}`) as JsonObject, nonce: `l-${i}`, artifact: null });
    }
    await core.engine.execute({ action: 'nope', payload: parseJson('{}') as JsonObject, nonce: 'l-x', artifact: null });
  });
  afterEach(() => {
    core.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('receipts form a gapless, signed hash chain that a reviewer can check by hand', () => {
    const rows = rawDb(core).prepare('SELECT seq, hash, prev_hash, body, signature FROM receipts ORDER BY seq').all() as {
      seq: number;
      hash: string;
      prev_hash: string;
      body: string;
      signature: string;
    }[];
    expect(rows.map((r) => r.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    let prev = '0'.repeat(64);
    const verifier = new Ed25519Verifier(core.ledger.publicKey);
    for (const r of rows) {
      expect(createHash('sha256').update(r.body, 'utf8').digest('hex')).toBe(r.hash);
      const body = JSON.parse(r.body) as Record<string, unknown>;
      expect(body['seq']).toBe(r.seq);
      expect(body['prev_hash']).toBe(prev);
      expect(body['receipt_key_id']).toBe(core.ledger.keyId);
      expect(verifier.verify(Buffer.from(r.body), Buffer.from(r.signature, 'base64'))).toBe(true);
      prev = r.hash;
    }
    const refused = JSON.parse(rows[5]!.body) as Record<string, unknown>;
    expect(refused).toMatchObject({ event: 'refused', action: 'nope', reason: 'Unknown action: nope', status: 400 });
    expect(verifyChain(rawDb(core), core.receiptVerifier)).toEqual({ valid: true, checked: 6, firstBadSeq: null, problem: null });
  });

  test('receipts are append-only: UPDATE and DELETE are refused by the database', () => {
    expect(() => rawDb(core).prepare("UPDATE receipts SET reason = 'x' WHERE seq = 1").run()).toThrow(/append-only/);
    expect(() => rawDb(core).prepare('DELETE FROM receipts WHERE seq = 1').run()).toThrow(/append-only/);
  });

  test('a tampered body, a forged re-hash and a deleted receipt are each found at the right place', () => {
    rawDb(core).exec('DROP TRIGGER receipts_append_only_update; DROP TRIGGER receipts_append_only_delete;');
    const body3 = rawDb(core).prepare('SELECT body FROM receipts WHERE seq = 3').pluck().get() as string;
    const hash3 = rawDb(core).prepare('SELECT hash FROM receipts WHERE seq = 3').pluck().get() as string;
    rawDb(core).prepare('UPDATE receipts SET body = ? WHERE seq = 3').run(body3.replace('"v":2', '"v":9'));
    expect(verifyChain(rawDb(core), core.receiptVerifier)).toMatchObject({ valid: false, firstBadSeq: 3, checked: 2 });
    expect(verifyOneReceipt(rawDb(core), core.receiptVerifier, 3)).toMatchObject({ valid: false, hashValid: false });

    // An attacker who also fixes the hash still cannot sign: the signature gives it away.
    const forged = body3.replace('"v":2', '"v":9');
    rawDb(core).prepare('UPDATE receipts SET hash = ? WHERE seq = 3').run(createHash('sha256').update(forged).digest('hex'));
    const check = verifyChain(rawDb(core), core.receiptVerifier);
    expect(check.firstBadSeq).toBe(3);
    expect(check.problem).toMatch(/signature/);

    rawDb(core).prepare('UPDATE receipts SET body = ?, hash = ? WHERE seq = 3').run(body3, hash3);
    expect(verifyChain(rawDb(core), core.receiptVerifier).valid).toBe(true);
    rawDb(core).pragma('foreign_keys = OFF');
    rawDb(core).prepare('DELETE FROM receipts WHERE seq = 5').run();
    const gap = verifyChain(rawDb(core), core.receiptVerifier);
    expect(gap).toMatchObject({ valid: false, firstBadSeq: 6, checked: 4 });
    expect(gap.problem).toMatch(/sequence gap/);
  });

  test('a missing or different receipt key stops start-up instead of breaking the chain', async () => {
    core.close();
    const keyFile = join(dir, 'receipt-key.pem');
    const original = readFileSync(keyFile, 'utf8');
    rmSync(keyFile);
    const open = () => OpenExecCore.open(loadConfig({ OPENEXEC_DATA_DIR: dir }));
    await expect(open()).rejects.toThrow(
      /receipt-key\.pem is missing, but the ledger is signed by receipt key [0-9a-f]{16}: restore that key file/,
    );
    expect(existsSync(keyFile)).toBe(false);
    writeFileSync(keyFile, Ed25519Signer.generate().toPkcs8Pem(), { mode: 0o600 });
    await expect(open()).rejects.toThrow(/holds key [0-9a-f]{16}, but the ledger is signed by receipt key/);
    writeFileSync(keyFile, original, { mode: 0o600 });
    core = await open();
    expect(verifyChain(rawDb(core), core.receiptVerifier).valid).toBe(true);
  });

  test('a column edited beside its signed body (what search and the CLI show) is found', () => {
    rawDb(core).exec('DROP TRIGGER receipts_append_only_update');
    rawDb(core).prepare("UPDATE receipts SET reason = 'nothing to see', time = '2020-01-01T00:00:00.000Z' WHERE seq = 6").run();
    const check = verifyChain(rawDb(core), core.receiptVerifier);
    expect(check).toMatchObject({ valid: false, firstBadSeq: 6 });
    expect(check.problem).toBe('stored time differs from the signed body; stored reason differs from the signed body');
  });

  test('reopening keeps the chain and the receipt key', async () => {
    const keyId = core.ledger.keyId;
    core.close();
    core = await OpenExecCore.open(loadConfig({ OPENEXEC_DATA_DIR: dir }));
    expect(core.ledger.keyId).toBe(keyId);
    expect(verifyChain(rawDb(core), core.receiptVerifier).valid).toBe(true);
  });
});
