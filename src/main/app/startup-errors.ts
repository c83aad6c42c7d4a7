import { KeyFileError } from '../core/crypto/key-file.ts';
import { ConfigError, type OpenExecConfig } from './config.ts';
import { codeOf } from './private-path.ts';

function firstLine(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.split('\n')[0] ?? text;
}

/** SQLite's text and its code, e.g. "file is not a database (SQLITE_NOTADB)". */
function describeDbError(err: unknown): string {
  const code = (err as { code?: unknown }).code;
  const text = firstLine(err);
  return typeof code === 'string' && !text.includes(code) ? `${text} (${code})` : text;
}

/**
 * Every line start-up stops with names the variable or the file to fix. The core reads only
 * the database (a SQLite file, or a PostgreSQL server named by its redacted URL) and the key files; a key file problem names its file already, so whatever else
 * the core throws while it opens is about the database.
 */
export function coreStartError(err: unknown, config: OpenExecConfig): Error {
  if (err instanceof ConfigError || err instanceof KeyFileError) return err;
  // PostgreSQL's errors name the server without its password (PostgresStoreError); the URL is shown redacted.
  if (config.postgresUrl !== null) return new ConfigError(`OPENEXEC_DB_URL: database ${config.dbDisplay}: ${firstLine(err)}`);
  return new ConfigError(`OPENEXEC_DB_URL: database ${config.dbPath}: ${describeDbError(err)}`);
}

/** A failed bind, as the variable that chose the address. */
export function listenError(err: unknown, config: OpenExecConfig): Error {
  const where = `${config.host}:${config.port}`;
  switch (codeOf(err)) {
    case 'EADDRINUSE':
      return new ConfigError(`OPENEXEC_PORT: ${where} is already in use`);
    case 'EACCES':
      return new ConfigError(`OPENEXEC_PORT: not permitted to listen on ${where} (ports below 1024 need privileges)`);
    case 'EADDRNOTAVAIL':
      return new ConfigError(`OPENEXEC_HOST: ${config.host} is not an address of this machine`);
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new ConfigError(`OPENEXEC_HOST: ${config.host} does not resolve to an address`);
    default:
      return new ConfigError(`OPENEXEC_HOST/OPENEXEC_PORT: cannot listen on ${where}: ${firstLine(err)}`);
  }
}

/** Writing the console token or server.json into the data directory failed. */
export function dataDirWriteError(err: unknown, file: string): Error {
  return new ConfigError(`OPENEXEC_DATA_DIR: cannot write ${file}: ${codeOf(err)}`);
}
