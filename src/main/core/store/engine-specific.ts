import { Refusal } from '../errors.ts';

/**
 * Something this OpenExec does on one database engine only, asked of the other: refused with
 * what to use instead (a PostgreSQL ledger is backed up with pg_dump, not `backup`). A typed
 * Refusal, so the console and the API answer it as a bad request with this detail.
 */
export class EngineSpecific extends Refusal {
  override name = 'EngineSpecific';

  constructor(
    readonly what: string,
    readonly engine: 'SQLite' | 'PostgreSQL',
    instead: string,
  ) {
    super('bad_request', `${what} is for a ${engine} ledger only; ${instead}`);
  }
}

/** What `backup` (console, CLI) says on a PostgreSQL ledger. */
export const POSTGRES_BACKUP_INSTEAD =
  "this ledger is on PostgreSQL: back it up with pg_dump or the server's own backups, and check a restored copy with openexec verify-ledger --db-url";

/** What closing a retired instance's executions (console, CLI) says on a SQLite ledger. */
export const SQLITE_ORPHANS_INSTEAD = 'a SQLite ledger has one instance, which closes every execution it left running when it starts again';
