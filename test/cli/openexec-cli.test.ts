import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { get, post, tempDir } from '../support/harness.ts';
import { cli } from '../support/cli.ts';
import { spawnServer, waitForExit, type ServerProcess } from '../support/server-process.ts';

describe('bin/openexec against a running headless server', () => {
  const dataDir = tempDir();
  let server: ServerProcess;
  beforeAll(async () => {
    server = await spawnServer({ OPENEXEC_DATA_DIR: dataDir, OPENEXEC_MODE: 'clawshield' });
  }, 30_000);
  afterAll(async () => {
    server.child.kill('SIGTERM');
    await waitForExit(server.child);
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('approve --uses --vary, then /proposals and /execute inside the scope run, outside do not; grants; revoke', async () => {
    const first = await post(server.url, '/proposals', { action: 'add', payload: { a: 1, b: 2 }, nonce: 'g-1' });
    const noField = await cli(dataDir, 'approve', first.body.id, '--uses', '3', '--vary', 'c');
    expect(noField.stderr).toBe("openexec: Field 'c' is not in the proposal's payload\n");

    const approved = await cli(dataDir, 'approve', first.body.id, '--uses', '3', '--vary', 'b', '--json');
    expect(approved.code).toBe(0);
    const { proposal, grant } = JSON.parse(approved.stdout);
    expect(proposal).toMatchObject({ status: 'executed', resultCanonical: '{"sum":3}' });
    expect(grant).toMatchObject({ action: 'add', fixed: '{"a":1}', varying: ['b'], uses: 3, usesSpent: 0, status: 'live' });

    // Inside the scope: a proposal runs at once, /execute runs without an artifact.
    const inside = await post(server.url, '/proposals', { action: 'add', payload: { a: 1, b: 40 }, nonce: 'g-2' });
    expect(inside.body).toMatchObject({ status: 'executed', result: { sum: 41 } });
    const direct = await post(server.url, '/execute', { action: 'add', payload: { a: 1, b: 5 }, nonce: 'g-3' });
    expect(direct.status).toBe(200);
    expect(direct.body).toMatchObject({ result: { sum: 6 }, approved: true });
    // Outside: a pending proposal; a refusal at /execute.
    const outside = await post(server.url, '/proposals', { action: 'add', payload: { a: 2, b: 40 }, nonce: 'g-4' });
    expect(outside.body).toMatchObject({ status: 'pending', exec_id: null });
    const wrongType = await post(server.url, '/execute', { action: 'add', payload: { a: 1, b: 'x' }, nonce: 'g-5' });
    expect(wrongType.status).toBe(403);

    const listed = await cli(dataDir, 'grants');
    expect(listed.stdout).toContain(`grant ${grant.id}  live  add  uses 2/3`);
    expect(listed.stdout).toContain('vary   b');
    const revoked = await cli(dataDir, 'revoke', grant.id, '--reason', 'enough');
    expect(revoked.stdout).toBe(`revoked grant ${grant.id} (add) after 2 uses\n`);
    const after = await post(server.url, '/execute', { action: 'add', payload: { a: 1, b: 7 }, nonce: 'g-6' });
    expect(after.status).toBe(403);
    const all = JSON.parse((await cli(dataDir, 'grants', '--all', '--json')).stdout);
    expect(all).toMatchObject([{ id: grant.id, status: 'revoked', usesSpent: 2 }]);

    // Leave nothing pending for the next test.
    expect((await cli(dataDir, 'deny', outside.body.id, '--reason', 'outside the grant')).code).toBe(0);
  }, 120_000);

  test('pending, approve, deny, receipts, allow/disallow, status, verify-ledger', async () => {
    const a = await post(server.url, '/proposals', {
      action: 'add',
      payload: { a: 1, b: 2 },
      nonce: 'cli-1',
      context: 'from the cli test',
    });
    const b = await post(server.url, '/proposals', { action: 'echo', payload: { m: 'no' }, nonce: 'cli-2' });

    const pending = await cli(dataDir, 'pending', '--json');
    expect(pending.code).toBe(0);
    const list = JSON.parse(pending.stdout) as { id: string }[];
    expect(list.map((p) => p.id).sort()).toEqual([a.body.id, b.body.id].sort());
    const human = await cli(dataDir, 'pending');
    expect(human.stdout).toContain(a.body.id);
    expect(human.stdout).toContain("context (agent's words, untrusted) from the cli test");

    const approved = await cli(dataDir, 'approve', a.body.id);
    expect(approved.code).toBe(0);
    expect(approved.stdout).toMatch(/^executed .*result \{"sum":3\}/);

    const noReason = await cli(dataDir, 'deny', b.body.id);
    expect(noReason.code).toBe(2);
    expect(noReason.stderr.trim().split('\n')).toHaveLength(1);
    const denied = await cli(dataDir, 'deny', b.body.id, '--reason', 'looks wrong', '--json');
    expect(denied.code).toBe(0);
    expect(JSON.parse(denied.stdout)).toMatchObject({ status: 'denied', reason: 'looks wrong' });

    const twice = await cli(dataDir, 'approve', b.body.id);
    expect(twice.code).toBe(1);
    expect(twice.stderr).toBe(`openexec: Proposal ${b.body.id} is already denied\n`);

    const found = await cli(dataDir, 'receipts', '--search', 'cli test', '--json');
    expect(JSON.parse(found.stdout).items.length).toBeGreaterThanOrEqual(1);
    const byEvent = await cli(dataDir, 'receipts', '--event', 'denied');
    expect(byEvent.stdout).toMatch(/denied\s+echo — looks wrong/);

    expect((await cli(dataDir, 'disallow', 'echo')).stdout).toBe('echo is now not allowed; allowed: add\n');
    expect((await cli(dataDir, 'allow', 'echo')).code).toBe(0);
    const status = await cli(dataDir, 'status');
    expect(status.stdout).toMatch(/mode clawshield/);

    const verify = await cli(dataDir, 'verify-ledger', '--json');
    expect(verify.code).toBe(0);
    expect(JSON.parse(verify.stdout)).toMatchObject({ valid: true });
  });

  test('errors are one line on stderr with a non-zero exit', async () => {
    for (const args of [['frobnicate'], ['approve'], ['approve', 'not-a-proposal'], ['receipts', '--limit', 'x'], ['pending', '--bogus']]) {
      const r = await cli(dataDir, ...args);
      expect(r.code, args.join(' ')).not.toBe(0);
      expect(r.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
      expect(r.stderr).toMatch(/^openexec: /);
    }
    const broken = tempDir();
    writeFileSync(join(broken, 'openexec.db'), 'this is not a database, it only has a name like one');
    writeFileSync(join(broken, 'receipt-key.pem'), 'garbage', { mode: 0o600 });
    const badKey = await cli(broken, 'verify-ledger');
    expect(badKey.code).toBe(1);
    expect(badKey.stderr).toMatch(new RegExp(`^openexec: cannot use the receipt key ${join(broken, 'receipt-key.pem')}: .+\n$`));
    const pub = join(broken, 'receipt.pub');
    writeFileSync(pub, (await get(server.url, '/receipts/public-key')).body.public_key_pem);
    const notDb = await cli(broken, 'verify-ledger', '--public-key', pub);
    expect(notDb.code).toBe(1);
    expect(notDb.stderr).toMatch(
      new RegExp(`^openexec: cannot (open|read) the ledger ${join(broken, 'openexec.db')}: file is not a database\n$`),
    );

    writeFileSync(join(broken, 'server.json'), JSON.stringify({ address: 'http://evil.example:5000' }));
    writeFileSync(join(broken, 'console-token'), 'secret');
    const redirected = await cli(broken, 'pending');
    expect(redirected.code).toBe(1);
    expect(redirected.stderr).toMatch(/neither loopback nor OPENEXEC_HOST; refusing to send the console token there/);

    const nowhere = await cli(tempDir(), 'pending');
    expect(nowhere.code).toBe(1);
    expect(nowhere.stderr).toMatch(/^openexec: no running OpenExec found in /);
  });
});
