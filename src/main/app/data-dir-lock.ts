import { closeSync, lstatSync, mkdirSync, openSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from './config.ts';
import { codeOf, refuseUnlessPrivate } from './private-path.ts';

export const LOCK_FILE = 'openexec.lock';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The data directory holds the operator's keys: it must be ours and closed to others, and
 * only one OpenExec may use it at a time (two would overwrite each other's console token and
 * keep diverging copies of the allow-list).
 */
export function lockDataDir(dataDir: string): { release(): void } {
  try {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw new ConfigError(`OPENEXEC_DATA_DIR: cannot create ${dataDir}: ${codeOf(err)}`);
  }
  const st = statSync(dataDir);
  if (!st.isDirectory()) throw new ConfigError(`OPENEXEC_DATA_DIR: ${dataDir} is not a directory`);
  refuseUnlessPrivate('OPENEXEC_DATA_DIR', dataDir, st);
  const file = join(dataDir, LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx', 0o600);
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      return {
        release() {
          let holder: number;
          try {
            holder = Number.parseInt(readFileSync(file, 'utf8'), 10);
          } catch {
            return; // already gone: nothing of ours to remove
          }
          if (holder === process.pid) rmSync(file, { force: true });
        },
      };
    } catch (err) {
      if (codeOf(err) !== 'EEXIST') throw new ConfigError(`OPENEXEC_DATA_DIR: cannot create the lock file ${file}: ${codeOf(err)}`);
      let holder: number;
      try {
        // Something other than a file (a FIFO would block the read forever) is not our lock.
        if (!lstatSync(file).isFile()) throw new ConfigError(`OPENEXEC_DATA_DIR: the lock file ${file} is not a regular file`);
        holder = Number.parseInt(readFileSync(file, 'utf8'), 10);
      } catch (readErr) {
        if (readErr instanceof ConfigError) throw readErr;
        throw new ConfigError(`OPENEXEC_DATA_DIR: cannot read the lock file ${file}: ${codeOf(readErr)}`);
      }
      if (Number.isInteger(holder) && holder !== process.pid && alive(holder)) {
        throw new ConfigError(`OPENEXEC_DATA_DIR: another OpenExec (pid ${holder}) is using ${dataDir}`);
      }
      // Left behind by a process that is gone (a crash, SIGKILL): take it over.
      rmSync(file, { force: true });
    }
  }
  throw new ConfigError(`OPENEXEC_DATA_DIR: cannot lock ${dataDir}`);
}
