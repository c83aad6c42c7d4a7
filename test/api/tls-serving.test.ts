import { afterAll, describe, expect, test } from 'vitest';
import { spawn } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect as tcpConnect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { chmodSync, copyFileSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT, startServer, tempDir } from '../support/harness.ts';
import { NODE_BIN } from '../support/server-process.ts';
import { ownNonLoopbackAddress, selfSignedCert } from '../support/tls-cert.ts';
import { loadConfig } from '../../src/main/app/config.ts';
import { bindWarnings } from '../../src/main/app/bind-policy.ts';
import { loadTlsFiles, tlsExpiryWarnings } from '../../src/main/app/tls-files.ts';
import { startOpenExec } from '../../src/main/app/openexec-app.ts';

const posix = process.platform !== 'win32';
const dir = tempDir('openexec-tls-');
const good = selfSignedCert(dir, 'good');
const other = selfSignedCert(dir, 'other');
const tlsEnv = (c = good) => ({ OPENEXEC_TLS_CERT: c.certFile, OPENEXEC_TLS_KEY: c.keyFile });
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** GET over https trusting only `ca`; the status code, or the error's code. */
function httpsGet(url: string, ca: string): Promise<{ status: number; body: string } | { error: string }> {
  return new Promise((resolve) => {
    const req = httpsRequest(url, { ca, agent: false }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', (err: NodeJS.ErrnoException) => resolve({ error: err.code ?? err.message }));
    req.end();
  });
}

function plainGet(url: string): Promise<string> {
  return new Promise((resolve) => {
    const req = httpRequest(url, { agent: false }, (res) => resolve(`HTTP ${res.statusCode}`));
    req.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    req.end();
  });
}

/** startOpenExec's refusal as its one line, or null when it started. */
async function startRefusal(env: Record<string, string>): Promise<string | null> {
  const dataDir = tempDir();
  try {
    const app = await startOpenExec(loadConfig({ OPENEXEC_PORT: '0', OPENEXEC_DATA_DIR: dataDir, ...env }));
    await app.close();
    return null;
  } catch (err) {
    return (err as Error).message;
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

function expectOneLine(message: string | null, pattern: RegExp): void {
  expect(message).toMatch(pattern);
  expect(message).not.toContain('\n');
}

describe('OPENEXEC_TLS_CERT / OPENEXEC_TLS_KEY serve the API over HTTPS', () => {
  test('the API answers over TLS with the configured certificate, and server.json and Status say https', async () => {
    const server = await startServer(tlsEnv());
    try {
      expect(server.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      const res = await httpsGet(`${server.url}/health`, readFileSync(good.certFile, 'utf8'));
      expect(res).toMatchObject({ status: 200 });
      // A client trusting another certificate refuses this server: the server presents ours.
      expect(await httpsGet(`${server.url}/health`, readFileSync(other.certFile, 'utf8'))).toEqual({
        error: 'DEPTH_ZERO_SELF_SIGNED_CERT',
      });
      // The port speaks TLS only: a plain HTTP request gets no answer.
      expect(await plainGet(server.url.replace('https:', 'http:') + '/health')).not.toMatch(/^HTTP /);
      const info = JSON.parse(readFileSync(join(server.dataDir, 'server.json'), 'utf8')) as { address: string };
      expect(info.address).toBe(server.url);
      const health = await server.app.console.health();
      expect(health.ok && health.value.apiAddress).toBe(server.url);
      expect(server.app.warnings().some((w) => w.includes('TLS certificate'))).toBe(false);
    } finally {
      await server.stop();
    }
  });

  test('a connection that stalls in the TLS handshake, or sends nothing after it, is cut after OPENEXEC_REQUEST_TIMEOUT', async () => {
    const server = await startServer({ ...tlsEnv(), OPENEXEC_REQUEST_TIMEOUT: '1' });
    try {
      const port = Number(new URL(server.url).port);
      const silent = tcpConnect(port, '127.0.0.1');
      const afterHandshake = tlsConnect({ port, host: '127.0.0.1', ca: readFileSync(good.certFile, 'utf8') });
      let answer = '';
      afterHandshake.on('data', (d: Buffer) => (answer += d.toString()));
      afterHandshake.on('error', () => {});
      silent.on('error', () => {});
      // Node's default handshake timeout is 120 s, far beyond this test's own limit.
      await Promise.all([new Promise((r) => silent.once('close', r)), new Promise((r) => afterHandshake.once('close', r))]);
      expect(answer).toMatch(/^HTTP\/1\.1 408 /);
    } finally {
      await server.stop();
    }
  }, 30_000);

  test('a certificate that expires within 14 days is named in the warnings', async () => {
    const soon = selfSignedCert(dir, 'soon', { days: 3 });
    const server = await startServer(tlsEnv(soon));
    try {
      const warning = server.app.warnings().find((w) => w.includes('TLS certificate'));
      expect(warning).toMatch(/^the TLS certificate .*soon\.crt expires in 2 days \(/);
    } finally {
      await server.stop();
    }
  });

  test('a certificate not valid now is refused with one line: expired, or not yet valid', () => {
    const tls = loadTlsFiles({ tlsCertFile: good.certFile, tlsKeyFile: good.keyFile });
    expect(tls).not.toBeNull();
    const after = new Date(tls!.validTo.getTime() + 1000);
    expect(() => loadTlsFiles({ tlsCertFile: good.certFile, tlsKeyFile: good.keyFile }, after)).toThrow(
      new RegExp(`^OPENEXEC_TLS_CERT: the certificate .*good\\.crt expired on ${tls!.validTo.toISOString().replace(/\./g, '\\.')}$`),
    );
    const before = new Date(Date.now() - 2 * 24 * 3600 * 1000);
    expect(() => loadTlsFiles({ tlsCertFile: good.certFile, tlsKeyFile: good.keyFile }, before)).toThrow(
      /^OPENEXEC_TLS_CERT: the certificate .*good\.crt is not valid before /,
    );
    expect(tlsExpiryWarnings(tls!, after)[0]).toMatch(/has expired/);
  });

  test("a key that is not the certificate's is refused with one line naming both files", async () => {
    expectOneLine(
      await startRefusal({ OPENEXEC_TLS_CERT: good.certFile, OPENEXEC_TLS_KEY: other.keyFile }),
      /^OPENEXEC_TLS_KEY: .*other\.key is not the key of the certificate .*good\.crt \(OPENEXEC_TLS_CERT\)$/,
    );
  });

  test('the headless server refuses a mismatched pair with exit 2 and one line', async () => {
    const child = spawn(NODE_BIN, ['--import', 'tsx', 'src/main/headless.ts'], {
      cwd: REPO_ROOT,
      env: {
        ...process.env,
        OPENEXEC_PORT: '0',
        OPENEXEC_DATA_DIR: tempDir(),
        OPENEXEC_TLS_CERT: other.certFile,
        OPENEXEC_TLS_KEY: good.keyFile,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).toBe(2);
    expect(stderr).toMatch(/^openexec: OPENEXEC_TLS_KEY: .*good\.key is not the key of the certificate .*other\.crt/);
    expect(stderr.trim().split('\n')).toHaveLength(1);
  });

  test.runIf(posix)("the key file is checked like OpenExec's own keys: mode, link, owner-only", async () => {
    const loose = join(dir, 'loose.key');
    copyFileSync(good.keyFile, loose);
    chmodSync(loose, 0o640);
    expectOneLine(
      await startRefusal({ OPENEXEC_TLS_CERT: good.certFile, OPENEXEC_TLS_KEY: loose }),
      /^OPENEXEC_TLS_KEY: key file .*loose\.key is readable by other users \(mode 0640\); run chmod 600 /,
    );
    const link = join(dir, 'link.key');
    symlinkSync(good.keyFile, link);
    expectOneLine(
      await startRefusal({ OPENEXEC_TLS_CERT: good.certFile, OPENEXEC_TLS_KEY: link }),
      /^OPENEXEC_TLS_KEY: key file .*link\.key is a symbolic link/,
    );
  });

  test('every other bad setting is one line naming the variable', async () => {
    expectOneLine(
      await startRefusal({ OPENEXEC_TLS_CERT: good.certFile }),
      /^OPENEXEC_TLS_KEY: must be set together with OPENEXEC_TLS_CERT/,
    );
    expectOneLine(await startRefusal({ OPENEXEC_TLS_KEY: good.keyFile }), /^OPENEXEC_TLS_CERT: must be set together with OPENEXEC_TLS_KEY/);
    expectOneLine(
      await startRefusal(tlsEnv({ certFile: join(dir, 'missing.crt'), keyFile: good.keyFile })),
      /^OPENEXEC_TLS_CERT: cannot read .*missing\.crt: ENOENT$/,
    );
    expectOneLine(
      await startRefusal(tlsEnv({ certFile: good.keyFile, keyFile: good.keyFile })),
      /^OPENEXEC_TLS_CERT: .*good\.key contains a private key/,
    );
    const notPem = join(dir, 'not.crt');
    writeFileSync(notPem, 'hello\n');
    expectOneLine(
      await startRefusal(tlsEnv({ certFile: notPem, keyFile: good.keyFile })),
      /^OPENEXEC_TLS_CERT: .*not\.crt is not a PEM certificate$/,
    );
    expectOneLine(
      await startRefusal(tlsEnv({ certFile: good.certFile, keyFile: join(dir, 'missing.key') })),
      /^OPENEXEC_TLS_KEY: key file .*missing\.key does not exist$/,
    );
    const notKey = join(dir, 'not.key');
    writeFileSync(notKey, 'hello\n', { mode: 0o600 });
    expectOneLine(
      await startRefusal(tlsEnv({ certFile: good.certFile, keyFile: notKey })),
      /^OPENEXEC_TLS_KEY: .*not\.key is not a PEM private key$/,
    );
  });
});

describe('beyond loopback: TLS, or plain HTTP only when allowed twice', () => {
  const host = '192.0.2.77';
  const configFor = (env: Record<string, string>) => loadConfig({ OPENEXEC_HOST: host, OPENEXEC_ALLOW_NON_LOOPBACK: '1', ...env });

  test('decided from the configuration, before anything binds', () => {
    expect(() => bindWarnings(loadConfig({ OPENEXEC_HOST: host }), true)).toThrow(
      /^OPENEXEC_HOST: 192\.0\.2\.77 is not a loopback address; .*--allow-non-loopback/,
    );
    expect(() => bindWarnings(configFor({}), false)).toThrow(
      /^OPENEXEC_HOST: 192\.0\.2\.77 is not a loopback address and OPENEXEC_TLS_CERT\/OPENEXEC_TLS_KEY are not set: .*OPENEXEC_ALLOW_PLAINTEXT=1/,
    );
    expect(bindWarnings(configFor({}), true)).toEqual([expect.stringMatching(/^the API listens on 192\.0\.2\.77, which is not loopback/)]);
    const plain = bindWarnings(configFor({ OPENEXEC_ALLOW_PLAINTEXT: '1' }), false);
    expect(plain).toHaveLength(2);
    expect(plain[1]).toMatch(/^PLAIN HTTP BEYOND LOOPBACK/);
    // Loopback needs neither.
    expect(bindWarnings(loadConfig({ OPENEXEC_HOST: '127.0.0.2' }), false)).toEqual([]);
  });

  const own = ownNonLoopbackAddress();
  if (own === null) console.log('skipping the non-loopback bind tests: this machine has no non-loopback IPv4 address');
  test.runIf(own !== null)(`a bind to this machine's own ${own ?? 'address'}: refused without TLS, served over HTTPS with it`, async () => {
    const ip = own!;
    const env = { OPENEXEC_HOST: ip, OPENEXEC_ALLOW_NON_LOOPBACK: '1' };
    expectOneLine(await startRefusal(env), /is not a loopback address and OPENEXEC_TLS_CERT\/OPENEXEC_TLS_KEY are not set/);
    const cert = selfSignedCert(dir, 'own', { ips: [ip] });
    const server = await startServer({ ...env, ...tlsEnv(cert) });
    try {
      expect(server.url).toMatch(new RegExp(`^https://${ip.replace(/\./g, '\\.')}:\\d+$`));
      expect(await httpsGet(`${server.url}/health`, readFileSync(cert.certFile, 'utf8'))).toMatchObject({ status: 200 });
      expect(server.app.warnings()).toContainEqual(expect.stringMatching(/which is not loopback/));
      expect(server.app.warnings().some((w) => w.startsWith('PLAIN HTTP'))).toBe(false);
    } finally {
      await server.stop();
    }
  });
});
