import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { post, tempDir } from '../support/harness.ts';
import { cli, cliWithEnv } from '../support/cli.ts';
import { executeWire } from '../support/clawshield.ts';
import { loadConfig } from '../../src/main/app/config.ts';
import { startOpenExec, type OpenExecApp } from '../../src/main/app/openexec-app.ts';
import type { ReceiptDto } from '../../src/shared/console-dto.ts';
import type { PurgeDto } from '../../src/shared/retention.ts';
import { verifyReceipt } from '../../src/shared/verify-receipt.ts';
import { saltedHash } from '../../src/main/core/ledger/receipt-bodies.ts';
import { leafHash } from '../../src/main/core/ledger/merkle/rfc9162.ts';
import { verifyInclusion } from '../../src/shared/merkle-verify.ts';
import { rawDb } from '../support/raw-db.ts';

const DAY = 86_400_000;
/** Words that appear nowhere but in the bodies that will be purged. */
const OLD_PAYLOAD = 'WombatPurple93Zq';
const OLD_CONTEXT = 'UnicornLatteKx9';
const KEPT_PAYLOAD = 'HeronTeal41Vb';
/** Keys out of canonical order, numbers and nesting: the search index must forget every word. */
const OLD_WIRE = `{"zone":"${OLD_PAYLOAD}","amount":12.5,"big":123456789012345678901,"list":[{"k":"${OLD_PAYLOAD}x"}]}`;

function ok<T>(r: { ok: true; value: T } | { ok: false; error: { message: string } }): T {
  if (!r.ok) throw new Error(r.error.message);
  return r.value;
}

/** The database file and its WAL as bytes, read straight off the disk. */
function rawFiles(dbPath: string): Buffer {
  const wal = `${dbPath}-wal`;
  return Buffer.concat([readFileSync(dbPath), existsSync(wal) ? readFileSync(wal) : Buffer.alloc(0)]);
}

function contains(raw: Buffer, word: string): boolean {
  // The search index keeps words folded to lower case.
  return raw.includes(Buffer.from(word)) || raw.includes(Buffer.from(word.toLowerCase()));
}

