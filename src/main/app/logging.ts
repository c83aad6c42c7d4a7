import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { pino, type DestinationStream, type Logger } from 'pino';
import pinoRoll from 'pino-roll';
import type { OpenExecConfig } from './config.ts';

export const LOG_DIR = 'logs';
/** pino-roll numbers its files: logs/openexec.1.log, .2.log …; logs/current.log links to the one in use. */
export const LOG_BASENAME = 'openexec.log';
/** Bytes held in memory while the log file cannot be written (a full disk); beyond that, lines are dropped. */
const MAX_BUFFERED_BYTES = 4 * 1024 * 1024;
/** A log file that cannot take its last lines (a full disk) does not hold up a stop for longer. */
const CLOSE_WAIT_MS = 1000;

/**
 * stderr through process.stderr, which tolerateUnwritableStdio makes drop what it cannot write.
 * Not pino.destination(2): on exit it flushes synchronously and, on a full device (ENOSPC),
 * retries forever, so the process would never exit.
 */
const stderrStream: DestinationStream = { write: (line: string) => void process.stderr.write(line) };

/**
 * What must never reach a log line, wherever a caller might put it. We never log bodies or
 * headers in the first place; these paths are the second line of defence.
 */
export const REDACT_PATHS = [
  'authorization',
  '*.authorization',
  'headers',
  '*.headers',
  'token',
  '*.token',
  'consoleToken',
  'approval_artifact',
  '*.approval_artifact',
  'signature',
  '*.signature',
  'payload',
  '*.payload',
  'body',
  '*.body',
  'key',
  '*.key',
  'password',
  '*.password',
];

export interface OpenExecLogger {
  readonly logger: Logger;
  /** The rolling file's base path, or null when it could not be opened (then stderr only, if any). */
  readonly file: string | null;
  /** Why the file could not be opened, or null. */
  readonly problem: string | null;
  close(): Promise<void>;
}

export interface LoggerOptions {
  /** Also write every line to stderr (the headless server does; the window and tests do not). */
  stderr: boolean;
}

/**
 * JSON lines to logs/ in the data directory (0600, rolled by size) and optionally stderr.
 * A destination that cannot be written never stops the boundary: its errors are swallowed,
 * at most MAX_BUFFERED_BYTES wait in memory, and lines beyond that are dropped.
 */
export async function createLogger(config: OpenExecConfig, options: LoggerOptions): Promise<OpenExecLogger> {
  const streams: { stream: DestinationStream; level: Logger['level'] }[] = [];
  const closers: (() => Promise<void>)[] = [];
  const level = config.logLevel;
  let file: string | null = join(config.dataDir, LOG_DIR, LOG_BASENAME);
  let problem: string | null = null;
  try {
    mkdirSync(join(config.dataDir, LOG_DIR), { recursive: true, mode: 0o700 });
    const roll = await pinoRoll({
      file,
      size: `${config.logMaxBytes}b`,
      limit: { count: config.logFiles },
      symlink: true,
      mode: 0o600,
      maxLength: MAX_BUFFERED_BYTES,
    });
    roll.on('error', () => {});
    streams.push({ stream: roll, level });
    closers.push(
      () =>
        new Promise((resolve) => {
          const done = setTimeout(resolve, CLOSE_WAIT_MS);
          roll.once('close', () => (clearTimeout(done), resolve()));
          roll.end();
        }),
    );
  } catch (err) {
    problem = `cannot write the log in ${join(config.dataDir, LOG_DIR)}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`;
    file = null;
  }
  if (options.stderr) streams.push({ stream: stderrStream, level });
  const logger = pino(
    { level, base: { pid: process.pid }, redact: { paths: REDACT_PATHS, censor: '[redacted]' } },
    streams.length > 0 ? pino.multistream(streams) : pino.destination('/dev/null'),
  );
  return {
    logger,
    file,
    problem,
    async close() {
      logger.flush();
      await Promise.all(closers.map((c) => c()));
    },
  };
}
