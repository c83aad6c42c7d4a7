/**
 * `openexec operators add NAME` while OpenExec runs: the running server loads the new key the
 * first time the operator is named (no restart), records it once with a `config` receipt, and
 * counts it toward a quorum as a distinct key; a restart loads it again without a second receipt.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { post, tempDir } from '../support/harness.ts';
import { cli } from '../support/cli.ts';
import { consoleCall } from '../support/console-http.ts';
import { spawnServer, waitForExit, type ServerProcess } from '../support/server-process.ts';
import { WIRE } from '../support/declared.ts';

describe('an operator key added while OpenExec runs', () => {
  const dataDir = tempDir();
  const manifest = join(tempDir(), 'actions.yaml');
  writeFileSync(manifest, JSON.stringify({ actions: { wire: WIRE } }));
  const env = { OPENEXEC_DATA_DIR: dataDir, OPENEXEC_ACTIONS: manifest, OPENEXEC_MODE: 'clawshield' };
  let server: ServerProcess;
  const op = (method: string, input: unknown = {}) =>
    consoleCall(server.url, readFileSync(join(dataDir, 'console-token'), 'utf8').trim(), method, input);
  const loadReceipts = async () =>
    (
      (await op('searchReceipts', { events: ['config'], limit: 500 })).body.items as {
        body: string;
        approverKeyId: string;
        reason: string;
      }[]
    ).filter((r) => JSON.parse(r.body).details?.kind === 'operator-key');

  beforeAll(async () => {
    server = await spawnServer(env);
  }, 30_000);
  afterAll(async () => {
    server.child.kill('SIGTERM');
    await waitForExit(server.child);
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('is usable at once for a quorum, recorded once by a config receipt, and survives a restart unrecorded', async () => {
    const p = await post(server.url, '/proposals', { action: 'wire', payload: { to: 'acct-1' }, nonce: 'live-op-1' });
    expect(p.status).toBe(202);
    const id = p.body.id as string;
    expect((await cli(dataDir, 'approve', id)).stdout).toMatch(/waits for another operator's approval/);

    const unknown = await cli(dataDir, 'approve', id, '--as', 'bob');
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toMatch(/No operator 'bob'/);

    const added = await cli(dataDir, 'operators', 'add', 'bob', '--json');
    expect(added.code).toBe(0);
    const bob = JSON.parse(added.stdout) as { name: string; keyId: string };
    expect(await loadReceipts()).toEqual([]);

    // Named for the first time: loaded from the data directory by the running server.
    const approved = await cli(dataDir, 'approve', id, '--as', 'bob');
    expect(approved.stderr).toBe('');
    expect(approved.code).toBe(0);
    const detail = (await op('getProposal', { id })).body;
    expect(detail).toMatchObject({ status: 'executed', quorum: { needed: 2 } });
    expect(detail.quorum.approvals.map((a: { operator: string }) => a.operator)).toEqual(['operator', 'bob']);
    expect(detail.quorum.approvals[1].keyId).toBe(bob.keyId);

    const loaded = await loadReceipts();
    expect(loaded).toHaveLength(1);
    expect(loaded[0]).toMatchObject({ approverKeyId: bob.keyId, reason: `operator key loaded: bob (key ${bob.keyId})` });
    expect(JSON.parse(loaded[0]!.body).details).toMatchObject({ kind: 'operator-key', change: 'loaded', operator: 'bob' });
    const operators = (await op('listOperators')).body as { name: string; keyId: string; primary: boolean }[];
    expect(operators.map((o) => [o.name, o.primary])).toEqual([
      ['operator', true],
      ['bob', false],
    ]);
    // Bob's approval evidence verifies with the keys the console trusts now.
    expect((await op('verifyChain')).body).toMatchObject({ valid: true });

    // A key added and only listed (never used) is loaded and recorded too.
    await cli(dataDir, 'operators', 'add', 'carol');
    expect(((await op('listOperators')).body as { name: string }[]).map((o) => o.name)).toEqual(['operator', 'bob', 'carol']);
    expect(await loadReceipts()).toHaveLength(2);

    server.child.kill('SIGTERM');
    await waitForExit(server.child);
    server = await spawnServer(env);
    expect(((await op('listOperators')).body as { name: string }[]).map((o) => o.name)).toEqual(['operator', 'bob', 'carol']);
    expect(await loadReceipts()).toHaveLength(2);
  }, 90_000);

  test('a key file that fails its checks is refused when named, and nothing is trusted', async () => {
    writeFileSync(join(dataDir, 'operators', 'mallory.pem'), 'not a key', { mode: 0o600 });
    const p = await post(server.url, '/proposals', { action: 'wire', payload: { to: 'acct-2' }, nonce: 'live-op-2' });
    const r = await cli(dataDir, 'approve', p.body.id, '--as', 'mallory');
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/Operator 'mallory' cannot be loaded/);
    expect((await op('getProposal', { id: p.body.id })).body).toMatchObject({ status: 'pending', quorum: { approvals: [] } });
    rmSync(join(dataDir, 'operators', 'mallory.pem'));
  }, 30_000);
});
