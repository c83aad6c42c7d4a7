import { lstatSync, mkdirSync, statSync, type Stats } from 'node:fs';
import { dirname } from 'node:path';
import { ConfigError } from './config.ts';
import { codeOf, refuseUnlessPrivate } from './private-path.ts';

const VARIABLE = 'OPENEXEC_DB_URL';

/** The files SQLite keeps beside a database: each one holds committed or committing state. */
export const SQLITE_COMPANIONS = ['-wal', '-shm', '-journal'] as const;

function lstatOrNull(path: string): Stats | null {
  try {
    return lstatSync(path);
  } catch (err) {
    if (codeOf(err) === 'ENOENT') return null;
    throw new ConfigError(`${VARIABLE}: cannot inspect ${path}: ${codeOf(err)}`);
  }
}

/**
 * The ledger is where approvals are spent: whoever can write it, or its -wal/-shm files, or
 * swap them in its directory, can un-spend one. So the database gets the data directory's
 * rules wherever OPENEXEC_DB_URL puts it: its directory is ours and closed to other users'
 * writes (created 0700 when missing, here, so no one can slip one in first), and the database
 * and its companion files, where they exist, are regular files of ours that no one else can
 * write. Links are refused rather than followed: the file checked must be the file opened.
 */
export function checkDatabaseFiles(dbPath: string): void {
  const dir = dirname(dbPath);
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw new ConfigError(`${VARIABLE}: cannot create the database directory ${dir}: ${codeOf(err)}`);
  }
  const dirStat = statSync(dir);
  if (!dirStat.isDirectory()) throw new ConfigError(`${VARIABLE}: ${dir} is not a directory`);
  refuseUnlessPrivate(VARIABLE, dir, dirStat);
  for (const file of [dbPath, ...SQLITE_COMPANIONS.map((suffix) => dbPath + suffix)]) {
    const st = lstatOrNull(file);
    if (st === null) continue;
    if (st.isSymbolicLink()) throw new ConfigError(`${VARIABLE}: ${file} is a symbolic link; name the real file`);
    if (!st.isFile()) throw new ConfigError(`${VARIABLE}: ${file} is not a regular file`);
    refuseUnlessPrivate(VARIABLE, file, st);
  }
}
