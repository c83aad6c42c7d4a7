/**
 * `openexec verify-ledger` on a PostgreSQL ledger two instances wrote, run as a reviewer runs
 * it (bin/openexec in its own process, the URL in OPENEXEC_DB_URL or --db-url), against a real
 * throwaway cluster: it verifies, and a row tampered with as the owner, a receipt by an
 * unregistered key, a dropped receipt and a checkpoint by an unregistered key are each exit 3.
 * The password never reaches the output.
 */
import { describe, expect, test } from 'vitest';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ed25519Signer } from '../../src/main/core/crypto/ed25519.ts';
import { ledgerOrigin, signCheckpoint } from '../../src/main/core/ledger/checkpoint/checkpoint-note.ts';
import { PostgresMerkleTree } from '../../src/main/core/store/postgres/pg-merkle-tree.ts';
import { cliWithEnv, type CliRun } from '../support/cli.ts';
import { tempDir } from '../support/harness.ts';
import { postgresAvailability } from '../support/postgres.ts';
import { usePostgres } from '../support/postgres-suite.ts';
import { asOwnerWithoutTriggers, insertSignedBy, pgLedgerProofs, twoInstanceLedger } from '../support/pg-ledger-fixture.ts';

describe.skipIf(!postgresAvailability().ok)('verify-ledger on a PostgreSQL ledger (real throwaway cluster, bin/openexec)', () => {
  const pgs = usePostgres('cliverify');
  const dataDir = tempDir('openexec-pgverify-');
  const verify = (url: string, ...args: string[]) =>
    cliWithEnv({ OPENEXEC_DATA_DIR: dataDir, OPENEXEC_DB_URL: url }, 'verify-ledger', ...args);
  const passwordOf = (url: string) => decodeURIComponent(new URL(url).password);
  const noPassword = (r: CliRun, url: string) => expect(`${r.stdout}${r.stderr}`).not.toContain(passwordOf(url));

  test('a ledger two instances wrote verifies, with both keys pinned, a checkpoint from instance B and the recorded head', async () => {
    const { db, a, b, ka, kb, size } = await twoInstanceLedger(pgs);
    const pool = pgs.pool(db.appUrl);
    const checkpoint = await pgLedgerProofs(pool, b, kb).checkpoints.issue();
    const file = join(dataDir, 'from-b.txt');
    writeFileSync(file, checkpoint.note);
    const head = await a.head();
    const server = `${pgs.cluster.app.user}@127.0.0.1:${pgs.cluster.port}/${db.name}`;

    const r = await verify(
      db.appUrl,
      '--key-id',
      ka.keyId,
      '--key-id',
      kb.keyId,
      '--checkpoint',
      file,
      '--expect-head',
      `${head.seq}:${head.hash}`,
    );
    expect(r.stdout.split('\n')).toEqual([
      `trusted receipt keys registered in the ledger at ${server}: ${ka.keyId} (registered by receipt 1, pinned by --key-id), ${kb.keyId} (registered by receipt 3, pinned by --key-id)`,
      `ledger valid: ${size} receipts, hash chain and signatures hold`,
      `merkle tree: the 32 stored nodes are the receipts' own`,
      'stored checkpoints: all 1 are signed by registered keys, and the ledger extends them',
      `checkpoints: the ledger extends all 1 saved (the largest covers ${size} receipts)`,
      `head: receipt ${head.seq} is the recorded ${head.hash}`,
      '',
    ]);
    expect(r.code).toBe(0);
    noPassword(r, db.appUrl);

    // --db-url, unpinned: the same verdict, and the note that nothing pinned the keys.
    const loose = await cliWithEnv({ OPENEXEC_DATA_DIR: dataDir }, 'verify-ledger', '--db-url', db.appUrl, '--json');
    expect(loose.code).toBe(0);
    const json = JSON.parse(loose.stdout) as { valid: boolean; checked: number; trustedKeys: { keyId: string; pinned: boolean }[] };
    expect(json).toMatchObject({ valid: true, checked: size, chainValid: true, merkle: { valid: true }, sideTableProblems: [] });
    expect(json.trustedKeys.map((k) => [k.keyId, k.pinned])).toEqual([
      [ka.keyId, false],
      [kb.keyId, false],
    ]);
    const text = await verify(db.appUrl);
    expect(text.stdout).toContain('note: nothing pinned these keys');

    // A pinned id the ledger never registered (an instance that has not written yet) is named, not a failure.
    const idle = Ed25519Signer.generate().keyId;
    const extra = await verify(db.appUrl, '--key-id', ka.keyId, '--key-id', kb.keyId, '--key-id', idle);
    expect(extra.stdout).toContain(`note: the ledger registers no key ${idle} (pinned by --key-id)`);
    expect(extra.code).toBe(0);

    // Pinned to one instance: the other's registration is refused.
    const one = await verify(db.appUrl, '--key-id', ka.keyId);
    expect(one.stdout).toContain(`ledger INVALID at receipt 3: registers receipt key ${kb.keyId}, which is not pinned`);
    expect(one.code).toBe(3);
  });

  test('a column changed by the owner (trigger disabled), a receipt by an unregistered key and a dropped receipt: exit 3', async () => {
    const tampered = await twoInstanceLedger(pgs);
    await asOwnerWithoutTriggers(pgs.pool(tampered.db.ownerUrl), ['receipts'], "UPDATE receipts SET reason = 'fine' WHERE seq = 4");
    const r1 = await verify(tampered.db.appUrl);
    expect(r1.stdout).toContain('ledger INVALID at receipt 4: stored reason differs from the signed body (3 receipts before it hold)');
    expect(r1.code).toBe(3);

    const forged = await twoInstanceLedger(pgs);
    const stranger = Ed25519Signer.generate();
    const seq = await insertSignedBy(pgs.pool(forged.db.ownerUrl), forged.b, { event: 'config', reason: 'mine' }, stranger);
    const r2 = await verify(forged.db.appUrl);
    expect(r2.stdout).toContain(`ledger INVALID at receipt ${seq}: signed by a receipt key that is not registered (${stranger.keyId})`);
    expect(r2.code).toBe(3);

    const dropped = await twoInstanceLedger(pgs);
    // Its search words go with it (they reference it); an owner can drop both.
    await asOwnerWithoutTriggers(
      pgs.pool(dropped.db.ownerUrl),
      ['receipts', 'receipt_search'],
      'DELETE FROM receipt_search WHERE seq = 5; DELETE FROM receipts WHERE seq = 5',
    );
    const r3 = await verify(dropped.db.appUrl);
    expect(r3.stdout).toContain('ledger INVALID at receipt 6: sequence gap: expected 5, found 6');
    expect(r3.stdout).toContain('merkle tree INVALID:');
    expect(r3.code).toBe(3);
  });

  test('on any number of threads the first bad receipt in seq order is named, across batches', async () => {
    const { db, a, b } = await twoInstanceLedger(pgs);
    // 2,500 receipts: three batches of 1,000 handed to the threads.
    await Promise.all(
      Array.from({ length: 2465 }, (_, n) => (n % 2 ? a : b).witness((tx) => tx.append({ event: 'config', reason: `bulk ${n}` }))),
    );
    const whole = await verify(db.appUrl, '--workers', '3');
    expect(whole.stdout).toContain('ledger valid: 2500 receipts, hash chain and signatures hold');
    expect(whole.code).toBe(0);
    await asOwnerWithoutTriggers(pgs.pool(db.ownerUrl), ['receipts'], "UPDATE receipts SET reason = 'edited' WHERE seq IN (1500, 2400)");
    for (const workers of ['1', '2', '3']) {
      const r = await verify(db.appUrl, '--workers', workers);
      expect({ workers, out: r.stdout }).toMatchObject({
        out: expect.stringContaining(
          'ledger INVALID at receipt 1500: stored reason differs from the signed body (1499 receipts before it hold)',
        ) as string,
      });
      expect(r.code).toBe(3);
    }
  });

  test('a saved checkpoint signed by a key the ledger does not register: exit 3, naming the file', async () => {
    const { db, a, size } = await twoInstanceLedger(pgs);
    const pool = pgs.pool(db.appUrl);
    const stranger = Ed25519Signer.generate();
    const root = await new PostgresMerkleTree(pool).root(size);
    const file = join(dataDir, 'stranger.txt');
    writeFileSync(file, signCheckpoint({ origin: ledgerOrigin(stranger.keyId), size, root }, stranger));
    const r = await verify(db.appUrl, '--checkpoint', file);
    expect(r.stdout).toContain(`ledger valid: ${(await a.head()).seq} receipts`);
    expect(r.stdout).toContain(
      `checkpoints INVALID: ${file}: checkpoint is signed for receipt key ${stranger.keyId}, which the ledger does not register`,
    );
    expect(r.code).toBe(3);
  });

  test('a pg_dump restored into a new database verifies (password from PGPASSWORD); against a later recorded head it is exit 3', async () => {
    const available = postgresAvailability();
    if (!available.ok) throw new Error(available.reason);
    const { db, a, ka, kb, size } = await twoInstanceLedger(pgs);
    const dump = join(dataDir, `${db.name}.dump`);
    execFileSync(join(available.bindir, 'pg_dump'), ['-Fc', '-f', dump, `--dbname=${db.ownerUrl}`], { stdio: 'pipe' });
    const later = await a.witness((tx) => tx.append({ event: 'config', reason: 'after the dump' }));
    const restored = await pgs.cluster.createDatabase(`${db.name}_restored`);
    execFileSync(join(available.bindir, 'pg_restore'), [`--dbname=${restored.ownerUrl}`, dump], { stdio: 'pipe' });

    const url = new URL(restored.appUrl);
    const password = decodeURIComponent(url.password);
    url.password = '';
    const env = { OPENEXEC_DATA_DIR: dataDir, PGPASSWORD: password };
    const ok = await cliWithEnv(env, 'verify-ledger', '--db-url', url.href, '--key-id', ka.keyId, '--key-id', kb.keyId);
    expect(ok.stdout).toContain(`ledger valid: ${size} receipts, hash chain and signatures hold`);
    expect(ok.code).toBe(0);
    const behind = await cliWithEnv(env, 'verify-ledger', '--db-url', url.href, '--expect-head', `${later.seq}:${later.hash}`);
    expect(behind.stdout).toContain(`head INVALID: the ledger has no receipt ${later.seq}: receipts were removed from its end`);
    expect(behind.code).toBe(3);
  });

  test('errors are one line without the password; options that do not apply are refused; backup points at pg_dump', async () => {
    const db = await pgs.fresh();
    const wrong = pgs.cluster.url({ user: pgs.cluster.app.user, password: 'S3cret-not-this-one' }, db.name);
    const r = await verify(wrong);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      new RegExp(
        `^openexec: cannot use PostgreSQL at ${pgs.cluster.app.user}@127\\.0\\.0\\.1:\\d+/${db.name}: .*password authentication failed.*\\n$`,
      ),
    );
    noPassword(r, wrong);

    // One receipt key elsewhere: --key-id twice is a usage error there.
    const twice = await cliWithEnv({ OPENEXEC_DATA_DIR: dataDir }, 'verify-ledger', '--key-id', 'a'.repeat(16), '--key-id', 'b'.repeat(16));
    expect(twice).toMatchObject({ code: 2, stderr: 'openexec: --key-id is given 2 times, but a SQLite ledger has one receipt key\n' });
    const bundle = await cliWithEnv(
      { OPENEXEC_DATA_DIR: dataDir },
      'verify-bundle',
      'x.json',
      '--key-id',
      'a'.repeat(16),
      '--key-id',
      'b'.repeat(16),
    );
    expect(bundle).toMatchObject({ code: 2, stderr: expect.stringContaining('--key-id is given 2 times') as string });

    const empty = await pgs.cluster.createDatabase(`${db.name}_empty`);
    const none = await verify(empty.appUrl);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(
      /^openexec: PostgreSQL at \S+ has schema version 0, this OpenExec reads version \d+ \(is this an OpenExec ledger\?\)\n$/,
    );

    const pk = await verify(db.appUrl, '--public-key', join(dataDir, 'k.pem'));
    expect(pk).toMatchObject({ code: 2, stderr: expect.stringContaining('--public-key does not apply to a PostgreSQL ledger') as string });
    const status = await cliWithEnv({ OPENEXEC_DATA_DIR: dataDir }, 'status', '--db-url', db.appUrl);
    expect(status).toMatchObject({ code: 2, stderr: 'openexec: status does not take --db-url\n' });

    const backup = await cliWithEnv(
      { OPENEXEC_DATA_DIR: dataDir, OPENEXEC_DB_URL: db.appUrl },
      'backup',
      '--out',
      join(dataDir, 'copy.db'),
    );
    expect(backup.code).toBe(1);
    expect(backup.stderr).toContain('is on PostgreSQL: back it up with pg_dump');
    expect(backup.stderr.split('\n')).toHaveLength(2);
    noPassword(backup, db.appUrl);
  });
});
