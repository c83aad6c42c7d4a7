import { ConfigError } from '../app/config.ts';
import { checkPostgresUrl, isPostgresUrl } from '../app/db-url.ts';
import { CliError } from './cli-error.ts';

/** The commands that read a PostgreSQL ledger's URL themselves; the others reach the running server, which may run on one. */
const TAKES_POSTGRES = new Set(['verify-ledger', 'backup', 'db']);

/**
 * The PostgreSQL ledger a command is pointed at: `--db-url`, else OPENEXEC_DB_URL when it is a
 * `postgresql://` URL; undefined for a SQLite ledger. Its syntax is checked here, and every
 * message shows it without its password.
 */
export function postgresLedgerUrl(command: string, option: string | undefined, env: NodeJS.ProcessEnv): string | undefined {
  if (option !== undefined && !TAKES_POSTGRES.has(command)) throw new CliError(`${command} does not take --db-url`, 2);
  if (option !== undefined && !isPostgresUrl(option)) {
    throw new CliError('--db-url takes a postgresql:// URL (a SQLite ledger is found through OPENEXEC_DATA_DIR or OPENEXEC_DB_URL)', 2);
  }
  const fromEnv = env['OPENEXEC_DB_URL']?.trim();
  const url = option ?? (TAKES_POSTGRES.has(command) && fromEnv !== undefined && isPostgresUrl(fromEnv) ? fromEnv : undefined);
  if (url === undefined) return undefined;
  try {
    checkPostgresUrl(url);
  } catch (err) {
    if (err instanceof ConfigError && option !== undefined) throw new CliError(err.message.replace(/^OPENEXEC_DB_URL/, '--db-url'), 2);
    throw err;
  }
  return url;
}