describe('retention: openexec purge on a running server', () => {
  let app: OpenExecApp;
  let dataDir: string;
  let now = Date.now();
  let oldExec: { seq: number; execId: string };
  let proposalId: string;
  let purge: PurgeDto;
  let treeBefore: unknown[];
  const nodes = () => rawDb(app.core).prepare('SELECT level, idx, hex(hash) AS h FROM merkle_nodes ORDER BY 1, 2').all();
  const url = () => app.address;
  const receipt = async (seq: number): Promise<ReceiptDto> => ok(await app.console.getReceipt({ seq })).receipt;

  beforeAll(async () => {
    dataDir = tempDir('openexec-retention-');
    const config = loadConfig({ OPENEXEC_PORT: '0', OPENEXEC_DATA_DIR: dataDir, OPENEXEC_ALLOWED_ACTIONS: 'echo,add' });
    app = await startOpenExec(config, { clock: { now: () => now } });
    // Old traffic: an execution, a proposal with a context that the operator approves, and
    // enough filler that the bodies' pages split and move (every copy must go).
    const first = await post(url(), '/execute', executeWire('echo', OLD_WIRE, 'old-1'));
    expect(first.status).toBe(200);
    for (let i = 0; i < 60; i++) {
      const r = await post(url(), '/execute', executeWire('echo', `{"filler":"${OLD_PAYLOAD}-${i}-${'x'.repeat(200)}"}`, `old-f${i}`));
      expect(r.status).toBe(200);
    }
    const proposed = await post(url(), '/proposals', {
      action: 'echo',
      payload: { secret: `${OLD_PAYLOAD}-proposed` },
      nonce: 'old-p',
      context: `please, ${OLD_CONTEXT}`,
    });
    expect(proposed.status).toBe(202);
    proposalId = proposed.body.id;
    ok(await app.console.approve({ id: proposalId }));
    const executed = rawDb(app.core)
      .prepare("SELECT seq, exec_id AS execId FROM receipts WHERE event = 'executed' ORDER BY seq LIMIT 1")
      .get() as { seq: number; execId: string };
    oldExec = executed;
    // An unpurged result is still returned on a replay of its nonce.
    const replay = await post(url(), '/execute', executeWire('echo', OLD_WIRE, 'old-1'));
    expect(replay.status).toBe(200);
    expect(replay.body.id).toBe(first.body.id);
    expect(replay.body.receipt).toBe(first.body.receipt);

    now += 100 * DAY;
    expect((await post(url(), '/execute', executeWire('echo', `{"secret":"${KEPT_PAYLOAD}"}`, 'new-1'))).status).toBe(200);
    // The bodies are really there before the purge.
    rawDb(app.core).pragma('wal_checkpoint(TRUNCATE)');
    expect(contains(rawFiles(config.dbPath!), OLD_PAYLOAD)).toBe(true);

    treeBefore = nodes();
    const run = await cli(dataDir, 'purge', '--older-than', '30d', '--json');
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    purge = JSON.parse(run.stdout) as PurgeDto;
  }, 120_000);

  afterAll(async () => {
    await app.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('the purged bytes are gone from the database file and its WAL; the kept ones are not', () => {
    expect(purge).toMatchObject({ trigger: 'operator', walTruncated: true, executions: 62, proposals: 1 });
    expect(purge.receipts).toBeGreaterThanOrEqual(64);
    const raw = rawFiles(join(dataDir, 'openexec.db'));
    expect(contains(raw, OLD_PAYLOAD)).toBe(false);
    expect(contains(raw, OLD_CONTEXT)).toBe(false);
    expect(raw.includes(Buffer.from(KEPT_PAYLOAD))).toBe(true);
    // The search index forgot the words too, and still finds what is kept.
    const search = (text: string) =>
      rawDb(app.core).prepare('SELECT count(*) FROM receipts_fts WHERE receipts_fts MATCH ?').pluck().get(text);
    expect(search(`"${OLD_PAYLOAD.toLowerCase()}"`)).toBe(0);
    expect(search(`"${KEPT_PAYLOAD.toLowerCase()}"`)).toBe(1);
    expect(() => rawDb(app.core).exec("INSERT INTO receipts_fts (receipts_fts) VALUES ('integrity-check')")).not.toThrow();
  });

  test('the Merkle tree commits to the salted hashes, so a purge leaves every node (and root) as it was', async () => {
    const after = nodes();
    expect(after.slice(0, treeBefore.length)).toEqual(treeBefore);
    // A purged receipt's inclusion proof (its leaf is SHA-256(0x00 ‖ hash)) still leads to the signed root.
    const p = ok(await app.console.inclusionProof({ seq: oldExec.seq }));
    const bytes = (hex: string) => new Uint8Array(Buffer.from(hex, 'hex'));
    expect(p.receiptHash).toBe((await receipt(oldExec.seq)).hash);
    expect(await verifyInclusion(p.leafIndex, p.treeSize, leafHash(bytes(p.receiptHash)), p.proof.map(bytes), bytes(p.rootHash))).toBe(
      true,
    );
  });

  test('verify-ledger (the CLI, offline) still finds every receipt valid, side tables and bodies included', async () => {
    const run = await cli(dataDir, 'verify-ledger', '--json');
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ valid: true, sideTableProblems: [] });
  });

  test('the purge is a config receipt naming the range, counts and cut-off, never a body, and it verifies', async () => {
    const r = await receipt(purge.receiptSeq!);
    const body = JSON.parse(r.body);
    expect(body).toMatchObject({
      event: 'config',
      v: 2,
      details: { kind: 'purge', trigger: 'operator', cutoff: purge.cutoff, from_seq: purge.fromSeq, to_seq: purge.toSeq },
    });
    expect(r.body).not.toContain(OLD_PAYLOAD);
    expect(purge.cutoff).toBe(new Date(now - 30 * DAY).toISOString());
    expect(ok(await app.console.verifyReceipt({ seq: r.seq })).valid).toBe(true);
  });

  test('the console shows a purged body as purged on DATE by retention, and the window’s verifier agrees it holds', async () => {
    const detail = ok(await app.console.getReceipt({ seq: oldExec.seq }));
    const date = purge.purgedAt!.slice(0, 10);
    expect(detail.receipt.bodies?.map((b) => [b.field, b.text, b.salt, b.purgedAt])).toEqual([
      ['payload', null, null, purge.purgedAt],
      ['result', null, null, purge.purgedAt],
    ]);
    const pem = ok(await app.console.receiptPublicKey()).publicKeyPem;
    const { ed25519PublicKeyFromPem } = await import('../../src/shared/verify-receipt.ts');
    const verdict = await verifyReceipt({
      receipt: detail.receipt,
      previous: detail.previous,
      next: detail.next,
      publicKey: ed25519PublicKeyFromPem(pem),
    });
    expect(verdict.problems).toEqual([]);
    expect(verdict.checks.find((c) => c.id === 'bodies')?.detail).toMatch(/2 purged by retention/);
    // Shown a forged body in a purged one's place, the window's verifier refuses it.
    const forged = {
      ...detail.receipt,
      bodies: [{ field: 'payload' as const, salt: '00'.repeat(32), text: '{}', purgedAt: null, purgeSeq: null }],
    };
    const refused = await verifyReceipt({ receipt: forged, previous: detail.previous, publicKey: ed25519PublicKeyFromPem(pem) });
    expect(refused.valid).toBe(false);

    const receipts = await cli(dataDir, 'receipts', '--event', 'executed', '--limit', '500');
    expect(receipts.code).toBe(0);
    expect(receipts.stdout).toContain(`#${oldExec.seq} `);
    expect(receipts.stdout).toContain(`[payload, result purged on ${date} by retention]`);
    const show = await cli(dataDir, 'show', proposalId);
    expect(show.code).toBe(0);
    expect(show.stdout).toContain(`payload       purged on ${date} by retention`);
    expect(show.stdout).toContain(`context       purged on ${date} by retention`);
    expect(show.stdout).not.toContain(OLD_CONTEXT);
  });

  test('a replay of a purged execution says so (410), one of a kept execution still returns its result', async () => {
    const old = await post(url(), '/execute', executeWire('echo', OLD_WIRE, 'old-1'));
    expect(old.status).toBe(410);
    expect(old.body.detail).toMatch(/result was purged on \d{4}-\d\d-\d\d by retention/);
    const kept = await post(url(), '/execute', executeWire('echo', `{"secret":"${KEPT_PAYLOAD}"}`, 'new-1'));
    expect(kept.status).toBe(200);
    expect(JSON.stringify(kept.body.result)).toContain(KEPT_PAYLOAD);
    // The protocol §3 check no longer vouches for a result it does not hold.
    const legacy = await post(url(), '/receipts/verify', {
      exec_id: oldExec.execId,
      result: 'null',
      receipt: createHash('sha256').update(`${oldExec.execId}:null`).digest('hex'),
    });
    expect(legacy.body.valid).toBe(false);
  });

  test('an export after the purge verifies, and shows each purged body in its place', async () => {
    const out = join(dataDir, 'after-purge.json');
    expect((await cli(dataDir, 'export', '--out', out)).code).toBe(0);
    const verified = await cli(dataDir, 'verify-bundle', out);
    expect(verified.stderr).toBe('');
    expect(verified.code).toBe(0);
    expect(verified.stdout).toMatch(/; 0 results, \d+ receipts' bodies against their salted hashes and 1 approvals checked/);
    const bundle = JSON.parse(readFileSync(out, 'utf8'));
    const entry = bundle.receipts.find((r: { seq: number }) => r.seq === oldExec.seq);
    expect(entry.bodies.payload).toEqual({
      purged: `purged on ${purge.purgedAt!.slice(0, 10)} by retention`,
      purged_at: purge.purgedAt,
      purge_seq: purge.receiptSeq,
    });
    // Only receipts written after the purge (the agent sent the old payload again) hold it.
    const holding = bundle.receipts.filter((r: { seq: number }) => JSON.stringify(r).includes(OLD_PAYLOAD));
    expect(holding.every((r: { seq: number }) => r.seq > purge.receiptSeq!)).toBe(true);
  });

  test('a salted hash is not the hash of the body: a short payload cannot be matched without its salt', async () => {
    const r = await post(url(), '/execute', executeWire('add', '{"a":1,"b":2}', 'short-1'));
    expect(r.status).toBe(200);
    const seq = rawDb(app.core)
      .prepare("SELECT seq FROM receipts WHERE exec_id = ? AND event = 'executed'")
      .pluck()
      .get(r.body.id) as number;
    const kept = await receipt(seq);
    const body = JSON.parse(kept.body);
    const payload = kept.bodies!.find((b) => b.field === 'payload')!;
    expect(payload.text).toBe('{"a":1,"b":2}');
    expect(payload.salt).toMatch(/^[0-9a-f]{64}$/);
    const committed = body.salted_hashes.payload;
    const sha = (s: string) => createHash('sha256').update(s).digest('hex');
    for (const guess of ['{"a":1,"b":2}', '{"a": 1, "b": 2}', 'add{"a":1,"b":2}', '{"action":"add","payload":{"a":1,"b":2}}']) {
      expect(sha(guess)).not.toBe(committed);
    }
    expect(saltedHash(Buffer.from(payload.salt!, 'hex'), payload.text!)).toBe(committed);
    expect(kept.body).not.toContain('"payload":{');
  });

  test('a tampered body, salt or fake purge in a copy is caught by verify-ledger (exit 3)', async () => {
    const live = rawDb(app.core)
      .prepare("SELECT seq FROM receipt_bodies WHERE purged_at IS NULL AND field = 'payload' ORDER BY seq DESC LIMIT 1")
      .pluck()
      .get() as number;
    const cases: [string, string, RegExp][] = [
      [
        'body',
        `UPDATE receipt_bodies SET body = '{"a":1,"b":3}' WHERE seq = ${live} AND field = 'payload'`,
        /payload body does not hash to its salted hash/,
      ],
      [
        'salt',
        `UPDATE receipt_bodies SET salt = zeroblob(32) WHERE seq = ${live} AND field = 'payload'`,
        /payload body does not hash to its salted hash/,
      ],
      [
        'fake purge',
        `UPDATE receipt_bodies SET salt = NULL, body = NULL, purged_at = '2020-01-01T00:00:00.000Z', purge_seq = ${purge.receiptSeq} WHERE seq = ${live} AND field = 'payload'`,
        /payload body is gone, but no purge receipt covers it/,
      ],
      ['dropped', `DELETE FROM receipt_bodies WHERE seq = ${live} AND field = 'payload'`, /commits to a payload body that is missing/],
      [
        'result hidden',
        `UPDATE executions SET result = NULL, result_legacy_json = NULL, purged_at = '${purge.purgedAt}' WHERE nonce = 'new-1'`,
        /execution \S+ is marked purged, but no purge receipt was written then/,
      ],
    ];
    for (const [name, sql, expected] of cases) {
      const copy = join(dataDir, `tampered-${name.replace(' ', '-')}.db`);
      await rawDb(app.core).backup(copy);
      const db = new Database(copy);
      db.exec(sql);
      db.close();
      const run = await cliWithEnv({ OPENEXEC_DATA_DIR: dataDir, OPENEXEC_DB_URL: `sqlite:///${copy}` }, 'verify-ledger');
      expect(run.code, `${name}: ${run.stdout}${run.stderr}`).toBe(3);
      expect(run.stdout, name).toMatch(expected);
    }
  });
});

describe('OPENEXEC_RETENTION on a running server', () => {
  test('applied at start-up (then daily): old bodies go, the purge receipt says retention', async () => {
    const dataDir = tempDir('openexec-retention-env-');
    let now = Date.now();
    const env = { OPENEXEC_PORT: '0', OPENEXEC_DATA_DIR: dataDir, OPENEXEC_ALLOWED_ACTIONS: 'echo' };
    try {
      const first = await startOpenExec(loadConfig(env), { clock: { now: () => now } });
      try {
        expect((await post(first.address, '/execute', executeWire('echo', `{"secret":"${OLD_PAYLOAD}"}`, 'env-1'))).status).toBe(200);
      } finally {
        await first.close();
      }
      now += 40 * DAY;
      const second = await startOpenExec(loadConfig({ ...env, OPENEXEC_RETENTION: '30d' }), { clock: { now: () => now } });
      try {
        const purges = rawDb(second.core)
          .prepare("SELECT body FROM receipts WHERE event = 'config' AND json_extract(body, '$.details.kind') = 'purge'")
          .pluck()
          .all() as string[];
        expect(purges.map((b) => JSON.parse(b).details)).toMatchObject([
          { trigger: 'retention', cutoff: new Date(now - 30 * DAY).toISOString() },
        ]);
        expect(rawDb(second.core).prepare('SELECT count(*) FROM receipt_bodies WHERE purged_at IS NULL').pluck().get()).toBe(0);
      } finally {
        await second.close();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
