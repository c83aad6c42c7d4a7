/**
 * `openexec serve` on PostgreSQL (OPENEXEC_DB_URL=postgresql://…), each server its own process
 * as an operator runs it, against a real throwaway cluster: the whole loop over HTTP, restart,
 * the password kept out of everything the server says, start-up failures as one line, and two
 * instances (two data directories, two ports) on one database spending each nonce once.
 */
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import type { ChildProcess } from 'node:child_process';
import { CONSOLE_TOKEN_FILE } from '../../src/main/app/console-token.ts';
import { TestApprover, executeWire } from '../support/clawshield.ts';
import { cliWithEnv } from '../support/cli.ts';
import { consoleCall } from '../support/console-http.ts';
import { get, post, tempDir } from '../support/harness.ts';
import { postgresAvailability, type TestDatabase } from '../support/postgres.ts';
import { usePostgres } from '../support/postgres-suite.ts';
import { spawnServer, waitForExit, type ServerProcess } from '../support/server-process.ts';
import { spawn } from 'node:child_process';
import { REPO_ROOT } from '../support/harness.ts';
import { NODE_BIN } from '../support/server-process.ts';

const approver = new TestApprover();
/** verify-ledger's environment: ClawShield's key checks the artifacts' evidence in the receipts. */
const verifierEnv = (dataDir: string) => ({ OPENEXEC_DATA_DIR: dataDir, CLAWSHIELD_PUBLIC_KEY: approver.publicKeyPem });
const PAYLOAD = '{"a":40,"b":2}';

/** Every file under `dir`, read as text (the logs, server.json, the console token). */
function filesUnder(dir: string): string {
  let all = '';
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const st = statSync(path, { throwIfNoEntry: false });
    if (st === undefined) continue;
    if (st.isDirectory()) all += filesUnder(path);
    else if (st.isFile()) all += readFileSync(path, 'utf8');
  }
  return all;
}

