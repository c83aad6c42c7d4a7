import { randomBytes } from 'node:crypto';
import { renameSync, writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

export const CONSOLE_TOKEN_FILE = 'console-token';

/** A fresh operator token for every start. */
export function newConsoleToken(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * Written 0600 into the data directory: whoever can read that directory is the operator
 * already; agents are never told of it.
 */
export function writeConsoleToken(dataDir: string, token: string): string {
  const file = join(dataDir, CONSOLE_TOKEN_FILE);
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, `${token}\n`, { mode: 0o600, flag: 'wx' });
    renameSync(tmp, file);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
  return file;
}
