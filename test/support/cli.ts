import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from './harness.ts';

export const CLI_BIN = join(REPO_ROOT, 'bin/openexec');

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** `bin/openexec` in its own process, as an operator runs it, against the given data directory. */
export function cli(dataDir: string, ...args: string[]): Promise<CliRun> {
  return cliWithEnv({ OPENEXEC_DATA_DIR: dataDir }, ...args);
}

/** `bin/openexec` with these variables on top of the test's own environment. */
export function cliWithEnv(env: Record<string, string>, ...args: string[]): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(CLI_BIN, args, { env: { ...process.env, ...env }, timeout: 20_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}
