import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createServer, type Server } from 'node:https';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../support/harness.ts';
import { cliWithEnv } from '../support/cli.ts';
import { spawnServer, waitForExit, type ServerProcess } from '../support/server-process.ts';
import { ownNonLoopbackAddress, selfSignedCert, type CertFiles } from '../support/tls-cert.ts';

const certDir = tempDir('openexec-tls-cli-');
const good = selfSignedCert(certDir, 'good');
const other = selfSignedCert(certDir, 'other');
afterAll(() => rmSync(certDir, { recursive: true, force: true }));

describe('the CLI over https trusts exactly the certificate in OPENEXEC_TLS_CERT', () => {
  const dataDir = tempDir();
  let server: ServerProcess;
  beforeAll(async () => {
    server = await spawnServer({ OPENEXEC_DATA_DIR: dataDir, OPENEXEC_TLS_CERT: good.certFile, OPENEXEC_TLS_KEY: good.keyFile });
  }, 30_000);
  afterAll(async () => {
    server.child.kill('SIGTERM');
    await waitForExit(server.child);
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('with the configured certificate: status and pending work, and server.json holds the https address', async () => {
    expect(server.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(JSON.parse(readFileSync(join(dataDir, 'server.json'), 'utf8')).address).toBe(server.url);
    const status = await cliWithEnv({ OPENEXEC_DATA_DIR: dataDir, OPENEXEC_TLS_CERT: good.certFile }, 'status');
    expect(status.stderr).toBe('');
    expect(status.code).toBe(0);
    expect(status.stdout).toContain(`at ${server.url}:`);
    const pending = await cliWithEnv({ OPENEXEC_DATA_DIR: dataDir, OPENEXEC_TLS_CERT: good.certFile }, 'pending', '--json');
    expect(pending.code).toBe(0);
  });

  test('without OPENEXEC_TLS_CERT it refuses with one line instead of trusting anything', async () => {
    const r = await cliWithEnv({ OPENEXEC_DATA_DIR: dataDir, OPENEXEC_TLS_CERT: '' }, 'status');
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/^openexec: .*server\.json points at https:\/\/127\.0\.0\.1:\d+, served over TLS: set OPENEXEC_TLS_CERT/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  test('with another certificate configured it refuses before any HTTP is spoken', async () => {
    const r = await cliWithEnv({ OPENEXEC_DATA_DIR: dataDir, OPENEXEC_TLS_CERT: other.certFile }, 'status');
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(
      /^openexec: the server at https:\/\/127\.0\.0\.1:\d+ .* did not present the certificate in OPENEXEC_TLS_CERT \(.*other\.crt\).*refusing to send the console token/,
    );
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });
});

describe('a TLS server that is not ours never receives a request, let alone the token', () => {
  let foreign: Server;
  let seen: string[];
  let dataDir: string;
  const dataDirs: string[] = [];

  /** Someone else's https server with the certificate `cert`, recorded in server.json as if it were OpenExec. */
  async function foreignServer(cert: CertFiles): Promise<void> {
    seen = [];
    foreign = createServer({ cert: readFileSync(cert.certFile), key: readFileSync(cert.keyFile) }, (req, res) => {
      seen.push(`${req.method} ${req.url} ${req.headers.authorization ?? ''}`);
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"detail":"Not Found"}');
    });
    await new Promise<void>((resolve) => foreign.listen(0, '127.0.0.1', resolve));
    const port = (foreign.address() as { port: number }).port;
    dataDir = tempDir();
    dataDirs.push(dataDir);
    // This test process is alive and "holds" the lock: only the certificate can tell the CLI apart.
    writeFileSync(join(dataDir, 'server.json'), JSON.stringify({ address: `https://127.0.0.1:${port}`, pid: process.pid }), {
      mode: 0o600,
    });
    writeFileSync(join(dataDir, 'openexec.lock'), `${process.pid}\n`, { mode: 0o600 });
    writeFileSync(join(dataDir, 'console-token'), 'secret-token-value\n', { mode: 0o600 });
  }
  afterAll(() => dataDirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  test('presenting another certificate: no request reaches it', async () => {
    await foreignServer(other);
    try {
      const r = await cliWithEnv({ OPENEXEC_DATA_DIR: dataDir, OPENEXEC_TLS_CERT: good.certFile }, 'status');
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/did not present the certificate in OPENEXEC_TLS_CERT/);
      expect(seen).toEqual([]);
    } finally {
      foreign.close();
    }
  });

  test('presenting the configured certificate but not knowing the token: only the challenge reaches it', async () => {
    await foreignServer(good);
    try {
      const r = await cliWithEnv({ OPENEXEC_DATA_DIR: dataDir, OPENEXEC_TLS_CERT: good.certFile }, 'status');
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/could not prove it knows the console token/);
      expect(seen).toEqual(['POST /console/challenge ']);
    } finally {
      foreign.close();
    }
  });
});

describe("the CLI against a server beyond loopback (this machine's own address)", () => {
  const own = ownNonLoopbackAddress();
  if (own === null) console.log('skipping the CLI beyond-loopback tests: this machine has no non-loopback IPv4 address');

  async function withServer(env: Record<string, string>, run: (dataDir: string) => Promise<void>): Promise<void> {
    const dataDir = tempDir();
    const server = await spawnServer({ OPENEXEC_DATA_DIR: dataDir, OPENEXEC_HOST: own!, ...env }, ['--allow-non-loopback']);
    try {
      await run(dataDir);
    } finally {
      server.child.kill('SIGTERM');
      await waitForExit(server.child);
      rmSync(dataDir, { recursive: true, force: true });
    }
  }

  test.runIf(own !== null)(
    'over TLS the pinned certificate is enough, whatever names it carries',
    async () => {
      // `good` names only 127.0.0.1: a name check would fail here, the pin does not.
      await withServer({ OPENEXEC_TLS_CERT: good.certFile, OPENEXEC_TLS_KEY: good.keyFile }, async (dataDir) => {
        const r = await cliWithEnv({ OPENEXEC_DATA_DIR: dataDir, OPENEXEC_HOST: own!, OPENEXEC_TLS_CERT: good.certFile }, 'status');
        expect(r.stderr).toBe('');
        expect(r.stdout).toContain(`at https://${own}:`);
      });
    },
    60_000,
  );

  test.runIf(own !== null)(
    'over plain HTTP the CLI too needs OPENEXEC_ALLOW_PLAINTEXT=1 before it sends the token',
    async () => {
      await withServer({ OPENEXEC_ALLOW_PLAINTEXT: '1' }, async (dataDir) => {
        const refused = await cliWithEnv({ OPENEXEC_DATA_DIR: dataDir, OPENEXEC_HOST: own!, OPENEXEC_ALLOW_PLAINTEXT: '' }, 'status');
        expect(refused.code).not.toBe(0);
        expect(refused.stderr).toMatch(
          /plain HTTP beyond loopback; refusing to send the console token unencrypted \(OPENEXEC_ALLOW_PLAINTEXT=1/,
        );
        const allowed = await cliWithEnv({ OPENEXEC_DATA_DIR: dataDir, OPENEXEC_HOST: own!, OPENEXEC_ALLOW_PLAINTEXT: '1' }, 'status');
        expect(allowed.stderr).toBe('');
        expect(allowed.stdout).toContain(`at http://${own}:`);
      });
    },
    60_000,
  );
});
