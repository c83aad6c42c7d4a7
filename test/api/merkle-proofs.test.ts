import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import * as noble from '@noble/ed25519';
import { get, post, startServer, tempDir, type RunningServer } from '../support/harness.ts';
import { loadConfig } from '../../src/main/app/config.ts';
import { startOpenExec } from '../../src/main/app/openexec-app.ts';
import { OpenExecCore } from '../../src/main/core/openexec-core.ts';
import { migrate } from '../../src/main/core/store/migrations.ts';
import { verifyConsistency, verifyInclusion } from '../../src/shared/merkle-verify.ts';
import { leafHash, StreamingRoot } from '../../src/main/core/ledger/merkle/rfc9162.ts';
import { rawDb } from '../support/raw-db.ts';
import { inclusionProblems } from '../../src/main/cli/proof-commands.ts';
import { cli } from '../support/cli.ts';

const bytes = (hex: string) => new Uint8Array(Buffer.from(hex, 'hex'));
const b64 = (text: string) => new Uint8Array(Buffer.from(text, 'base64'));

/**
 * A second, minimal reader of C2SP signed notes and checkpoints, written from the spec with
 * nothing from our implementation: node's SHA-256 and noble's Ed25519.
 */
async function independentlyVerifyCheckpoint(note: string, publicKey: Uint8Array) {
  const cut = note.lastIndexOf('\n\n');
  const text = note.slice(0, cut + 1);
  const [origin, size, root] = text.trimEnd().split('\n');
  const lines = note
    .slice(cut + 2)
    .trimEnd()
    .split('\n');
  const verdicts = await Promise.all(
    lines.map(async (line) => {
      const [dash, name, blob] = line.split(' ');
      const raw = b64(blob!);
      const keyHash = createHash('sha256').update(`${name}\n`).update(Uint8Array.of(1)).update(publicKey).digest().subarray(0, 4);
      return (
        dash === '\u2014' &&
        name === origin &&
        Buffer.from(raw.subarray(0, 4)).equals(keyHash) &&
        (await noble.verifyAsync(raw.subarray(4), new TextEncoder().encode(text), publicKey))
      );
    }),
  );
  return { origin: origin!, size: Number(size), root: b64(root!), signed: verdicts.some(Boolean) };
}

