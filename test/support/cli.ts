import { execFile, spawn } from 'node:child_process';
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

/** `bin/openexec hook claude-code` with `input` on stdin, as Claude Code runs a command hook. */
export function hookCli(input: string, env: Record<string, string>): Promise<CliRun> {
  return new Promise((resolve) => {
    const child = spawn(CLI_BIN, ['hook', 'claude-code'], { env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(input);
  });
}
