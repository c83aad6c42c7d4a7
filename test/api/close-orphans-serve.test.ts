/**
 * `openexec executions close-orphans` end to end, as an operator runs it: instance A (its own
 * data directory and receipt key) dies by SIGKILL in the middle of an execution on a PostgreSQL
 * ledger and never comes back; `openexec serve` B on the same database refuses the retry (409)
 * until B's operator retires A's key with the CLI, through B's console contract over HTTP. On a
 * SQLite server the command is refused in one line.
 */
import { spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { CONSOLE_TOKEN_FILE } from '../../src/main/app/console-token.ts';
import { loadOrCreateSigningKey } from '../../src/main/core/crypto/key-file.ts';
import { RECEIPT_KEY_FILE } from '../../src/main/core/openexec-core.ts';
import { retiredReason } from '../../src/main/core/engine/close-orphans.ts';
import { TestApprover, executeWire } from '../support/clawshield.ts';
import { cliWithEnv } from '../support/cli.ts';
import { consoleCall } from '../support/console-http.ts';
import { get, post, REPO_ROOT, tempDir } from '../support/harness.ts';
import { postgresAvailability } from '../support/postgres.ts';
import { usePostgres } from '../support/postgres-suite.ts';
import { NODE_BIN, spawnServer, waitForExit, type ServerProcess } from '../support/server-process.ts';

const approver = new TestApprover();
const PAYLOAD = '{"amount":5}';

describe.skipIf(!postgresAvailability().ok)("closing a retired instance's executions (real servers, real PostgreSQL)", () => {
  const pgs = usePostgres('orphans_serve');
  const running = new Set<ChildProcess>();
  afterAll(async () => {
    for (const child of running) {
      child.kill('SIGTERM');
      await waitForExit(child);
    }
  });

  async function serve(env: Record<string, string>): Promise<ServerProcess> {
    const server = await spawnServer({ OPENEXEC_MODE: 'clawshield', CLAWSHIELD_PUBLIC_KEY: approver.publicKeyPem, ...env });
    running.add(server.child);
    return server;
  }
  const token = (dataDir: string) => readFileSync(join(dataDir, CONSOLE_TOKEN_FILE), 'utf8').trim();
  const closeOrphans = (dataDir: string, ...args: string[]) =>
    cliWithEnv({ OPENEXEC_DATA_DIR: dataDir }, 'executions', 'close-orphans', ...args);

  test('A dies mid-execution for good; B answers 409 until its operator runs close-orphans, then the stored ending', async () => {
    const db = await pgs.fresh();
    const [dirA, dirB] = [tempDir('openexec-orphans-a-'), tempDir('openexec-orphans-b-')];
    const effects = join(dirA, 'effects.log');
    const artifact = approver.mint('pay', PAYLOAD);
    // A: a core on the database whose `pay` handler records its effect and dies by SIGKILL.
    const crashed = spawnSync(NODE_BIN, ['--import', 'tsx', 'test/support/crashing-handler-child.ts'], {
      cwd: REPO_ROOT,
      env: {
        ...process.env,
        OPENEXEC_DATA_DIR: dirA,
        OPENEXEC_DB_URL: db.appUrl,
        CLAWSHIELD_PUBLIC_KEY: approver.publicKeyPem,
        EFFECTS_FILE: effects,
        REQUEST: `{"payload":${PAYLOAD},"nonce":"pay-1"}`,
        ARTIFACT: JSON.stringify(artifact),
      },
      timeout: 20_000,
    });
    expect(crashed.signal).toBe('SIGKILL');
    expect(readFileSync(effects, 'utf8')).toBe('paid 5\n');
    const keyA = loadOrCreateSigningKey(join(dirA, RECEIPT_KEY_FILE)).signer.keyId;
    const left = await pgs.cluster.superQuery(db.name, "SELECT id, status, reserved_by FROM executions WHERE nonce = 'pay-1'");
    expect(left.rows).toEqual([{ id: expect.any(String), status: 'started', reserved_by: keyA }]);
    const execId = left.rows[0].id as string;

    const b = await serve({ OPENEXEC_DATA_DIR: dirB, OPENEXEC_DB_URL: db.appUrl });
    const keyB = (await get(b.url, '/receipts/public-key')).body.key_id as string;
    const retry = () => post(b.url, '/execute', executeWire('pay', PAYLOAD, 'pay-1', artifact));
    const before = await retry();
    expect(before.status).toBe(409);
    expect(before.body.detail).toBe("Nonce 'pay-1' is being executed by another OpenExec instance");

    // Refused, each in one line: B's own key (by the server), a malformed id (by the CLI), no id.
    const own = await closeOrphans(dirB, '--reserved-by', keyB);
    expect(own).toMatchObject({ code: 1, stdout: '' });
    expect(own.stderr).toBe(`openexec: Receipt key ${keyB} is this instance's own: it closes its own executions when it starts\n`);
    const malformed = await closeOrphans(dirB, '--reserved-by', 'not-a-key');
    expect(malformed.code).toBe(2);
    expect(malformed.stderr).toBe("openexec: --reserved-by must be a receipt key id (16 lowercase hex digits), got 'not-a-key'\n");
    expect((await closeOrphans(dirB)).code).toBe(2);
    // The console contract validates the id as well (a caller other than the CLI).
    const overHttp = await consoleCall(b.url, token(dirB), 'closeOrphans', { reservedBy: 'ABCDEF0123456789' });
    expect(overHttp.status).toBe(400);
    expect(overHttp.body).toMatchObject({ code: 'invalid_input' });

    // B's operator retires A's key: one execution closed, by receipts B signed.
    const retired = await closeOrphans(dirB, '--reserved-by', keyA);
    expect(retired.stderr).toBe('');
    expect(retired.code).toBe(0);
    const lines = retired.stdout.trim().split('\n');
    expect(lines[0]).toMatch(
      new RegExp(`^receipt key ${keyA} retired \\(config receipt #\\d+\\); 1 execution\\(s\\) it left running closed as interrupted$`),
    );
    expect(lines[1]).toMatch(new RegExp(`^  ${execId}  pay  nonce pay-1  reserved \\S+  receipt #\\d+$`));
    const written = await pgs.cluster.superQuery(
      db.name,
      "SELECT event, exec_id, reason, body::jsonb->>'receipt_key_id' AS key FROM receipts WHERE event IN ('config', 'failed') AND (exec_id = $1 OR reason LIKE 'receipt key %retired%') ORDER BY seq",
      [execId],
    );
    expect(written.rows).toEqual([
      {
        event: 'config',
        exec_id: null,
        reason: `receipt key ${keyA} retired by the operator: 1 execution(s) it left running closed as interrupted`,
        key: keyB,
      },
      { event: 'failed', exec_id: execId, reason: retiredReason(keyA), key: keyB },
    ]);

    // The retry is answered with the stored ending (B has no `pay`: nothing ran again).
    const after = await retry();
    expect(after.status).toBe(500);
    expect(after.body.detail).toBe(retiredReason(keyA));
    expect(readFileSync(effects, 'utf8')).toBe('paid 5\n');

    // The whole ledger still verifies, B's and A's keys pinned.
    const walk = await cliWithEnv(
      { OPENEXEC_DATA_DIR: dirB, CLAWSHIELD_PUBLIC_KEY: approver.publicKeyPem },
      'verify-ledger',
      '--db-url',
      db.appUrl,
      '--key-id',
      keyA,
      '--key-id',
      keyB,
    );
    expect(walk.stdout).toMatch(/^ledger valid: \d+ receipts/m);
    expect(walk.code).toBe(0);
  });

  test('on a SQLite server: refused in one line, exit 1', async () => {
    const dir = tempDir('openexec-orphans-sqlite-');
    await serve({ OPENEXEC_DATA_DIR: dir });
    const r = await closeOrphans(dir, '--reserved-by', '0123456789abcdef');
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      "openexec: closing a retired instance's executions is for a PostgreSQL ledger only; a SQLite ledger has one instance, which closes every execution it left running when it starts again\n",
    );
  });
});
