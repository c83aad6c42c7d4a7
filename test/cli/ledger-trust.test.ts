import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { tempDir } from '../support/harness.ts';
import { cli } from '../support/cli.ts';
import { TestApprover } from '../support/clawshield.ts';
import { loadConfig } from '../../src/main/app/config.ts';
import { OpenExecCore } from '../../src/main/core/openexec-core.ts';
import { Ed25519Signer } from '../../src/main/core/crypto/ed25519.ts';
import { canonicalJson } from '../../src/main/core/json/canonical.ts';
import { parseJson } from '../../src/main/core/json/parse.ts';
import { sha256Hex } from '../../src/main/core/json/request-hash.ts';
import type { JsonObject } from '../../src/main/core/json/json-value.ts';
import { rawDb } from '../support/raw-db.ts';

/** Which key a verdict trusts, the recorded head, and approval evidence, on a real ledger. */
describe('verify-ledger: the trusted key, the head, approval evidence', () => {
  const approver = new TestApprover();
  let original: string;
  let work: string;
  let approverFile: string;
  let head: { seq: number; hash: string };
  let keyId: string;

  beforeAll(async () => {
    original = tempDir();
    work = tempDir('openexec-trust-');
    approverFile = join(work, 'clawshield.pem');
    writeFileSync(approverFile, approver.publicKeyPem);
    const core = await OpenExecCore.open(
      loadConfig({ OPENEXEC_DATA_DIR: original, OPENEXEC_MODE: 'clawshield', CLAWSHIELD_PUBLIC_KEY: approver.publicKeyPem }),
    );
    try {
      await core.engine.execute({ action: 'add', payload: {}, nonce: 'refused', artifact: null });
      for (let i = 0; i < 3; i++) {
        const wire = `{"a":${i},"b":1}`;
        const o = await core.engine.execute({
          action: 'add',
          payload: parseJson(wire) as JsonObject,
          nonce: `t-${i}`,
          artifact: approver.mint('add', wire),
        });
        expect(o.kind).toBe('executed');
      }
      const tip = rawDb(core).prepare('SELECT seq, hash FROM receipts ORDER BY seq DESC LIMIT 1').get() as { seq: number; hash: string };
      head = tip;
      keyId = core.ledger.keyId;
    } finally {
      core.close();
    }
  });
  afterAll(() => {
    rmSync(original, { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
  });

  function copy(name: string, change: (db: Database.Database, dir: string) => void): string {
    const dir = join(work, name);
    cpSync(original, dir, { recursive: true });
    const db = new Database(join(dir, 'openexec.db'));
    db.pragma('foreign_keys = OFF');
    db.exec('DROP TRIGGER receipts_append_only_delete; DROP TRIGGER receipts_append_only_update');
    change(db, dir);
    db.close();
    return dir;
  }

  test('the verdict names the key and where it came from; the recorded head holds', async () => {
    const r = await cli(
      original,
      'verify-ledger',
      '--approver-key',
      approverFile,
      '--key-id',
      keyId,
      '--expect-head',
      `${head.seq}:${head.hash}`,
    );
    expect(r.stdout).toContain(
      `trusted receipt key ${keyId} (from the key file beside the ledger, ${join(original, 'receipt-key.pem')}, pinned by --key-id)`,
    );
    expect(r.stdout).toContain(`head: receipt ${head.seq} is the recorded ${head.hash}`);
    expect(r.stdout).toContain(`ledger valid: ${head.seq} receipts`);
    expect(r.code).toBe(0);
  });

  test('--expect-head: the newest receipt removed, or another hash at that place, exits 3', async () => {
    const cut = copy('cut', (db) => db.prepare('DELETE FROM receipts WHERE seq = ?').run(head.seq));
    const removed = await cli(cut, 'verify-ledger', '--approver-key', approverFile, '--expect-head', `${head.seq}:${head.hash}`);
    expect(removed.stdout).toContain(`ledger valid: ${head.seq - 1} receipts`);
    expect(removed.stdout).toContain(`head INVALID: the ledger has no receipt ${head.seq}: receipts were removed from its end`);
    expect(removed.code).toBe(3);
    const other = await cli(original, 'verify-ledger', '--approver-key', approverFile, '--expect-head', `${head.seq}:${'0'.repeat(64)}`);
    expect(other.stdout).toContain('the ledger was rewritten');
    expect(other.code).toBe(3);
    const bad = await cli(original, 'verify-ledger', '--expect-head', 'latest');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--expect-head must be SEQ:HASH');
  });

  test('a swapped key file is refused when the reviewer pinned the key id', async () => {
    const dir = copy('swapped', (_db, d) => writeFileSync(join(d, 'receipt-key.pem'), Ed25519Signer.generate().toPkcs8Pem()));
    const r = await cli(dir, 'verify-ledger', '--key-id', keyId);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(`not the pinned --key-id ${keyId}`);
  });

  test('approval evidence: every approved ending carries the artifact; a forged one is caught even when re-signed', async () => {
    const db = new Database(join(original, 'openexec.db'), { readonly: true });
    const bodies = (db.prepare("SELECT body FROM receipts WHERE event = 'executed' ORDER BY seq").pluck().all() as string[]).map((b) =>
      JSON.parse(b),
    );
    db.close();
    expect(bodies).toHaveLength(3);
    for (const b of bodies) {
      expect(Object.keys(b.approval).sort()).toEqual([
        'action_hash',
        'approval_id',
        'expires_at',
        'issued_at',
        'key_id',
        'signature',
        'tenant_id',
      ]);
      expect(b.approval).toMatchObject({
        approval_id: b.approval_id,
        tenant_id: b.tenant_id,
        action_hash: b.request_hash,
        key_id: b.approver_key_id,
      });
    }
    // The forger holds the receipt key: a later expiry, re-signed so hash and signature hold.
    const signer = Ed25519Signer.fromPkcs8Pem(readFileSync(join(original, 'receipt-key.pem'), 'utf8'));
    const dir = copy('forged-evidence', (d) => {
      const row = d.prepare('SELECT seq, body FROM receipts WHERE seq = ?').get(head.seq) as { seq: number; body: string };
      const body = parseJson(row.body) as JsonObject;
      (body['approval'] as JsonObject)['expires_at'] = '2099-01-01T00:00:00.000000';
      const text = canonicalJson(body);
      const signature = Buffer.from(signer.sign(Buffer.from(text, 'utf8')));
      d.prepare('UPDATE receipts SET body = ?, hash_bytes = ?, signature_bytes = ? WHERE seq = ?').run(
        text,
        Buffer.from(sha256Hex(text), 'hex'),
        signature,
        row.seq,
      );
    });
    const r = await cli(dir, 'verify-ledger', '--approver-key', approverFile);
    expect(r.stdout).toContain(`ledger INVALID at receipt ${head.seq}: approval`);
    expect(r.stdout).toContain('the signature does not verify with approver key');
    expect(r.code).toBe(3);
    // Without ClawShield's key the evidence cannot be checked, and the verdict says so.
    const unknown = await cli(original, 'verify-ledger');
    expect(unknown.stdout).toContain('not a trusted approver key (configure it: CLAWSHIELD_PUBLIC_KEY or --approver-key)');
    expect(unknown.code).toBe(3);
  });
});
