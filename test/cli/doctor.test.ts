import { selfSignedCert, type CertFiles } from '../support/tls-cert.ts';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { execFile } from 'node:child_process';
import { chmodSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../../src/main/app/config.ts';
import { hardeningReport, probeHost, publicKeyFingerprint } from '../../src/main/app/hardening-checks.ts';
import { CHECKLIST_IDS, OWN_CHECK_IDS, type HardeningCheckDto, type HardeningReportDto } from '../../src/shared/hardening.ts';
import { startServer, tempDir, type RunningServer } from '../support/harness.ts';
import { cli, CLI_BIN } from '../support/cli.ts';
import { TestApprover } from '../support/clawshield.ts';
import { consoleCall } from '../support/console-http.ts';
import { skipBecause } from '../support/skip.ts';

const byId = (r: HardeningReportDto, id: string): HardeningCheckDto => {
  const found = r.checks.find((c) => c.id === id);
  if (!found) throw new Error(`no check ${id}`);
  return found;
};

async function serverReport(s: RunningServer): Promise<HardeningReportDto> {
  const res = await consoleCall(s.url, s.app.consoleToken, 'hardeningReport');
  expect(res.status).toBe(200);
  return res.body as HardeningReportDto;
}

describe('openexec doctor', () => {
  let s: RunningServer;
  beforeAll(async () => {
    s = await startServer({ OPENEXEC_ALLOWED_ACTIONS: 'add' });
  });
  afterAll(() => s.stop());

  test('reports the twelve checklist items by their ids, then our own, each with evidence and a remedy', async () => {
    const run = await cli(s.dataDir, 'doctor', '--json');
    const report = JSON.parse(run.stdout) as HardeningReportDto;
    expect(report.checks.map((c) => c.id)).toEqual([...CHECKLIST_IDS, ...OWN_CHECK_IDS]);
    for (const c of report.checks) {
      expect(['pass', 'warn', 'fail', 'manual']).toContain(c.status);
      expect(c.evidence).not.toBe('');
      expect(c.remedy).not.toBe('');
    }
    expect(run.code).toBe(report.checks.some((c) => c.status === 'fail') ? 1 : 0);
    // The running server's view: the address it actually bound, its ledger, its allow-list.
    expect(byId(report, 'bind').evidence).toContain(`bound to 127.0.0.1:${new URL(s.url).port}`);
    expect(byId(report, 'allowed_actions')).toMatchObject({ status: 'pass' });
    expect(byId(report, 'ledger_tail')).toMatchObject({ status: 'pass' });
    expect(byId(report, 'receipt_key_backup')).toMatchObject({ status: 'warn' });
    expect(byId(report, 'key_file_modes').evidence).toContain('receipt-key.pem 600');
    const human = await cli(s.dataDir, 'doctor');
    expect(human.stdout).toMatch(/^(PASS|WARN|FAIL|MANUAL)\s+bind: /m);
    expect(human.stdout).toMatch(/→ Run openexec backup --out FILE/);
  });

  test('the same report over the console contract', async () => {
    const report = await serverReport(s);
    expect(report.checks.map((c) => c.id)).toEqual([...CHECKLIST_IDS, ...OWN_CHECK_IDS]);
  });

  test('root fails not_root (uid injected), an unprivileged uid passes; exit 1 on a failure', async () => {
    const config = loadConfig({ OPENEXEC_DATA_DIR: s.dataDir });
    expect(byId(hardeningReport(config, null, { uid: 0, containerMarkers: [] }), 'not_root')).toMatchObject({ status: 'fail' });
    expect(byId(hardeningReport(config, null, { uid: 1000, containerMarkers: [] }), 'not_root')).toMatchObject({
      status: 'pass',
      evidence: 'running as uid 1000',
    });
    expect(probeHost({ OPENEXEC_DOCTOR_UID: '0' }).uid).toBe(0);
    const asRoot = await new Promise<{ code: number; out: string }>((resolve) =>
      execFile(
        CLI_BIN,
        ['doctor', '--json'],
        { env: { ...process.env, OPENEXEC_DATA_DIR: join(s.dataDir, 'offline'), OPENEXEC_DOCTOR_UID: '0' } },
        (err, out) => resolve({ code: err ? Number((err as { code?: number }).code) : 0, out }),
      ),
    );
    expect(asRoot.code).toBe(1);
    expect(byId(JSON.parse(asRoot.out) as HardeningReportDto, 'not_root').status).toBe('fail');
  });

  test('run as a real unprivileged user (nobody) it passes not_root', async (ctx) => {
    if (process.getuid?.() !== 0) return skipBecause(ctx, 'not root: cannot switch to another user');
    const nobody = await new Promise<string | null>((resolve) =>
      execFile('id', ['-u', 'nobody'], (err, out) => resolve(err ? null : out.trim())),
    );
    if (nobody === null) return skipBecause(ctx, 'no user nobody on this machine');
    // A clone in a private directory (mktemp -d is 0700) is out of nobody's reach.
    const reachable = await new Promise<boolean>((resolve) =>
      execFile('runuser', ['-u', 'nobody', '--', 'test', '-x', CLI_BIN], (err) => resolve(err === null)),
    );
    if (!reachable)
      return skipBecause(ctx, `user nobody cannot run ${CLI_BIN} (a parent directory is private): the injected uid covers not_root`);
    const dir = tempDir();
    chmodSync(dir, 0o755);
    const run = await new Promise<{ code: number; out: string; err: string }>((resolve) =>
      execFile(
        'runuser',
        ['-u', 'nobody', '--', 'env', `OPENEXEC_DATA_DIR=${join(dir, 'data')}`, CLI_BIN, 'doctor', '--json'],
        { timeout: 30_000 },
        (err, out, stderr) => resolve({ code: err ? Number((err as { code?: number }).code) : 0, out, err: stderr }),
      ),
    );
    rmSync(dir, { recursive: true, force: true });
    expect(run.err).toBe('');
    expect(byId(JSON.parse(run.out) as HardeningReportDto, 'not_root')).toMatchObject({
      status: 'pass',
      evidence: `running as uid ${nobody}`,
    });
  });

  test('an open allow-list fails allowed_actions', async () => {
    const open = await startServer();
    try {
      expect(byId(await serverReport(open), 'allowed_actions')).toMatchObject({ status: 'fail' });
      expect((await cli(open.dataDir, 'doctor')).code).toBe(1);
    } finally {
      await open.stop();
    }
  });

  test('logs and monitoring pass with the log written and /metrics on; a silent log warns', async () => {
    expect(byId(await serverReport(s), 'logs_and_monitoring')).toMatchObject({ status: 'pass' });
    const quiet = await startServer({ OPENEXEC_LOG_LEVEL: 'silent' });
    try {
      expect(byId(await serverReport(quiet), 'logs_and_monitoring')).toMatchObject({ status: 'warn' });
    } finally {
      await quiet.stop();
    }
  });

  test('clawshield mode without a key fails; with one, its fingerprint is printed', async () => {
    const noKey = loadConfig({ OPENEXEC_DATA_DIR: s.dataDir, OPENEXEC_MODE: 'clawshield' });
    expect(byId(hardeningReport(noKey, null, probeHost()), 'clawshield_public_key')).toMatchObject({ status: 'fail' });
    const approver = new TestApprover();
    const withKey = loadConfig({ OPENEXEC_DATA_DIR: s.dataDir, OPENEXEC_MODE: 'clawshield', CLAWSHIELD_PUBLIC_KEY: approver.publicKeyPem });
    const check = byId(hardeningReport(withKey, null, probeHost()), 'clawshield_public_key');
    expect(check.status).toBe('pass');
    const fp = publicKeyFingerprint(approver.signer.publicKey);
    expect(fp).toMatch(/^[0-9a-f]{64}$/);
    expect(check.evidence).toContain(fp);
  });

  test('a non-loopback bind warns, and without TLS fails tls', async () => {
    const config = loadConfig({ OPENEXEC_DATA_DIR: s.dataDir, OPENEXEC_HOST: '0.0.0.0', OPENEXEC_ALLOW_NON_LOOPBACK: '1' });
    const report = hardeningReport(config, null, probeHost());
    expect(byId(report, 'bind').status).toBe('warn');
    expect(byId(report, 'tls').status).toBe('fail');
    expect(byId(report, 'firewall').status).toBe('manual');
    const loopback = hardeningReport(loadConfig({ OPENEXEC_DATA_DIR: s.dataDir }), null, probeHost());
    expect(byId(loopback, 'tls').status).toBe('pass');
  });

  test('a non-loopback bind with TLS passes tls, and names the certificate and its expiry', () => {
    const dir = tempDir();
    const long = selfSignedCert(dir, 'long', { days: 90 });
    const short = selfSignedCert(dir, 'short', { days: 5 });
    const tlsConfig = (c: CertFiles) =>
      loadConfig({
        OPENEXEC_DATA_DIR: s.dataDir,
        OPENEXEC_HOST: '0.0.0.0',
        OPENEXEC_ALLOW_NON_LOOPBACK: '1',
        OPENEXEC_TLS_CERT: c.certFile,
        OPENEXEC_TLS_KEY: c.keyFile,
      });
    const good = byId(hardeningReport(tlsConfig(long), null, probeHost()), 'tls');
    expect(good.status).toBe('pass');
    expect(good.evidence).toContain(long.certFile);
    expect(byId(hardeningReport(tlsConfig(short), null, probeHost()), 'tls').status).toBe('warn');
  });

  test('a data directory others can write, and a key file others can read, fail', () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'd'));
    chmodSync(join(dir, 'd'), 0o777);
    const report = hardeningReport(loadConfig({ OPENEXEC_DATA_DIR: join(dir, 'd') }), null, probeHost());
    expect(byId(report, 'data_dir_modes').status).toBe('fail');
    chmodSync(join(s.dataDir, 'operator-key.pem'), 0o644);
    try {
      expect(byId(hardeningReport(loadConfig({ OPENEXEC_DATA_DIR: s.dataDir }), null, probeHost()), 'key_file_modes').status).toBe('fail');
    } finally {
      chmodSync(join(s.dataDir, 'operator-key.pem'), 0o600);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('start-up as root', () => {
  test('the server says so in one line', async (ctx) => {
    if (process.getuid?.() !== 0) return skipBecause(ctx, 'these tests do not run as root');
    const s = await startServer();
    try {
      expect(s.app.warnings().filter((w) => /running as root/.test(w))).toHaveLength(1);
    } finally {
      await s.stop();
    }
  });
});