/** The server's first line of output and its exit code, for a start-up that must fail. */
async function refusedStart(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  const child = spawn(NODE_BIN, ['--import', 'tsx', 'src/main/headless.ts'], {
    cwd: REPO_ROOT,
    env: { ...process.env, OPENEXEC_PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  return { code, output };
}

describe.skipIf(!postgresAvailability().ok)('openexec serve on PostgreSQL (real throwaway cluster, real processes)', () => {
  const pgs = usePostgres('serve');
  const running = new Set<ChildProcess>();
  afterAll(async () => {
    for (const child of running) {
      child.kill('SIGTERM');
      await waitForExit(child);
    }
  });

  async function serve(db: TestDatabase, dataDir: string): Promise<ServerProcess> {
    const server = await spawnServer({
      OPENEXEC_DATA_DIR: dataDir,
      OPENEXEC_DB_URL: db.appUrl,
      OPENEXEC_MODE: 'clawshield',
      CLAWSHIELD_PUBLIC_KEY: approver.publicKeyPem,
      CLAWSHIELD_TENANT_ID: 'tenant-001',
    });
    running.add(server.child);
    return server;
  }

  async function stop(server: ServerProcess): Promise<number | null> {
    server.child.kill('SIGTERM');
    const { code } = await waitForExit(server.child);
    running.delete(server.child);
    return code;
  }

  const token = (dataDir: string) => readFileSync(join(dataDir, CONSOLE_TOKEN_FILE), 'utf8').trim();
  const password = () => pgs.cluster.app.password;

  test('one server: health, an operator-approved proposal, a ClawShield /execute, replays, verify-ledger, restart; the password nowhere', async () => {
    const db = await pgs.fresh();
    const dataDir = tempDir('openexec-serve-pg-');
    const s = await serve(db, dataDir);
    const where = `openexec_app@127.0.0.1:${pgs.cluster.port}/${db.name}`;
    expect(s.output()).toContain(`OpenExec: the ledger is in PostgreSQL at ${where}, on this host, without TLS`);

    const health = await get(s.url, '/health');
    expect(health.status).toBe(200);
    expect(health.body).toMatchObject({ status: 'healthy', exec_mode: 'clawshield' });

    // A proposal, approved by the operator in the console: it executes with its receipts.
    const proposed = await post(s.url, '/proposals', { action: 'add', payload: { a: 1, b: 2 }, nonce: 'proposal-1' });
    expect(proposed.status).toBe(202);
    const op = (method: string, input: unknown = {}) => consoleCall(s.url, token(dataDir), method, input);
    const approved = await op('approve', { id: proposed.body.id });
    expect(approved.status).toBe(200);
    expect(approved.body).toMatchObject({ status: 'executed', resultCanonical: '{"sum":3}' });
    const answered = await get(s.url, `/proposals/${proposed.body.id}`);
    expect(answered.body).toMatchObject({ status: 'executed', result: { sum: 3 }, receipt: expect.stringMatching(/^[0-9a-f]{64}$/) });

    // A ClawShield artifact at /execute, then the same request again (replayed: the same
    // execution, not a second one) and the spent nonce for another request (refused).
    const artifact = approver.mint('add', PAYLOAD);
    const first = await post(s.url, '/execute', executeWire('add', PAYLOAD, 'n-1', artifact));
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({
      action: 'add',
      result: { sum: 42 },
      approved: true,
      receipt: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    const again = await post(s.url, '/execute', executeWire('add', PAYLOAD, 'n-1', artifact));
    expect(again.status).toBe(200);
    expect(again.body.id).toBe(first.body.id);
    const other = await post(s.url, '/execute', executeWire('add', '{"a":1,"b":1}', 'n-1', approver.mint('add', '{"a":1,"b":1}')));
    expect(other.status).toBe(409);
    expect(other.body.detail).toBe("Nonce 'n-1' was already used for a different request");
    const reused = await post(s.url, '/execute', executeWire('add', PAYLOAD, 'n-2', artifact));
    expect(reused.status).toBe(403);
    expect(reused.body.detail).toMatch(/^Approval already used: /);
    const verified = await post(s.url, '/receipts/verify', { exec_id: first.body.id, result: { sum: 42 }, receipt: first.body.receipt });
    expect(verified.body).toEqual({ valid: true });

    // The rows are the database's: the execution ran once, witnessed once.
    const rows = await pgs.cluster.superQuery(
      db.name,
      'SELECT event, count(*)::int AS n FROM receipts WHERE exec_id = $1 GROUP BY event ORDER BY event',
      [first.body.id],
    );
    expect(rows.rows).toEqual([
      { event: 'executed', n: 1 },
      { event: 'replayed', n: 1 },
    ]);

    const status = await op('health');
    expect(status.status).toBe(200);
    expect(status.body.database).toBe(`postgresql://openexec_app:redacted@127.0.0.1:${pgs.cluster.port}/${db.name}`);
    const key = await get(s.url, '/receipts/public-key');

    // The console on PostgreSQL: the whole chain verifies; doctor says what it checks instead of
    // SQLite's file; a backup is refused, pointing to pg_dump, and writes nothing.
    const chain = await op('verifyChain');
    expect(chain.body).toMatchObject({ valid: true, firstBadSeq: null });
    const doctor = await op('hardeningReport');
    expect(doctor.status).toBe(200);
    const checks = new Map((doctor.body.checks as { id: string; status: string; evidence: string }[]).map((c) => [c.id, c]));
    expect(checks.get('remote_db_trust')).toMatchObject({
      status: 'pass',
      evidence: expect.stringContaining(`PostgreSQL at ${where}, on this host`),
    });
    expect(checks.get('ledger_tail')).toMatchObject({ status: 'pass' });
    expect(checks.get('disk_space')?.evidence).toContain('where the data directory lives');
    const copy = join(tempDir('openexec-serve-pg-backup-'), 'copy.db');
    const backup = await op('backup', { path: copy });
    expect(backup.status).toBe(400);
    expect(backup.body).toMatchObject({ code: 'invalid_input', detail: expect.stringContaining('back it up with pg_dump') });
    expect(statSync(copy, { throwIfNoEntry: false })).toBeUndefined();

    const walk = await cliWithEnv(verifierEnv(dataDir), 'verify-ledger', '--db-url', db.appUrl, '--key-id', key.body.key_id);
    expect(walk.stdout).toMatch(/^ledger valid: \d+ receipts, hash chain and signatures hold/m);
    expect(walk.code).toBe(0);

    expect(await stop(s)).toBe(0);
    const head = (await pgs.cluster.superQuery(db.name, 'SELECT max(seq)::int AS n FROM receipts')).rows[0].n as number;

    // Restarted on the same data directory: the same receipt key, the ledger kept, the nonce still spent.
    const r = await serve(db, dataDir);
    expect((await get(r.url, '/receipts/public-key')).body.key_id).toBe(key.body.key_id);
    const replay = await post(r.url, '/execute', executeWire('add', PAYLOAD, 'n-1', artifact));
    expect(replay.status).toBe(200);
    expect(replay.body.id).toBe(first.body.id);
    const refused = await post(r.url, '/execute', executeWire('add', '{"a":2,"b":2}', 'n-1', approver.mint('add', '{"a":2,"b":2}')));
    expect(refused.status).toBe(409);
    const after = (await pgs.cluster.superQuery(db.name, 'SELECT max(seq)::int AS n FROM receipts')).rows[0].n as number;
    expect(after).toBeGreaterThan(head);
    const restartedStatus = await consoleCall(r.url, token(dataDir), 'health');
    const restartedWalk = await cliWithEnv(verifierEnv(dataDir), 'verify-ledger', '--db-url', db.appUrl, '--key-id', key.body.key_id);
    expect(restartedWalk.stdout).toContain(`ledger valid: ${after} receipts`);
    expect(restartedWalk.code).toBe(0);
    expect(await stop(r)).toBe(0);

    // Nothing the servers said, wrote or answered holds the password.
    const said = [s.output(), r.output(), filesUnder(dataDir), health.text, status.text, restartedStatus.text, walk.stdout, walk.stderr];
    for (const text of said) expect(text).not.toContain(password());
    expect(filesUnder(dataDir)).toContain('"msg":"started"');
  });

  test('a wrong password, an unmigrated database, a remote server without TLS: one line, exit 2, no password', async () => {
    const db = await pgs.fresh();
    const wrong = `Wr0ng-${password().slice(0, 6)}-pw`;
    const empty = await pgs.cluster.createDatabase('serve_empty');
    const cases: [string, RegExp][] = [
      [
        pgs.cluster.url({ user: pgs.cluster.app.user, password: wrong }, db.name),
        /^openexec: OPENEXEC_DB_URL: database postgresql:\/\/openexec_app:redacted@127\.0\.0\.1:\d+\/serve_\d+: cannot use PostgreSQL at .*password authentication failed/,
      ],
      [
        empty.appUrl,
        /^openexec: OPENEXEC_DB_URL: database postgresql:\/\/openexec_app:redacted@127\.0\.0\.1:\d+\/serve_empty: .*schema version 0, this OpenExec needs \d+ \(run the migrations as the database owner\)/,
      ],
      [
        `postgresql://openexec_app:${password()}@db.example:5432/openexec`,
        /^openexec: OPENEXEC_DB_URL: postgresql:\/\/openexec_app:redacted@db\.example:5432\/openexec would send the ledger and the database password to db\.example without TLS/,
      ],
    ];
    for (const [url, line] of cases) {
      const r = await refusedStart({ OPENEXEC_DATA_DIR: tempDir('openexec-serve-pg-'), OPENEXEC_DB_URL: url });
      expect(r.code).toBe(2);
      expect(r.output).toMatch(line);
      expect(r.output.trim().split('\n')).toHaveLength(1);
      expect(r.output).not.toContain(password());
      expect(r.output).not.toContain(wrong);
    }
  });

  test('two instances (two data directories, two ports) on one database: each nonce spent once across both', async () => {
    const db = await pgs.fresh();
    const dirs = [tempDir('openexec-serve-pg-a-'), tempDir('openexec-serve-pg-b-')];
    const [a, b] = [await serve(db, dirs[0]!), await serve(db, dirs[1]!)];
    const keys = [(await get(a.url, '/receipts/public-key')).body.key_id, (await get(b.url, '/receipts/public-key')).body.key_id];
    expect(keys[0]).not.toBe(keys[1]);

    // Spent at one, refused at the other (for another request), and only replayed there for the same one.
    const artifact = approver.mint('add', PAYLOAD);
    const atA = await post(a.url, '/execute', executeWire('add', PAYLOAD, 'shared-1', artifact));
    expect(atA.status).toBe(200);
    const atB = await post(b.url, '/execute', executeWire('add', '{"a":0,"b":0}', 'shared-1', approver.mint('add', '{"a":0,"b":0}')));
    expect(atB.status).toBe(409);
    expect(atB.body.detail).toBe("Nonce 'shared-1' was already used for a different request");
    const sameAtB = await post(b.url, '/execute', executeWire('add', PAYLOAD, 'shared-1', artifact));
    expect(sameAtB.status).toBe(200);
    expect(sameAtB.body.id).toBe(atA.body.id);
    // The approval too: spent at A, refused at B under a new nonce.
    const approvalAtB = await post(b.url, '/execute', executeWire('add', PAYLOAD, 'shared-2', artifact));
    expect(approvalAtB.status).toBe(403);
    expect(approvalAtB.body.detail).toMatch(/^Approval already used: /);

    // 64 requests with one nonce, split across both: one execution; the rest replay it or are
    // told the other instance is running it.
    const split = approver.mint('add', PAYLOAD);
    const answers = await Promise.all(
      Array.from({ length: 64 }, (_, i) => post(i % 2 === 0 ? a.url : b.url, '/execute', executeWire('add', PAYLOAD, 'split-64', split))),
    );
    const ok = answers.filter((r) => r.status === 200);
    expect(ok.length).toBeGreaterThan(0);
    expect(new Set(ok.map((r) => r.body.id)).size).toBe(1);
    for (const r of answers.filter((x) => x.status !== 200)) {
      expect(r.status).toBe(409);
      expect(r.body.detail).toBe("Nonce 'split-64' is being executed by another OpenExec instance");
    }
    const events = await pgs.cluster.superQuery(
      db.name,
      "SELECT count(*) FILTER (WHERE event = 'executed')::int AS executed, count(*)::int AS receipts FROM receipts WHERE exec_id = (SELECT id FROM executions WHERE nonce = 'split-64')",
    );
    expect(events.rows[0].executed).toBe(1);
    const executions = await pgs.cluster.superQuery(db.name, "SELECT count(*)::int AS n FROM executions WHERE nonce = 'split-64'");
    expect(executions.rows[0].n).toBe(1);

    // A proposal made at A is approved in B's console and executes; A answers it executed.
    const proposed = await post(a.url, '/proposals', { action: 'add', payload: { a: 5, b: 5 }, nonce: 'across-1' });
    expect(proposed.status).toBe(202);
    const approvedAtB = await consoleCall(b.url, token(dirs[1]!), 'approve', { id: proposed.body.id });
    expect(approvedAtB.status).toBe(200);
    expect(approvedAtB.body).toMatchObject({ status: 'executed', resultCanonical: '{"sum":10}' });
    expect((await get(a.url, `/proposals/${proposed.body.id}`)).body).toMatchObject({ status: 'executed', result: { sum: 10 } });

    // One ledger: B's console finds A's execution and B's replay of it.
    const seenAtB = await consoleCall(b.url, token(dirs[1]!), 'searchReceipts', { id: atA.body.id });
    expect(seenAtB.status).toBe(200);
    expect(seenAtB.body.items.map((r: { event: string }) => r.event).sort()).toEqual(['executed', 'replayed']);

    // B's operator approved a proposal: the walk from A's data directory is given B's operator
    // key (its public half, from B's Status), as a reviewer gives every instance's.
    const operatorB = join(tempDir('openexec-serve-pg-keys-'), 'operator-b.pem');
    writeFileSync(operatorB, (await consoleCall(b.url, token(dirs[1]!), 'health')).body.operatorKey.publicKeyPem);
    const walk = await cliWithEnv(
      verifierEnv(dirs[0]!),
      'verify-ledger',
      '--db-url',
      db.appUrl,
      '--key-id',
      keys[0],
      '--key-id',
      keys[1],
      '--approver-key',
      operatorB,
    );
    expect(walk.stdout).toMatch(/^ledger valid: \d+ receipts/m);
    expect(walk.code).toBe(0);
    expect(await stop(a)).toBe(0);
    expect(await stop(b)).toBe(0);
    for (const text of [a.output(), b.output(), filesUnder(dirs[0]!), filesUnder(dirs[1]!)]) expect(text).not.toContain(password());
  });
});
