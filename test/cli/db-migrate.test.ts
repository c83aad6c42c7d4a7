/**
 * `openexec db migrate` against a real throwaway cluster: an empty database owned by the owner
 * role is brought to the schema with the app role's grants (then OpenExec serves on it as that
 * role, and that role still cannot touch a receipt), a second run applies nothing, and every
 * refusal is one line without the password.
 */
import { describe, expect, test } from 'vitest';
import pg from 'pg';
import { PG_SCHEMA_VERSION } from '../../src/main/core/store/postgres/pg-migrations.ts';
import { cliWithEnv } from '../support/cli.ts';
import { get, startServer } from '../support/harness.ts';
import { postgresAvailability } from '../support/postgres.ts';
import { usePostgres } from '../support/postgres-suite.ts';

describe.skipIf(!postgresAvailability().ok)('openexec db migrate (real throwaway cluster)', () => {
  const pgs = usePostgres('dbmigrate');

  test('an empty database is migrated once, the app role serves on it and still cannot rewrite a receipt', async () => {
    const db = await pgs.cluster.createDatabase('dbmigrate_fresh');
    const app = pgs.cluster.app.user;
    const first = await cliWithEnv({}, 'db', 'migrate', '--db-url', db.ownerUrl, '--app-role', app, '--json');
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    const result = JSON.parse(first.stdout) as { version: number; applied: number[]; appRole: string; server: string };
    expect(result).toMatchObject({ version: PG_SCHEMA_VERSION, appRole: app });
    expect(result.applied).toEqual(Array.from({ length: PG_SCHEMA_VERSION }, (_, i) => i + 1));
    expect(first.stdout).not.toContain(pgs.cluster.owner.password);

    const again = await cliWithEnv({}, 'db', 'migrate', '--db-url', db.ownerUrl, '--app-role', app);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(new RegExp(`already at schema version ${PG_SCHEMA_VERSION}`));

    const server = await startServer({ OPENEXEC_DB_URL: db.appUrl });
    try {
      expect((await get(server.url, '/health')).status).toBe(200);
    } finally {
      await server.stop();
    }
    const asApp = new pg.Client({ connectionString: db.appUrl });
    await asApp.connect();
    try {
      await expect(asApp.query("UPDATE receipts SET reason = 'rewritten'")).rejects.toThrow(/permission denied|refus/i);
    } finally {
      await asApp.end();
    }
  });

  test('refusals: no owner URL, no app role, a bad role name, the wrong password: one line, no password', async () => {
    const db = await pgs.cluster.createDatabase('dbmigrate_refusals');
    const app = pgs.cluster.app.user;
    const noUrl = await cliWithEnv({ OPENEXEC_DB_URL: '' }, 'db', 'migrate', '--app-role', app);
    expect(noUrl.code).toBe(2);
    expect(noUrl.stderr).toMatch(/^openexec: db migrate needs --db-url/);
    const noRole = await cliWithEnv({}, 'db', 'migrate', '--db-url', db.ownerUrl);
    expect(noRole.code).toBe(2);
    expect(noRole.stderr).toMatch(/^openexec: db migrate needs --app-role/);
    const badRole = await cliWithEnv({}, 'db', 'migrate', '--db-url', db.ownerUrl, '--app-role', 'app; DROP TABLE receipts');
    expect(badRole.code).toBe(2);
    expect(badRole.stderr).toMatch(/is not a plain lower-case identifier/);
    const wrong = db.ownerUrl.replace(`:${pgs.cluster.owner.password}@`, ':not-the-password@');
    const denied = await cliWithEnv({}, 'db', 'migrate', '--db-url', wrong, '--app-role', app);
    expect(denied.code).toBe(1);
    expect(denied.stderr.trim().split('\n')).toHaveLength(1);
    expect(denied.stderr).toMatch(/^openexec: db migrate at /);
    expect(denied.stderr).not.toContain('not-the-password');
    // Nothing was half-applied by any of them.
    const { rows } = await pgs.cluster.superQuery(db.name, "SELECT to_regclass('receipts') AS t");
    expect(rows[0]?.t).toBeNull();
    const other = await cliWithEnv({}, 'db', 'upgrade');
    expect(other.code).toBe(2);
    expect(other.stderr).toMatch(/db takes 'migrate'/);
  });
});
