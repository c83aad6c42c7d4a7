import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { get, REPO_ROOT, tempDir } from '../support/harness.ts';
import { cli } from '../support/cli.ts';
import { everyEventLedger, type EveryEventLedger } from '../support/every-event-ledger.ts';
import { rawDb } from '../support/raw-db.ts';

/** The fenced blocks of docs/receipts.md marked ```sh title="NAME"```, by name, exactly as written. */
function procedure(): Map<string, string> {
  const doc = readFileSync(join(REPO_ROOT, 'docs/receipts.md'), 'utf8');
  return new Map([...doc.matchAll(/^```sh title="([\w-]+)"\n([\s\S]*?)^```$/gm)].map((m) => [m[1]!, m[2]!]));
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** One block run by `sh` in `dir`, with `openexec` on PATH, as a reviewer pastes it. */
function runBlock(block: string, dir: string, dataDir: string): Promise<Run> {
  return new Promise((resolve) => {
    const env = { ...process.env, PATH: `${join(REPO_ROOT, 'bin')}:${process.env['PATH'] ?? ''}`, OPENEXEC_DATA_DIR: dataDir };
    execFile('sh', ['-c', block], { cwd: dir, env, timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

describe('the verification procedure in docs/receipts.md, run as written', () => {
  const blocks = procedure();
  let ledger: EveryEventLedger;
  let work: string;
  const block = (name: string) => {
    const text = blocks.get(name);
    if (text === undefined) throw new Error(`docs/receipts.md has no sh block titled ${name}`);
    return text;
  };
  /** A reviewer's directory: the pinned receipt key and approver keys, nothing else. */
  const reviewerDir = async (name: string) => {
    const dir = join(work, name);
    mkdirSync(dir);
    writeFileSync(join(dir, 'public-key.pem'), (await get(ledger.server.url, '/receipts/public-key')).body.public_key_pem);
    copyFileSync(ledger.approverKeyFile, join(dir, 'approver-clawshield.pem'));
    const health = await ledger.server.app.console.health();
    if (!health.ok) throw new Error(health.error.message);
    writeFileSync(join(dir, 'approver-operator.pem'), health.value.operatorKey.publicKeyPem);
    return dir;
  };

  beforeAll(async () => {
    ledger = await everyEventLedger();
    work = tempDir('openexec-procedure-');
  }, 60_000);
  afterAll(async () => {
    await ledger.server.stop();
    rmSync(ledger.dir, { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
  });

  test('the page has the blocks the procedure names', () => {
    expect([...blocks.keys()].sort()).toEqual(['copy-ledger', 'export', 'salted-hash', 'verify-bundle', 'verify-ledger']);
  });

  test('a real export verifies with the documented commands, and openexec agrees', async () => {
    const dir = await reviewerDir('bundle');
    const exported = await runBlock(block('export'), dir, ledger.server.dataDir);
    expect(exported.stderr).toBe('');
    expect(exported.code).toBe(0);
    const verified = await runBlock(block('verify-bundle'), dir, ledger.server.dataDir);
    expect(verified.stderr).toBe('');
    expect(verified.stdout).toMatch(/^bundle valid: \d+ receipts/);
    expect(verified.code).toBe(0);
    const ours = await cli(ledger.server.dataDir, 'verify-bundle', join(dir, 'bundle.json'));
    expect(ours.code).toBe(0);
  });

  test('tampered bundles fail the documented commands (exit 3)', async () => {
    const source = await reviewerDir('bundle-source');
    expect((await runBlock(block('export'), source, ledger.server.dataDir)).code).toBe(0);
    const original = JSON.parse(readFileSync(join(source, 'bundle.json'), 'utf8'));
    const withResult = original.receipts.findIndex((r: { bodies?: { result?: unknown } }) => r.bodies?.result !== undefined);
    const withApproval = original.receipts.findIndex((r: { body: string }) => JSON.parse(r.body).approval !== undefined);
    const cases: [string, (b: any) => void, string][] = [
      ['body', (b) => (b.receipts[3].body = b.receipts[3].body.replace('"v":2', '"v":3')), `receipt ${original.receipts[3].seq}: hash`],
      ['result', (b) => (b.receipts[withResult].bodies.result.text = '{"x":1}'), 'the result body does not hash to its salted hash'],
      ['salt', (b) => (b.receipts[withResult].bodies.result.salt = '00'.repeat(32)), 'the result body does not hash to its salted hash'],
      ['dropped body', (b) => delete b.receipts[withResult].bodies.result, 'its bodies are not the ones its salted_hashes commit to'],
      ['proof', (b) => b.receipts[2].inclusion_proof.pop(), 'inclusion proof'],
      [
        'approver',
        (b) => (b.approver_keys = b.approver_keys.slice(0, 0)),
        `receipt ${original.receipts[withApproval].seq}: approval signature`,
      ],
      ['key', (b) => (b.key_id = '0000000000000000'), 'pinned receipt key'],
      ['removed', (b) => (b.receipts.splice(5, 1), (b.count -= 1)), 'a whole-ledger bundle must hold receipts 1 to'],
    ];
    for (const [name, tamper, expected] of cases) {
      const dir = await reviewerDir(`bundle-${name}`);
      const copy = structuredClone(original);
      tamper(copy);
      writeFileSync(join(dir, 'bundle.json'), JSON.stringify(copy, null, 2));
      const run = await runBlock(block('verify-bundle'), dir, ledger.server.dataDir);
      expect(run.code, `${name}: ${run.stdout}${run.stderr}`).toBe(3);
      expect(run.stdout, name).toContain(expected);
    }
  });

  test('a copy of the running ledger verifies; tampered copies fail (exit 3)', async () => {
    const dir = await reviewerDir('ledger');
    const copied = await runBlock(block('copy-ledger'), dir, ledger.server.dataDir);
    expect(copied.stderr).toBe('');
    expect(existsSync(join(dir, 'ledger-copy.db'))).toBe(true);
    const verified = await runBlock(block('verify-ledger'), dir, ledger.server.dataDir);
    expect(verified.stderr).toBe('');
    const tip = rawDb(ledger.server.app.core).prepare('SELECT seq, hash FROM receipts ORDER BY seq DESC LIMIT 1').get() as {
      seq: number;
      hash: string;
    };
    expect(verified.stdout).toContain(`ledger valid: ${tip.seq} receipts`);
    expect(verified.stdout).toContain(`record the head: ${tip.seq}:${tip.hash}`);
    expect(verified.code).toBe(0);

    const tampers: [string, string, string][] = [
      ['column', "UPDATE receipts SET action = 'echo' WHERE seq = 2", 'receipt 2: column action'],
      ['stored hash', 'UPDATE receipts SET hash_bytes = zeroblob(32) WHERE seq = 2', 'receipt 2: hash'],
      ['stored signature', 'UPDATE receipts SET signature_bytes = substr(signature_bytes, 1, 63) WHERE seq = 2', 'receipt 2: signature'],
      ['body', 'UPDATE receipts SET body = replace(body, \'"v":2\', \'"v":3\') WHERE seq = 3', 'receipt 3: hash'],
      ['payload', "UPDATE receipt_bodies SET body = '{}' WHERE seq = 2 AND field = 'payload'", 'receipt 2: the payload body does not hash'],
      [
        'fake purge',
        "UPDATE receipt_bodies SET salt = NULL, body = NULL, purged_at = time('now'), purge_seq = 3 WHERE seq = 2 AND field = 'payload'",
        'receipt 2: the payload body is gone, but no purge receipt covers it',
      ],
      ['removed', 'DELETE FROM receipt_bodies WHERE seq = 4; DELETE FROM receipts WHERE seq = 4', 'receipt 5: sequence or link'],
    ];
    for (const [name, sql, expected] of tampers) {
      const tdir = await reviewerDir(`ledger-${name}`);
      copyFileSync(join(dir, 'ledger-copy.db'), join(tdir, 'ledger-copy.db'));
      const db = new Database(join(tdir, 'ledger-copy.db'));
      db.exec('DROP TRIGGER receipts_append_only_update; DROP TRIGGER receipts_append_only_delete');
      db.exec(sql);
      db.close();
      const run = await runBlock(block('verify-ledger'), tdir, ledger.server.dataDir);
      expect(run.code, `${name}: ${run.stdout}${run.stderr}`).toBe(3);
      expect(run.stdout, name).toContain(expected);
    }
  });

  test('a salted body hash checks by hand, and an edited body does not', async () => {
    const dir = await reviewerDir('salted');
    expect((await runBlock(block('copy-ledger'), dir, ledger.server.dataDir)).code).toBe(0);
    const payload = rawDb(ledger.server.app.core)
      .prepare("SELECT body FROM receipt_bodies WHERE seq = 2 AND field = 'payload'")
      .pluck()
      .get() as string;
    const checked = await runBlock(block('salted-hash'), dir, ledger.server.dataDir);
    expect(checked.stderr).toBe('');
    expect(checked.code).toBe(0);
    expect(checked.stdout).toMatch(new RegExp(`^payload: sha256\\(salt \\+ text\\) is the committed [0-9a-f]{64}: `, 'm'));
    expect(checked.stdout).toContain(payload);
    const db = new Database(join(dir, 'ledger-copy.db'));
    db.prepare("UPDATE receipt_bodies SET body = '{}' WHERE seq = 2 AND field = 'payload'").run();
    db.close();
    const edited = await runBlock(block('salted-hash'), dir, ledger.server.dataDir);
    expect(edited.code).toBe(3);
    expect(edited.stdout).toMatch(/^payload: does NOT hash to the committed/m);
  });

  // Last: it purges the ledger the other tests read.
  test('after a purge the documented commands still verify the ledger and a new export', async () => {
    const { core } = ledger.server.app;
    const purge = await core.purgeOlderThan(core.clock.now() + 1000, 'operator');
    expect(purge.bodies).toBeGreaterThan(0);
    const dir = await reviewerDir('purged');
    expect((await runBlock(block('copy-ledger'), dir, ledger.server.dataDir)).code).toBe(0);
    const verified = await runBlock(block('verify-ledger'), dir, ledger.server.dataDir);
    expect(verified.stdout).toContain('ledger valid:');
    expect(verified.code).toBe(0);
    const byHand = await runBlock(block('salted-hash'), dir, ledger.server.dataDir);
    expect(byHand.stdout).toMatch(/^payload: purged on \d{4}-\d\d-\d\d by retention; committed to [0-9a-f]{64}$/m);
    expect(byHand.code).toBe(0);
    expect((await runBlock(block('export'), dir, ledger.server.dataDir)).code).toBe(0);
    const bundle = await runBlock(block('verify-bundle'), dir, ledger.server.dataDir);
    expect(bundle.stdout).toMatch(/^bundle valid: /);
    expect(bundle.code).toBe(0);

    // A body made to look purged by a receipt that is not a purge is refused.
    const db = new Database(join(dir, 'ledger-copy.db'));
    const kept = db.prepare('SELECT max(seq) FROM receipt_bodies WHERE purged_at IS NULL').pluck().get() as number | null;
    db.prepare('UPDATE receipt_bodies SET purge_seq = 1 WHERE seq = 2').run();
    db.close();
    expect(kept).toBeNull();
    const forged = await runBlock(block('verify-ledger'), dir, ledger.server.dataDir);
    expect(forged.code).toBe(3);
    expect(forged.stdout).toContain('receipt 2: the payload body is gone, but no purge receipt covers it');
  });
});
