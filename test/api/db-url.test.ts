import { describe, expect, test } from 'vitest';
import { spawn } from 'node:child_process';
import { ConfigError, loadConfig } from '../../src/main/app/config.ts';
import { redactDbUrl } from '../../src/main/app/db-url.ts';
import { REPO_ROOT, startServer, tempDir } from '../support/harness.ts';
import { NODE_BIN } from '../support/server-process.ts';

const SECRET = 'hunter2-S3cret';

/** loadConfig's refusal for this OPENEXEC_DB_URL, as its one line. */
function refusal(url: string): string {
  try {
    loadConfig({ OPENEXEC_DATA_DIR: tempDir(), OPENEXEC_DB_URL: url });
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error(`${url} was accepted`);
}

function expectNoSecret(text: string): void {
  expect(text).not.toContain(SECRET);
  expect(text).not.toContain(encodeURIComponent(SECRET));
  expect(text).not.toContain('p%40ss');
}

describe('redactDbUrl', () => {
  test.each([
    [
      `postgresql://alice:${SECRET}@db.example:5432/ledger?sslmode=verify-full`,
      'postgresql://alice:redacted@db.example:5432/ledger?sslmode=verify-full',
    ],
    [`postgres://alice:p%40ss%2F${SECRET}@db/ledger`, 'postgres://alice:redacted@db/ledger'],
    [
      `postgresql://db/ledger?user=alice&password=${SECRET}&sslpassword=${SECRET}`,
      'postgresql://db/ledger?user=alice&password=redacted&sslpassword=redacted',
    ],
    ['postgresql://alice@db/ledger', 'postgresql://alice@db/ledger'],
    [`postgresql://alice:${SECRET}@db:99999/ledger`, 'postgresql://… (not a valid URL, not shown)'],
    ['sqlite:////var/lib/openexec/openexec.db', 'sqlite:////var/lib/openexec/openexec.db'],
  ])('%s is shown as %s', (url, shown) => {
    expect(redactDbUrl(url)).toBe(shown);
    expectNoSecret(redactDbUrl(url));
  });
});

describe('OPENEXEC_DB_URL=postgresql://…: checked, and never shown with its password', () => {
  test('a well-formed URL is taken as the PostgreSQL ledger, shown (Status, log) only redacted', () => {
    for (const scheme of ['postgresql', 'postgres']) {
      const url = `${scheme}://alice:${SECRET}@db.example:5432/ledger?sslmode=require`;
      const config = loadConfig({ OPENEXEC_DATA_DIR: tempDir(), OPENEXEC_DB_URL: url });
      expect(config.postgresUrl).toBe(url);
      expect(config.dbPath).toBeNull();
      expect(config.dbDisplay).toBe(`${scheme}://alice:redacted@db.example:5432/ledger?sslmode=require`);
    }
    const query = loadConfig({ OPENEXEC_DATA_DIR: tempDir(), OPENEXEC_DB_URL: `postgresql://db/ledger?password=${SECRET}` });
    expectNoSecret(query.dbDisplay);
  });

  test.each([
    [
      `postgresql://alice:${SECRET}@db/ledger?sslmode=sometimes`,
      /sslmode must be one of disable, allow, prefer, require, verify-ca, verify-full, got 'sometimes'$/,
    ],
    [`postgresql://alice:${SECRET}@db/ledger?sslmode=require&sslmode=disable`, /sslmode is given 2 times$/],
    [`postgresql:///ledger?password=${SECRET}`, /names no host$/],
    [`postgresql://alice:${SECRET}@db/ledger/extra`, /the database name is one path segment$/],
    [`postgresql://alice:${SECRET}%ZZ@db/ledger`, /the user name or password is not valid percent-encoding$/],
    [
      `postgresql://alice:${SECRET}@db:99999/ledger`,
      /^OPENEXEC_DB_URL: postgresql:\/\/… \(not a valid URL, not shown\) is not a valid URL/,
    ],
  ])('%s: one line naming the problem, without the password', (url, problem) => {
    const line = refusal(url);
    expect(line).toMatch(/^OPENEXEC_DB_URL: /);
    expect(line).toMatch(problem);
    expect(line).not.toContain('\n');
    expectNoSecret(line);
  });

  test('a sqlite URL written with a user part does not echo its password either', () => {
    const line = refusal(`sqlite://admin:${SECRET}@host/openexec.db`);
    expect(line).toMatch(/^OPENEXEC_DB_URL: 'sqlite:\/\/admin:redacted@host\/openexec\.db' is not a sqlite:\/\/\/ URL/);
    expectNoSecret(line);
  });

  test('the headless server, its PostgreSQL server unreachable, stops with exit 2 and one line naming the redacted URL', async () => {
    const child = spawn(NODE_BIN, ['--import', 'tsx', 'src/main/headless.ts'], {
      cwd: REPO_ROOT,
      env: {
        ...process.env,
        OPENEXEC_PORT: '0',
        OPENEXEC_DATA_DIR: tempDir(),
        // Port 1: nothing listens there, so the connection is refused at once.
        OPENEXEC_DB_URL: `postgresql://alice:${SECRET}@127.0.0.1:1/ledger`,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).toBe(2);
    expect(output).toMatch(
      /^openexec: OPENEXEC_DB_URL: database postgresql:\/\/alice:redacted@127\.0\.0\.1:1\/ledger: cannot use PostgreSQL at alice@127\.0\.0\.1:1\/ledger: .*ECONNREFUSED/,
    );
    expect(output.trim().split('\n')).toHaveLength(1);
    expectNoSecret(output);
  });
});

describe('Status names the database as a URL', () => {
  test('the resolved sqlite file, in the health DTO', async () => {
    const server = await startServer({ OPENEXEC_DB_URL: 'sqlite:///ledger/main.db' });
    try {
      const health = await server.app.console.health();
      expect(health.ok && health.value.database).toBe(`sqlite:///${server.dataDir}/ledger/main.db`);
    } finally {
      await server.stop();
    }
  });
});
