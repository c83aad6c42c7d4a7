import { afterEach, describe, expect, test } from 'vitest';
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify as toYaml } from 'yaml';
import { get, post, startServer, tempDir, type RunningServer } from '../support/harness.ts';
import { spawnServer, waitForExit } from '../support/server-process.ts';
import { executeWire, TestApprover } from '../support/clawshield.ts';
import { consoleCall } from '../support/console-http.ts';
import { cli } from '../support/cli.ts';
import { jobAction, startJobService } from '../support/declared.ts';

const running: RunningServer[] = [];
afterEach(async () => {
  for (const s of running.splice(0)) await s.stop();
});

function logText(dataDir: string): string {
  const dir = join(dataDir, 'logs');
  return readdirSync(dir)
    .filter((f) => /^openexec\.\d+\.log$/.test(f))
    .map((f) => readFileSync(join(dir, f), 'utf8'))
    .join('');
}

const lines = (text: string) =>
  text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe('the log', () => {
  test('one JSON line per request, with route, status, duration and receipt seq; start-up and refusals; files 0600, rolled by size', async () => {
    const dataDir = tempDir();
    const s = await startServer({
      OPENEXEC_DATA_DIR: dataDir,
      OPENEXEC_LOG_MAX_BYTES: '4000',
      OPENEXEC_LOG_FILES: '2',
      OPENEXEC_ALLOWED_ACTIONS: 'add',
    });
    for (let i = 0; i < 40; i++) expect((await post(s.url, '/execute', executeWire('add', '{"a":1,"b":2}', `roll-${i}`))).status).toBe(200);
    const refused = await post(s.url, '/execute', executeWire('echo', '{}', 'not-allowed'));
    expect(refused.status).toBe(403);
    const seq = s.app.core.ledger.size();
    await s.app.close();

    const dir = join(dataDir, 'logs');
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    const files = readdirSync(dir).filter((f) => /^openexec\.\d+\.log$/.test(f));
    // pino-roll removes the oldest after a roll, asynchronously: at most the current file and two more remain.
    for (let i = 0; i < 100 && readdirSync(dir).filter((f) => /^openexec\.\d+\.log$/.test(f)).length > 3; i++)
      await new Promise((r) => setTimeout(r, 20));
    expect(files.length).toBeGreaterThan(1);
    expect(readdirSync(dir).filter((f) => /^openexec\.\d+\.log$/.test(f)).length).toBeLessThanOrEqual(3);
    // A file is rolled once a write takes it to the limit; lines already queued behind that write
    // (pino-roll waits for the stream to drain) still land in it, so how far past the limit it
    // ends depends on the machine's load, not on the limit. Each rolled file reached the limit
    // and none grew to twice it; a stream that never rolls fails both the count above and this.
    const rolled = readdirSync(dir)
      .filter((f) => /^openexec\.\d+\.log$/.test(f))
      .sort((a, b) => Number(a.split('.')[1]) - Number(b.split('.')[1]));
    for (const f of rolled) {
      expect(statSync(join(dir, f)).mode & 0o777).toBe(0o600);
      expect(statSync(join(dir, f)).size).toBeLessThan(2 * 4000);
    }
    for (const f of rolled.slice(0, -1)) expect(statSync(join(dir, f)).size).toBeGreaterThanOrEqual(4000);
    const last = lines(logText(dataDir));
    const request = last.find((l) => l['msg'] === 'request' && l['status'] === 403)!;
    expect(request).toMatchObject({ method: 'POST', route: '/execute', refusal: 'not_allowed', seq });
    expect(typeof request['reqId']).toBe('string');
    expect(typeof request['ms']).toBe('number');
    expect(last.some((l) => l['msg'] === 'receipt' && l['event'] === 'refused' && l['seq'] === seq)).toBe(true);
    expect(last.at(-1)).toMatchObject({ msg: 'stopped' });
    running.push({ ...s, stop: async () => rmSync(dataDir, { recursive: true, force: true }) });
  });

  test('start-up and configuration are logged; a route with a parameter is logged by its pattern', async () => {
    const s = await startServer({ OPENEXEC_MODE: 'clawshield' });
    running.push(s);
    await get(s.url, '/proposals/some-id-that-does-not-exist');
    await s.app.close();
    const all = lines(logText(s.dataDir));
    expect(all.find((l) => l['msg'] === 'started')).toMatchObject({ mode: 'clawshield', address: s.url, log: { level: 'info' } });
    const notFound = all.find((l) => l['msg'] === 'request' && l['status'] === 404)!;
    expect(notFound['route']).not.toContain('some-id-that-does-not-exist');
  });

  test('no secret reaches the log file or stderr after real traffic', async () => {
    const approver = new TestApprover();
    const headerSecret = 'Bearer hdr-s3cr3t-7731';
    const service = await startJobService();
    const dataDir = tempDir();
    const job = jobAction(service.port, { env: 'JOB_AUTH' });
    const manifestFile = join(tempDir(), 'actions.yaml');
    writeFileSync(manifestFile, toYaml({ actions: { job } }));
    const server = await spawnServer({
      OPENEXEC_DATA_DIR: dataDir,
      OPENEXEC_MODE: 'clawshield',
      CLAWSHIELD_PUBLIC_KEY: approver.publicKeyPem,
      CLAWSHIELD_TENANT_ID: 'tenant-001',
      OPENEXEC_ACTIONS: manifestFile,
      JOB_AUTH: headerSecret,
      OPENEXEC_LOG_LEVEL: 'trace',
    });
    const token = readFileSync(join(dataDir, 'console-token'), 'utf8').trim();
    const signatures: string[] = [];
    try {
      for (const [action, wire] of [
        ['job', '{"id":"7"}'],
        ['add', '{"a":1,"b":2}'],
      ] as const) {
        const artifact = approver.mint(action, wire);
        signatures.push(artifact.signature);
        const r = await post(server.url, '/execute', executeWire(action, wire, `sec-${action}`, artifact));
        expect(r.status, r.text).toBe(200);
        // A replay and a forged artifact carry the signature too.
        await post(server.url, '/execute', executeWire(action, wire, `sec-${action}`, artifact));
        await post(
          server.url,
          '/execute',
          executeWire(action, wire, `sec2-${action}`, { ...artifact, signature: `${artifact.signature.slice(0, -4)}AAA=` }),
        );
      }
      expect(service.authorization()).toBe(headerSecret);
      // The console token, sent the ways an operator and a stranger would.
      expect((await consoleCall(server.url, token, 'health')).status).toBe(200);
      expect((await consoleCall(server.url, `${token}x`, 'health')).status).toBe(401);
      expect((await cli(dataDir, 'status')).code).toBe(0);
      const p = await post(server.url, '/proposals', { action: 'add', payload: { a: 2, b: 2 }, nonce: 'sec-p' });
      expect((await cli(dataDir, 'approve', p.body.id)).code).toBe(0);
      await post(server.url, '/execute', '{"password":"db-pa55word-x"}', { authorization: 'Bearer agent-t0ken-x' });
    } finally {
      server.child.kill('SIGTERM');
      await waitForExit(server.child);
      service.close();
    }
    const logged = logText(dataDir) + server.output();
    expect(lines(logText(dataDir)).filter((l) => l['msg'] === 'request').length).toBeGreaterThanOrEqual(10);
    const keyBodies = ['receipt-key.pem', 'operator-key.pem'].flatMap((f) =>
      readFileSync(join(dataDir, f), 'utf8')
        .split('\n')
        .filter((l) => l !== '' && !l.startsWith('-----')),
    );
    const secrets = [token, headerSecret, 'hdr-s3cr3t-7731', ...signatures, ...keyBodies, 'db-pa55word-x', 'agent-t0ken-x'];
    for (const secret of secrets) expect(logged.includes(secret), `a secret reached the log: ${secret.slice(0, 12)}…`).toBe(false);
    rmSync(dataDir, { recursive: true, force: true });
  }, 60_000);

  test('a full log disk never stops the boundary', async () => {
    const dataDir = tempDir();
    mkdirSync(join(dataDir, 'logs'), { mode: 0o700 });
    symlinkSync('/dev/full', join(dataDir, 'logs', 'openexec.1.log'));
    const s = await startServer({ OPENEXEC_DATA_DIR: dataDir, OPENEXEC_ALLOWED_ACTIONS: 'add' });
    running.push(s);
    for (let i = 0; i < 200; i++)
      expect((await post(s.url, '/execute', executeWire('add', '{"a":1,"b":2}', `full-${i}`))).status).toBe(200);
    expect((await post(s.url, '/execute', executeWire('echo', '{}', 'full-refused'))).status).toBe(403);
    expect(s.app.core.ledger.size()).toBeGreaterThanOrEqual(201);
  });

  test('an unwritable log directory never stops the boundary, and the Status warnings say so', async () => {
    const dataDir = tempDir();
    writeFileSync(join(dataDir, 'logs'), 'not a directory');
    const s = await startServer({ OPENEXEC_DATA_DIR: dataDir, OPENEXEC_ALLOWED_ACTIONS: 'add' });
    running.push(s);
    expect((await post(s.url, '/execute', executeWire('add', '{"a":1,"b":2}', 'nolog-1'))).status).toBe(200);
    expect(s.app.warnings().some((w) => /cannot write the log in .*logs: (EEXIST|ENOTDIR); no log file is written/.test(w))).toBe(true);
    const report = (await consoleCall(s.url, s.app.consoleToken, 'hardeningReport')).body as { checks: { id: string; status: string }[] };
    expect(report.checks.find((c) => c.id === 'logs_and_monitoring')?.status).toBe('warn');
  });
});