describe('the receipts Merkle log over the API', () => {
  let s: RunningServer;
  let publicKey: Uint8Array;
  beforeAll(async () => {
    s = await startServer({ OPENEXEC_CHECKPOINT_EVERY: '5' });
    publicKey = s.app.core.ledger.publicKey;
  });
  afterAll(() => s.stop());

  const receiptHashes = () => rawDb(s.app.core).prepare('SELECT hash FROM receipts ORDER BY seq').pluck().all() as string[];
  const streamingRoot = (hashes: string[]) => {
    const tree = new StreamingRoot();
    for (const h of hashes) tree.push(leafHash(bytes(h)));
    return Buffer.from(tree.root()).toString('hex');
  };

  test('before any receipt there is no checkpoint: 404 with a detail', async () => {
    const r = await get(s.url, '/receipts/checkpoint');
    expect(r.status).toBe(404);
    expect(r.body.detail).toBe('No checkpoint has been issued yet');
  });

  test('checkpoints come every N receipts; each one verifies with a second implementation', async () => {
    for (let i = 0; i < 13; i++) {
      const r = await post(s.url, '/execute', { action: 'add', payload: { a: i, b: 1 }, nonce: `m-${i}` });
      expect(r.status).toBe(200);
    }
    await expect.poll(async () => (await get(s.url, '/receipts/checkpoint')).body?.size, { timeout: 5000 }).toBeGreaterThanOrEqual(10);
    const { body } = await get(s.url, '/receipts/checkpoint');
    const checked = await independentlyVerifyCheckpoint(body.note, publicKey);
    expect(checked).toMatchObject({ origin: `openexec.local/receipts/${s.app.core.ledger.keyId}`, size: body.size, signed: true });
    expect(Buffer.from(checked.root).toString('hex')).toBe(body.root_hash);
    expect(body.root_hash).toBe(streamingRoot(receiptHashes().slice(0, body.size)));
    // A note edited by one character no longer verifies.
    const forged = body.note.replace(`\n${body.size}\n`, `\n${body.size - 1}\n`);
    expect((await independentlyVerifyCheckpoint(forged, publicKey)).signed).toBe(false);
  });

  test('every receipt has an inclusion proof to the latest checkpoint, and to any size', async () => {
    const issued = await s.app.console.issueCheckpoint();
    if (!issued.ok) throw new Error(issued.error.message);
    const { size, rootHash } = issued.value;
    expect(size).toBe(s.app.core.ledger.size());
    const hashes = receiptHashes();
    for (let seq = 1; seq <= size; seq++) {
      const r = await get(s.url, `/receipts/${seq}/inclusion`);
      expect(r.status, r.text).toBe(200);
      expect(r.body).toMatchObject({ seq, tree_size: size, root_hash: rootHash, receipt_hash: hashes[seq - 1] });
      expect(await verifyInclusion(seq - 1, size, leafHash(bytes(hashes[seq - 1]!)), r.body.proof.map(bytes), bytes(rootHash))).toBe(true);
    }
    const older = await get(s.url, '/receipts/3/inclusion?size=7');
    expect(older.body.root_hash).toBe(streamingRoot(hashes.slice(0, 7)));
    expect(await verifyInclusion(2, 7, leafHash(bytes(hashes[2]!)), older.body.proof.map(bytes), bytes(older.body.root_hash))).toBe(true);
  });

  test("openexec prove's checks: a proof for another tree size is refused even where the path still reaches the root", async () => {
    const hashes = receiptHashes();
    const got = await s.app.console.getReceipt({ seq: 1 });
    if (!got.ok) throw new Error(got.error.message);
    const receipt = got.value.receipt;
    const proof = (await get(s.url, '/receipts/1/inclusion?size=4')).body;
    const root = bytes(proof.root_hash);
    expect(await inclusionProblems(1, receipt, proof, 4, root)).toEqual([]);
    // Leaf 0's path in the tree of 4 also reaches that tree's root when read as a tree of 3:
    // the server could name a tree that was not asked about, and the old check followed it.
    expect(await verifyInclusion(0, 3, leafHash(bytes(hashes[0]!)), proof.proof.map(bytes), root)).toBe(true);
    expect(await inclusionProblems(1, receipt, { ...proof, tree_size: 3 }, 4, root)).toEqual([
      'the proof is for a tree of 3 receipts, not the 4 asked for',
    ]);
    expect(await inclusionProblems(5, receipt, { ...proof, receipt_hash: hashes[0] }, 4, root)).toContain(
      'receipt 5 is not among the first 4',
    );
    // And the command itself, against this server's latest signed checkpoint.
    const cliRun = await cli(s.dataDir, 'prove', '2');
    expect(cliRun.stderr).toBe('');
    expect(cliRun.code).toBe(0);
    expect(cliRun.stdout).toMatch(
      /^receipt 2 is in the tree of \d+ receipts \(root [0-9a-f]{64}\), the root of the latest signed checkpoint: \d+ hashes verified$/m,
    );
    const edited = { ...receipt, body: receipt.body.replace('"seq":1', '"seq":2') };
    expect(await inclusionProblems(1, edited, proof, 4, root)).toContain('the receipt body does not hash to its hash');
  });

  test('consistency proofs between any two sizes verify against independently computed roots', async () => {
    const hashes = receiptHashes();
    const n = hashes.length;
    for (const from of [0, 1, 4, 5, 8, n - 1, n]) {
      const r = await get(s.url, `/receipts/consistency?from=${from}&to=${n}`);
      expect(r.status, r.text).toBe(200);
      expect(r.body.from_root).toBe(streamingRoot(hashes.slice(0, from)));
      expect(r.body.to_root).toBe(streamingRoot(hashes));
      expect(await verifyConsistency(from, n, bytes(r.body.from_root), bytes(r.body.to_root), r.body.proof.map(bytes))).toBe(true);
    }
  });

  test('bad proof requests get a 422 with a detail', async () => {
    const n = s.app.core.ledger.size();
    for (const path of [
      '/receipts/0/inclusion',
      `/receipts/${n + 1}/inclusion?size=${n}`,
      `/receipts/1/inclusion?size=${n + 100}`,
      '/receipts/1/inclusion?size=-1',
      '/receipts/consistency?from=abc',
      '/receipts/consistency',
      `/receipts/consistency?from=${n + 1}`,
      '/receipts/consistency?from=3&to=2',
    ]) {
      const r = await get(s.url, path);
      expect(r.status, path).toBe(422);
      expect(typeof r.body.detail, path).toBe('string');
    }
  });

  test('a ledger from before the tree gets it at start-up, identical to one grown receipt by receipt', async () => {
    const dir = tempDir();
    try {
      // A database as version 3 left it (before the tree), holding this ledger's receipts.
      const old = new Database(join(dir, 'openexec.db'));
      migrate(old, 3);
      // Version 3's columns, each read from the body as the layout of today derives them (receipts-layout.ts).
      old.function('base64', (bytes: unknown) => (bytes as Buffer).toString('base64'));
      old.exec(
        `ATTACH '${join(s.dataDir, 'openexec.db')}' AS live; INSERT INTO receipts SELECT seq, event, time, action, hash, prev_hash, body, base64(signature_bytes), reason, exec_id, proposal_id, approval_id, approver_key_id, request_hash FROM live.receipts; DETACH live;`,
      );
      old.close();
      for (const key of ['receipt-key.pem', 'operator-key.pem']) copyFileSync(join(s.dataDir, key), join(dir, key));
      const core = await OpenExecCore.open(loadConfig({ OPENEXEC_DATA_DIR: dir }));
      try {
        const n = core.ledger.size();
        expect(Buffer.from(core.ledger.tree.root(n)).toString('hex')).toBe(Buffer.from(s.app.core.ledger.tree.root(n)).toString('hex'));
        const nodes = (db: Database.Database) => db.prepare('SELECT level, idx, hex(hash) AS h FROM merkle_nodes ORDER BY 1, 2').all();
        expect(nodes(rawDb(core))).toEqual(nodes(rawDb(s.app.core)));
      } finally {
        core.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('witnessed checkpoints', () => {
  test('are copied co-signed by the operator; a ledger cut short after one is refused at start-up', async () => {
    const witness = tempDir('openexec-witness-');
    const s = await startServer({ OPENEXEC_WITNESS_DIR: witness });
    const dataDir = s.dataDir;
    try {
      for (let i = 0; i < 4; i++) await post(s.url, '/execute', { action: 'echo', payload: { i }, nonce: `w-${i}` });
      const c = await s.app.console.issueCheckpoint();
      if (!c.ok) throw new Error(c.error.message);
      const file = join(witness, `checkpoint-${c.value.size}.txt`);
      const note = readFileSync(file, 'utf8');
      expect(note.startsWith(c.value.note)).toBe(true);
      expect(note.slice(c.value.note.length)).toMatch(/^\u2014 openexec\.local\/operator\/[0-9a-f]{16} \S+\n$/);
      expect(s.app.core.checkpoints.latestWitnessed()?.size).toBe(4);
      // Status shows both: the latest checkpoint and the latest witnessed one.
      const health = await s.app.console.health();
      if (!health.ok) throw new Error(health.error.message);
      expect(health.value.checkpoints).toMatchObject({
        latest: { size: 4 },
        witnessDir: witness,
        witnessed: { size: 4, file },
        witnessProblem: null,
      });
      await s.app.close();

      // Someone with the data directory removes the newest receipt.
      const db = new Database(join(dataDir, 'openexec.db'));
      db.pragma('foreign_keys = OFF');
      db.exec('DROP TRIGGER receipts_append_only_delete; DELETE FROM receipts WHERE seq = 4;');
      db.close();
      const config = loadConfig({ OPENEXEC_PORT: '0', OPENEXEC_DATA_DIR: dataDir, OPENEXEC_WITNESS_DIR: witness });
      await expect(startOpenExec(config)).rejects.toThrow(
        /^OPENEXEC_WITNESS_DIR: the ledger has 3 receipts, fewer than the 4 of the checkpoint witnessed in .*checkpoint-4\.txt/,
      );
      // Without the witness the truncation would go unnoticed by the chain alone.
      expect(existsSync(join(dataDir, 'openexec.lock'))).toBe(false);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
      rmSync(witness, { recursive: true, force: true });
    }
  });

  test('a witness directory or note that cannot be read refuses the start rather than skip the comparison', async () => {
    const witness = tempDir('openexec-witness-');
    const s = await startServer({ OPENEXEC_WITNESS_DIR: witness });
    const dataDir = s.dataDir;
    try {
      await post(s.url, '/execute', { action: 'echo', payload: {}, nonce: 'unreadable-1' });
      const c = await s.app.console.issueCheckpoint();
      if (!c.ok) throw new Error(c.error.message);
      // A note that cannot be opened (a symlink to itself: ELOOP, even for root).
      symlinkSync('checkpoint-99.txt', join(witness, 'checkpoint-99.txt'));
      const health = await s.app.console.health();
      if (!health.ok) throw new Error(health.error.message);
      expect(health.value.checkpoints.witnessProblem).toMatch(/^cannot read .*checkpoint-99\.txt in the witness directory: ELOOP$/);
      await s.app.close();
      const config = () => loadConfig({ OPENEXEC_PORT: '0', OPENEXEC_DATA_DIR: dataDir, OPENEXEC_WITNESS_DIR: witness });
      await expect(startOpenExec(config())).rejects.toThrow(
        /^OPENEXEC_WITNESS_DIR: cannot read .*checkpoint-99\.txt in the witness directory: ELOOP$/,
      );
      // A witness "directory" that cannot be listed (here a file: ENOTDIR).
      rmSync(witness, { recursive: true, force: true });
      writeFileSync(witness, 'not a directory');
      await expect(startOpenExec(config())).rejects.toThrow(/^OPENEXEC_WITNESS_DIR: cannot list the witness directory .*: ENOTDIR$/);
      expect(existsSync(join(dataDir, 'openexec.lock'))).toBe(false);
      // Absent altogether (not yet created), it has nothing to compare with: the start goes on.
      rmSync(witness, { force: true });
      const app = await startOpenExec(config());
      await app.close();
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
      rmSync(witness, { recursive: true, force: true });
    }
  });

  test('a witness directory inside the data directory is refused', () => {
    expect(() => loadConfig({ OPENEXEC_DATA_DIR: '/tmp/oe-data', OPENEXEC_WITNESS_DIR: '/tmp/oe-data/witness' })).toThrow(
      /^OPENEXEC_WITNESS_DIR: must be outside the data directory/,
    );
    expect(() => loadConfig({ OPENEXEC_WITNESS_DIR: 'relative/dir' })).toThrow(/^OPENEXEC_WITNESS_DIR: must be an absolute path/);
  });
});
