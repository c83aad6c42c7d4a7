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
    const rows = rawDb(core).prepare('SELECT seq, hash, prev_hash, body, signature_bytes FROM receipts ORDER BY seq').all() as {
      seq: number;
      hash: string;
      prev_hash: string;
      body: string;
      signature_bytes: Buffer;
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
      expect(r.signature_bytes).toHaveLength(64);
      expect(verifier.verify(Buffer.from(r.body), r.signature_bytes)).toBe(true);
      prev = r.hash;
    }
    const refused = JSON.parse(rows[5]!.body) as Record<string, unknown>;
    expect(refused).toMatchObject({ event: 'refused', action: 'nope', reason: 'Unknown action: nope', status: 400 });
    expect(verifyChain(rawDb(core), core.receiptVerifier)).toEqual({ valid: true, checked: 6, firstBadSeq: null, problem: null });
  });

  test('receipts are append-only: UPDATE and DELETE are refused by the database', () => {
    expect(() => rawDb(core).prepare("UPDATE receipts SET event = 'x' WHERE seq = 1").run()).toThrow(/append-only/);
    expect(() => rawDb(core).prepare('DELETE FROM receipts WHERE seq = 1').run()).toThrow(/append-only/);
  });

  test('a tampered body, a forged re-hash and a deleted receipt are each found at the right place', () => {
    rawDb(core).exec('DROP TRIGGER receipts_append_only_update; DROP TRIGGER receipts_append_only_delete;');
    const body3 = rawDb(core).prepare('SELECT body FROM receipts WHERE seq = 3').pluck().get() as string;
    const hash3 = rawDb(core).prepare('SELECT hash_bytes FROM receipts WHERE seq = 3').pluck().get() as Buffer;
    rawDb(core).prepare('UPDATE receipts SET body = ? WHERE seq = 3').run(body3.replace('"v":2', '"v":9'));
    expect(verifyChain(rawDb(core), core.receiptVerifier)).toMatchObject({ valid: false, firstBadSeq: 3, checked: 2 });
    expect(verifyOneReceipt(rawDb(core), core.receiptVerifier, 3)).toMatchObject({ valid: false, hashValid: false });

    // An attacker who also fixes the hash still cannot sign: the signature gives it away.
    const forged = body3.replace('"v":2', '"v":9');
    rawDb(core).prepare('UPDATE receipts SET hash_bytes = ? WHERE seq = 3').run(createHash('sha256').update(forged).digest());
    const check = verifyChain(rawDb(core), core.receiptVerifier);
    expect(check.firstBadSeq).toBe(3);
    expect(check.problem).toMatch(/signature/);

    rawDb(core).prepare('UPDATE receipts SET body = ?, hash_bytes = ? WHERE seq = 3').run(body3, hash3);
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

  test('what search and the CLI show is read from the signed body: a generated column cannot be edited; the stored event, action, hash and signature are checked', () => {
    rawDb(core).exec('DROP TRIGGER receipts_append_only_update');
    for (const column of ['reason', 'time', 'exec_id', 'request_hash', 'prev_hash', 'hash']) {
      expect(() => rawDb(core).prepare(`UPDATE receipts SET ${column} = 'x' WHERE seq = 6`).run()).toThrow(
        /cannot UPDATE generated column/,
      );
    }
    const refused = rawDb(core).prepare('SELECT event, action, reason, time, prev_hash, hash FROM receipts WHERE seq = 6').get() as Record<
      string,
      string
    >;
    const body = JSON.parse(rawDb(core).prepare('SELECT body FROM receipts WHERE seq = 6').pluck().get() as string) as Record<
      string,
      unknown
    >;
    expect(refused).toMatchObject({
      event: body['event'],
      action: body['action'],
      reason: body['reason'],
      time: body['time'],
      prev_hash: body['prev_hash'],
    });

    // The event and action are kept as columns for the filters: each is held to the body.
    rawDb(core).prepare("UPDATE receipts SET event = 'executed', action = 'add' WHERE seq = 6").run();
    expect(verifyChain(rawDb(core), core.receiptVerifier)).toMatchObject({
      valid: false,
      firstBadSeq: 6,
      problem: 'stored event differs from the signed body; stored action differs from the signed body',
    });
    rawDb(core).prepare("UPDATE receipts SET event = 'refused', action = 'nope' WHERE seq = 6").run();
    expect(verifyChain(rawDb(core), core.receiptVerifier).valid).toBe(true);

    const signature = rawDb(core).prepare('SELECT signature_bytes FROM receipts WHERE seq = 6').pluck().get() as Buffer;
    const other = Buffer.from(signature);
    other[0] = other[0]! ^ 1;
    rawDb(core).prepare('UPDATE receipts SET signature_bytes = ? WHERE seq = 6').run(other);
    expect(verifyChain(rawDb(core), core.receiptVerifier)).toMatchObject({
      valid: false,
      firstBadSeq: 6,
      problem: 'signature does not verify with the receipt key',
    });
    rawDb(core).prepare('UPDATE receipts SET signature_bytes = ? WHERE seq = 6').run(signature.subarray(0, 63));
    expect(verifyChain(rawDb(core), core.receiptVerifier).problem).toBe('signature is not strict base64 of 64 bytes');
  });

  test('reopening keeps the chain and the receipt key', async () => {
    const keyId = core.ledger.keyId;
    core.close();
    core = await OpenExecCore.open(loadConfig({ OPENEXEC_DATA_DIR: dir }));
    expect(core.ledger.keyId).toBe(keyId);
    expect(verifyChain(rawDb(core), core.receiptVerifier).valid).toBe(true);
  });
});
