/**
 * `openexec db migrate`: brings a PostgreSQL database to this OpenExec's schema, as its owner,
 * and grants the application role (the one OpenExec connects as) exactly what it needs
 * (SECURITY.md, "PostgreSQL: roles and trust"). OpenExec itself never migrates: the app role
 * cannot, by design.
 */
import { PG_SCHEMA_VERSION, migratePostgres } from '../core/store/postgres/pg-migrations.ts';
import { describeServer, openPool, PostgresStoreError } from '../core/store/postgres/pg-pool.ts';
import { CliError, type CliOutput } from './cli-error.ts';

export async function dbCommand(
  sub: string | undefined,
  ownerUrl: string | undefined,
  appRole: string | undefined,
  out: CliOutput,
): Promise<number> {
  if (sub !== 'migrate') throw new CliError(`db takes 'migrate', got ${sub === undefined ? 'nothing' : `'${sub}'`}`, 2);
  if (ownerUrl === undefined) {
    throw new CliError(
      "db migrate needs --db-url postgresql://OWNER@HOST:PORT/DB: the database owner's URL, not the application role's",
      2,
    );
  }
  if (appRole === undefined)
    throw new CliError('db migrate needs --app-role ROLE: the role OpenExec connects as, to grant what it needs', 2);
  const server = describeServer(ownerUrl);
  let applied: number[];
  try {
    const pool = await openPool(ownerUrl, { max: 1 });
    try {
      applied = await migratePostgres(pool, { appRole });
    } finally {
      await pool.end().catch(() => undefined);
    }
  } catch (err) {
    // Named without the password (PostgresStoreError's messages never carry it).
    if (err instanceof PostgresStoreError) throw new CliError(`db migrate at ${server}: ${err.message}`, err.code === 'schema' ? 2 : 1);
    throw err;
  }
  const result = { server, version: PG_SCHEMA_VERSION, applied, appRole };
  if (out.json) out.printJson(result);
  else if (applied.length === 0) out.print(`${server}: already at schema version ${PG_SCHEMA_VERSION}; grants for ${appRole} renewed`);
  else out.print(`${server}: schema version ${PG_SCHEMA_VERSION} (applied ${applied.join(', ')}); grants for ${appRole} renewed`);
  return 0;
}
