import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { loadConfig } from '../../src/main/app/config.ts';
import { OpenExecCore } from '../../src/main/core/openexec-core.ts';
import { loadOrCreateSigningKey } from '../../src/main/core/crypto/key-file.ts';
import { canonicalJson } from '../../src/main/core/json/canonical.ts';
import type { JsonObject } from '../../src/main/core/json/json-value.ts';
import { requestHash, sha256Hex } from '../../src/main/core/json/request-hash.ts';
import { migrate } from '../../src/main/core/store/migrations.ts';
import { verifyChain } from '../../src/main/core/ledger/verify-ledger.ts';
import { sideTableProblems } from '../../src/main/core/ledger/verify-side-tables.ts';
import { tempDir } from '../support/harness.ts';
import { rawDb } from '../support/raw-db.ts';

const json = (o: Record<string, unknown>) => Object.assign(Object.create(null) as JsonObject, o);

describe('a ledger of format 1 receipts (payloads embedded), upgraded', () => {
  let dir: string;
  let core: OpenExecCore;
  const payload = json({ secret: 'OldFormatPayload' });
  const execId = '00000000-0000-4000-8000-000000000001';

  beforeEach(async () => {
    dir = tempDir('openexec-format1-');
    const signer = loadOrCreateSigningKey(join(dir, 'receipt-key.pem')).signer;
    const old = new Database(join(dir, 'openexec.db'));
    migrate(old, 3);
    const hash = requestHash('echo', payload);
    const result = canonicalJson(json({ echo: payload }));
    const legacyJson = '{"echo": {"secret": "OldFormatPayload"}}';
    const drafts = [
      {
        event: 'proposed',
        action: 'echo',
        nonce: 'p-1',
        payload,
        request_hash: hash,
        proposal_id: 'p',
        context: 'old words',
        details: json({ expires_at: '2025-01-01T00:10:00.000Z' }),
      },
      {
        event: 'executed',
        action: 'echo',
        nonce: 'e-1',
        payload,
        request_hash: hash,
        exec_id: execId,
        result_hash: sha256Hex(result),
        legacy_receipt: sha256Hex(`${execId}:${legacyJson}`),
      },
    ];
    let prev = '0'.repeat(64);
    drafts.forEach((d, i) => {
      const seq = i + 1;
      const time = `2025-01-01T00:00:0${seq}.000Z`;
      const body = canonicalJson(json({ v: 1n, seq: BigInt(seq), prev_hash: prev, time, receipt_key_id: signer.keyId, ...d }));
      const row = {
        seq,
        event: d.event,
        time,
        action: 'echo',
        hash: sha256Hex(body),
        prev_hash: prev,
        body,
        signature: Buffer.from(signer.sign(Buffer.from(body))).toString('base64'),
        exec_id: d.exec_id ?? null,
        proposal_id: d.proposal_id ?? null,
        request_hash: hash,
      };
      old
        .prepare(
          `INSERT INTO receipts (seq, event, time, action, hash, prev_hash, body, signature, exec_id, proposal_id, request_hash)
         VALUES (@seq, @event, @time, @action, @hash, @prev_hash, @body, @signature, @exec_id, @proposal_id, @request_hash)`,
        )
        .run(row);
      prev = row.hash;
    });
    old
      .prepare(
        `INSERT INTO executions (id, nonce, request_hash, action, status, result, result_legacy_json, approved, created_at, receipt_seq)
       VALUES (?, 'e-1', ?, 'echo', 'executed', ?, ?, 1, '2025-01-01T00:00:02.000Z', 2)`,
      )
      .run(execId, hash, result, legacyJson);
    old.close();
    core = await OpenExecCore.open({
      ...loadConfig({ OPENEXEC_DATA_DIR: dir }),
      clock: { now: () => Date.parse('2026-01-01T00:00:00.000Z') },
    });
  });
  afterEach(() => {
    core.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('verifies as it is, and a purge leaves its receipts as they are (their results, which they only hash, go)', async () => {
    expect(verifyChain(rawDb(core), core.receiptVerifier)).toMatchObject({ valid: true });
    expect(sideTableProblems(rawDb(core))).toEqual([]);
    const before = rawDb(core).prepare('SELECT body FROM receipts WHERE seq <= 2 ORDER BY seq').pluck().all();

    const purge = await core.purgeOlderThan(Date.parse('2025-06-01T00:00:00.000Z'), 'operator');
    expect(purge).toMatchObject({ receipts: 0, bodies: 0, executions: 1, fromSeq: null });
    const body = JSON.parse(rawDb(core).prepare('SELECT body FROM receipts WHERE seq = ?').pluck().get(purge.receiptSeq) as string);
    expect(body.details).not.toHaveProperty('from_seq');

    expect(rawDb(core).prepare('SELECT body FROM receipts WHERE seq <= 2 ORDER BY seq').pluck().all()).toEqual(before);
    expect(before[0]).toContain('OldFormatPayload');
    expect(rawDb(core).prepare('SELECT result, result_legacy_json, purged_at FROM executions').get()).toEqual({
      result: null,
      result_legacy_json: null,
      purged_at: purge.purgedAt,
    });
    expect(await core.legacyReceiptOf(execId)).toBeNull();
    expect(verifyChain(rawDb(core), core.receiptVerifier)).toMatchObject({ valid: true });
    expect(sideTableProblems(rawDb(core))).toEqual([]);
  });

  test("an edited result or legacy text of a format 1 execution is caught: its receipt's result_hash and legacy_receipt commit to them", () => {
    // Format 2 commits to the result by salted hash; format 1 by result_hash and legacy_receipt,
    // which only a bundle's check held the stored result to.
    const db = rawDb(core);
    db.prepare('UPDATE executions SET result = ? WHERE id = ?').run('{"echo":{"secret":"Edited"}}', execId);
    expect(sideTableProblems(db)).toEqual([`execution ${execId} keeps a result its receipt 2 does not commit to (result_hash)`]);
    db.prepare('UPDATE executions SET result = ?, result_legacy_json = ? WHERE id = ?').run(
      canonicalJson(json({ echo: payload })),
      '{"echo": {"secret": "Edited"}}',
      execId,
    );
    expect(sideTableProblems(db)).toEqual([`execution ${execId} keeps a result its receipt 2 does not commit to (legacy_receipt)`]);
  });
});
