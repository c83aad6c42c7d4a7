import type { Stats } from 'node:fs';
import { ConfigError } from './config.ts';

// POSIX owners and permission bits mean nothing on Windows (ACLs decide there).
const CHECK_OWNER_AND_MODE = process.platform !== 'win32';

/**
 * What OpenExec keeps (keys, the ledger) must be closed to other local users: a directory or
 * file another user owns or can write could be swapped or edited under us, e.g. to un-spend
 * an approval. Throws one line naming the variable that chose the path, and the fix.
 */
export function refuseUnlessPrivate(variable: string, path: string, st: Stats): void {
  if (!CHECK_OWNER_AND_MODE) return;
  if (typeof process.getuid === 'function' && st.uid !== process.getuid()) {
    throw new ConfigError(`${variable}: ${path} belongs to another user`);
  }
  if ((st.mode & 0o022) !== 0) {
    throw new ConfigError(`${variable}: ${path} is writable by other users; run chmod ${st.isDirectory() ? 700 : 600} ${path}`);
  }
}

/** An fs error's code (ENOENT, EACCES …), for one-line messages. */
export function codeOf(err: unknown): string {
  return (err as NodeJS.ErrnoException).code ?? String(err);
}
