/**
 * `npm run serve`: the core and the loopback API with no window, for machines without a
 * display. Configuration comes from the environment (README, protocol §4).
 */
import { join } from 'node:path';
import { homedir } from 'node:os';
import { ConfigError, loadConfig } from './app/config.ts';
import { startOpenExec, type OpenExecApp } from './app/openexec-app.ts';
import { tolerateUnwritableStdio } from './app/tolerant-stdio.ts';

function oneLine(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.split('\n')[0] ?? text;
}

async function main(): Promise<void> {
  tolerateUnwritableStdio();
  const args = process.argv.slice(2);
  const unknown = args.filter((a) => a !== '--allow-non-loopback');
  if (unknown.length > 0) {
    process.stderr.write(`openexec serve: unknown argument ${unknown[0]} (the only flag is --allow-non-loopback)\n`);
    process.exit(2);
  }
  // Signals are handled from the first moment: one that arrives while starting stops the
  // server as soon as it is up, never killing it half-started.
  let app: OpenExecApp | null = null;
  let stopRequested: string | null = null;
  const stop = (signal: string) => {
    if (!app) {
      stopRequested ??= signal;
      return;
    }
    const running = app;
    app = null;
    running
      .close()
      .then(() => {
        process.stdout.write(`OpenExec stopped (${signal})\n`);
        process.exit(0);
      })
      .catch((err: unknown) => {
        process.stderr.write(`openexec: error while stopping: ${oneLine(err)}\n`);
        process.exit(1);
      });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  try {
    const config = loadConfig(process.env, {
      dataDirDefault: join(homedir(), '.openexec'),
      allowNonLoopback: args.includes('--allow-non-loopback'),
    });
    app = await startOpenExec(config, { logToStderr: true });
    for (const w of app.warnings()) process.stderr.write(`openexec: warning: ${w}\n`);
    if (app.databaseTrust !== null) process.stdout.write(`OpenExec: ${app.databaseTrust}\n`);
    process.stdout.write(`OpenExec listening on ${app.address} (mode ${config.mode}, data ${config.dataDir})\n`);
  } catch (err) {
    const known = err instanceof ConfigError || (err as { code?: string }).code === 'key_file';
    process.stderr.write(`openexec: ${known ? '' : 'cannot start: '}${oneLine(err)}\n`);
    process.exit(2);
  }
  if (stopRequested !== null) stop(stopRequested);
}

void main();
