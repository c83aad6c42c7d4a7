import { execFile } from 'node:child_process';
import type { Narrator } from './narrator.ts';
import { demoEnv } from './demo-server.ts';

export interface CommandRun {
  code: number | null;
  output: string;
}

const COMMAND_TIMEOUT_MS = 60_000;

/** A real command in its own process; its exit code and what it printed (stdout then stderr). */
export function runCommand(program: string, args: string[], env: Record<string, string> = {}): Promise<CommandRun> {
  return new Promise((resolve) => {
    execFile(program, args, { env: demoEnv(env), timeout: COMMAND_TIMEOUT_MS }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : null) : 0;
      const spawnError = err && code === null ? (err as Error).message : '';
      resolve({ code, output: `${stdout}${stderr}${spawnError}` });
    });
  });
}

/** Shows a command as a reader would type it, runs it, and shows what it printed. */
export async function shownCommand(
  narrator: Narrator,
  shell: string,
  program: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<CommandRun> {
  narrator.line('check', `$ ${shell}`);
  const r = await runCommand(program, args, env);
  narrator.output(r.output);
  return r;
}
