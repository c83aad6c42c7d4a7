import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { get, post, startServer, tempDir, type RunningServer } from '../support/harness.ts';
import { cli } from '../support/cli.ts';
import { executeWire, TestApprover } from '../support/clawshield.ts';
import { Ed25519Signer, publicKeyToPem } from '../../src/main/core/crypto/ed25519.ts';
import { buildBundle } from '../../src/main/core/ledger/bundle/build-bundle.ts';

/**
 * Bundles made by `openexec export` and by the console contract (the window's Export) from a
 * real server, checked by `openexec verify-bundle` in its own process, genuine and tampered.
 */
describe('export and verify-bundle', () => {
  const approver = new TestApprover();
  let s: RunningServer;
  let work: string;
  let keyId: string;

  beforeAll(async () => {
    s = await startServer({ OPENEXEC_MODE: 'clawshield', CLAWSHIELD_PUBLIC_KEY: approver.publicKeyPem });
    work = tempDir('openexec-bundle-');
    for (let i = 0; i < 4; i++) {
      const wire = `{"a":${i},"b":2.5}`;
      const r = await post(s.url, '/execute', executeWire('add', wire, `b-${i}`, approver.mint('add', wire)));
      expect(r.status).toBe(200);
    }
    await post(s.url, '/execute', executeWire('add', '{"a":1,"b":1}', 'no-artifact'));
    const p = await post(s.url, '/proposals', { action: 'echo', payload: { hello: 'reviewer' }, nonce: 'bundle-op' });
    const approved = await s.app.console.approve({ id: p.body.id });
    expect(approved.ok).toBe(true);
    keyId = (await get(s.url, '/receipts/public-key')).body.key_id;
  });
  afterAll(async () => {
    await s.stop();
    rmSync(work, { recursive: true, force: true });
  });

  const bundleFile = (name: string) => join(work, name);

  test('the CLI writes the same bytes as the console contract, in the documented shape', async () => {
    const file = bundleFile('all.json');
    const run = await cli(s.dataDir, 'export', '--out', file);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const text = readFileSync(file, 'utf8');
    const viaConsole = await s.app.console.exportBundle({});
    expect(viaConsole.ok && viaConsole.value.text).toBe(text);
    const bundle = JSON.parse(text);
    expect(Object.keys(bundle)).toEqual([
      'format',
      'version',
      'public_key_pem',
      'key_id',
      'query',
      'complete',
      'count',
      'checkpoint',
      'approver_keys',
      'receipts',
    ]);
    expect(bundle).toMatchObject({ format: 'openexec-receipt-bundle', version: 1, key_id: keyId, complete: true, query: {} });
    const seqs = bundle.receipts.map((r: { seq: number }) => r.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(bundle.count).toBe(seqs.length);
    expect(seqs[0]).toBe(1);
    expect(bundle.checkpoint.size).toBe(seqs.length);
    const executed = bundle.receipts.filter((r: { body: string }) => JSON.parse(r.body).event === 'executed');
    expect(executed.length).toBe(5);
    for (const r of bundle.receipts) expect(Object.keys(r).slice(0, 5)).toEqual(['seq', 'hash', 'prev_hash', 'body', 'signature']);
    for (const r of executed) {
      // Format 2: the result is a body beside the receipt, with the salt its salted hash needs.
      expect(typeof r.bodies.result.text).toBe('string');
      expect(r.bodies.result.salt).toMatch(/^[0-9a-f]{64}$/);
      expect(JSON.parse(r.body).approval).toMatchObject({ signature: expect.any(String), key_id: expect.any(String) });
    }
    const verified = await cli(s.dataDir, 'verify-bundle', file, '--key-id', keyId);
    expect(verified.stdout).toContain(`trusted receipt key ${keyId} (from the bundle itself, pinned by --key-id)`);
    expect(verified.stdout).toContain('bundle valid');
    expect(verified.stdout).not.toContain('nothing pinned this key');
    expect(verified.code).toBe(0);
  });

  test('a search subset with a seq range: same bytes both ways, verifies, proofs tie it to the ledger', async () => {
    const file = bundleFile('subset.json');
    const run = await cli(s.dataDir, 'export', '--out', file, '--event', 'executed', '--from-seq', '2', '--to-seq', '6');
    expect(run.code).toBe(0);
    const text = readFileSync(file, 'utf8');
    const viaConsole = await s.app.console.exportBundle({ events: ['executed'], fromSeq: 2, toSeq: 6 });
    expect(viaConsole.ok && viaConsole.value.text).toBe(text);
    const bundle = JSON.parse(text);
    expect(bundle.query).toEqual({ events: ['executed'], fromSeq: 2, toSeq: 6 });
    for (const r of bundle.receipts) {
      expect(r.seq).toBeGreaterThanOrEqual(2);
      expect(r.seq).toBeLessThanOrEqual(6);
      expect(JSON.parse(r.body).event).toBe('executed');
    }
    const verified = await cli(s.dataDir, 'verify-bundle', file);
    expect(verified.stdout).toContain(
      `note: nothing pinned this key; whoever can change the evidence can usually change it too — pass --key-id ${keyId}`,
    );
    expect(verified.stdout).toContain('bundle valid');
    expect(verified.code).toBe(0);
  });

  test('the time and approver filters, and a bad filter is one line', async () => {
    const file = bundleFile('filters.json');
    const health = await s.app.console.health();
    if (!health.ok) throw new Error(health.error.message);
    const query = { approverKeyId: health.value.operatorKey.keyId, from: '2000-01-01T00:00:00.000Z', to: '2100-01-01T00:00:00.000Z' };
    const run = await cli(
      s.dataDir,
      'export',
      '--out',
      file,
      '--approver-key-id',
      query.approverKeyId,
      '--from',
      query.from,
      '--to',
      query.to,
    );
    expect(run.code).toBe(0);
    const viaConsole = await s.app.console.exportBundle(query);
    expect(viaConsole.ok && viaConsole.value.text).toBe(readFileSync(file, 'utf8'));
    // The operator's approval and the execution it authorised.
    expect(JSON.parse(readFileSync(file, 'utf8')).receipts.map((r: { body: string }) => JSON.parse(r.body).event)).toEqual([
      'approved',
      'executed',
    ]);
    const bad = await cli(s.dataDir, 'export', '--out', bundleFile('bad.json'), '--from', 'yesterday');
    expect(bad.code).not.toBe(0);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect(bad.stderr).toContain('from');
  });

  test('beyond the cap only the newest are kept, complete is false, and it still verifies', async () => {
    const file = bundleFile('capped.json');
    const capped = await buildBundle(s.app.core, {}, 3);
    writeFileSync(file, capped.text);
    const bundle = JSON.parse(capped.text);
    expect(bundle.complete).toBe(false);
    expect(bundle.receipts.map((r: { seq: number }) => r.seq)).toEqual([
      capped.checkpointSize - 2,
      capped.checkpointSize - 1,
      capped.checkpointSize,
    ]);
    const run = await cli(s.dataDir, 'verify-bundle', file);
    expect(run.stdout).toContain('(the bundle is not complete: only the newest matches)');
    expect(run.code).toBe(0);
  });

  test('--public-key takes PEM and the JSON of GET /receipts/public-key; another key or id is refused', async () => {
    const file = bundleFile('all.json');
    const json = bundleFile('public-key.json');
    writeFileSync(json, (await get(s.url, '/receipts/public-key')).text);
    const pem = bundleFile('public-key.pem');
    writeFileSync(pem, JSON.parse(readFileSync(json, 'utf8')).public_key_pem);
    for (const key of [json, pem]) {
      const run = await cli(s.dataDir, 'verify-bundle', file, '--public-key', key);
      expect(run.stdout).toContain(`from --public-key ${key}`);
      expect(run.code).toBe(0);
    }
    const other = bundleFile('other.pem');
    writeFileSync(other, publicKeyToPem(Ed25519Signer.generate().publicKey));
    const wrongKey = await cli(s.dataDir, 'verify-bundle', file, '--public-key', other);
    expect(wrongKey.code).toBe(3);
    expect(wrongKey.stdout).toContain('bundle INVALID');
    const wrongId = await cli(s.dataDir, 'verify-bundle', file, '--key-id', '0123456789abcdef');
    expect(wrongId.code).toBe(3);
    expect(wrongId.stderr).toContain(`has id ${keyId}, not the pinned --key-id 0123456789abcdef`);
  });

  test('each tampering exits 3 naming the first problem', async () => {
    const original = JSON.parse(readFileSync(bundleFile('all.json'), 'utf8'));
    const executedAt = original.receipts.findIndex((r: { bodies?: { result?: unknown } }) => r.bodies?.result !== undefined);
    const cases: [string, (b: any) => void, string][] = [
      ['body', (b) => (b.receipts[2].body = b.receipts[2].body.replace('"seq":3', '"seq":3 ')), 'receipt 3: hash does not match'],
      ['result', (b) => (b.receipts[executedAt].bodies.result.text = '{"forged":1}'), 'the result body does not hash to its salted hash'],
      ['salt', (b) => (b.receipts[executedAt].bodies.result.salt = '00'.repeat(32)), 'the result body does not hash to its salted hash'],
      ['proof', (b) => b.receipts[1].inclusion_proof.reverse(), 'receipt 2: the inclusion proof does not lead'],
      // A whole-ledger bundle with a receipt gone (count fixed too) no longer holds 1 to N.
      ['removed', (b) => (b.receipts.splice(3, 1), (b.count -= 1)), 'does not hold receipts 1 to'],
      ['relinked', (b) => (b.receipts[4].prev_hash = b.receipts[2].hash), 'receipt 5: body prev_hash differs'],
      ['checkpoint', (b) => (b.checkpoint.note = b.checkpoint.note.replace(/\n\d+\n/, '\n1\n')), 'the checkpoint does not verify'],
      ['count', (b) => (b.count += 1), 'count says'],
    ];
    for (const [name, tamper, expected] of cases) {
      const copy = structuredClone(original);
      tamper(copy);
      const file = bundleFile(`tampered-${name}.json`);
      writeFileSync(file, JSON.stringify(copy, null, 2));
      const run = await cli(s.dataDir, 'verify-bundle', file);
      expect(run.code, name).toBe(3);
      expect(run.stdout, name).toContain(expected);
    }
    // The approver keys the bundle carries can be replaced by the reviewer's own.
    const wrongApprover = bundleFile('wrong-approver.pem');
    writeFileSync(wrongApprover, publicKeyToPem(Ed25519Signer.generate().publicKey));
    const run = await cli(s.dataDir, 'verify-bundle', bundleFile('all.json'), '--approver-key', wrongApprover);
    expect(run.code).toBe(3);
    expect(run.stdout).toContain('not a trusted approver key');
  });
});
