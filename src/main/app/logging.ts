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
/**
 * Lines are written to the file in batches of at least this many bytes, and at least once a
 * second. One write per line cost a request a thread-pool round trip, and on a busy machine the
 * hand-off often stalled the event loop for a scheduler slice: a large part of what logging cost
 * (README "Logs"). A crash can lose the last second of lines; a stop flushes them. A small
 * OPENEXEC_LOG_MAX_BYTES gets smaller batches, so a file still ends close to its limit.
 */
const WRITE_BATCH_BYTES = 16 * 1024;
/** sonic-boom's largest single write; a batch must stay below it. */
const MAX_WRITE_BYTES = 64 * 1024;
const FLUSH_EVERY_MS = 1000;
/** A log file that cannot take its last lines (a full disk) does not hold up a stop for longer. */
const CLOSE_WAIT_MS = 1000;

/** A turn's stderr lines beyond this are written at once rather than at the end of the turn. */
const STDERR_BATCH_CHARS = 64 * 1024;

interface StderrStream extends DestinationStream {
  /** Writes what is pending and stops flushing at exit (the logger's close). */
  close(): void;
}

/**
 * stderr through process.stderr, which tolerateUnwritableStdio makes drop what it cannot write,
 * with the lines of one event-loop turn written together at its end: a write per line was a
 * system call per request on the event loop (and, to a pipe, a wake-up of its reader). Written
 * in order and on the loop's thread, so no other stderr text lands inside a line; flushed
 * synchronously at exit and before an uncaught exception's report (process.stderr is synchronous
 * for files, pipes and terminals on Linux), so only a kill that gives the process no exit
 * (SIGKILL, an abort) can lose the last turn's lines. Not pino.destination(2): on exit it
 * flushes synchronously and, on a full device (ENOSPC), retries forever, so the process would
 * never exit.
 */
function stderrStream(): StderrStream {
  let pending = '';
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    if (pending === '') return;
    const text = pending;
    pending = '';
    process.stderr.write(text);
  };
  // Before Node reports an uncaught exception (and exits): the lines come before the report.
  process.on('uncaughtExceptionMonitor', flush);
  process.on('exit', flush);
  return {
    write(line: string) {
      pending += line;
      if (pending.length >= STDERR_BATCH_CHARS) flush();
      else if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    },
    close() {
      flush();
      process.off('uncaughtExceptionMonitor', flush);
      process.off('exit', flush);
    },
  };
}

/**
 * What must never reach a log line, wherever a caller might put it: these keys at the top of a
 * line or of a child logger's bindings (pino's `redact`), and one level down in a line
 * (`{req: {headers}}`, censorNested). We never log bodies or headers in the first place; this
 * is the second line of defence.
 */
export const SECRET_KEYS: readonly string[] = [
  'authorization',
  'headers',
  'token',
  'consoleToken',
  'approval_artifact',
  'signature',
  'payload',
  'body',
  'key',
  'password',
];
const SECRET = new Set(SECRET_KEYS);
export const CENSORED = '[redacted]';

function hasSecret(o: object): boolean {
  for (const k in o) if (SECRET.has(k)) return true;
  return false;
}

/** A copy of `o` with its secret keys censored (an Error keeps its type, message and stack). */
function censoredCopy(o: object): Record<string, unknown> {
  const copy: Record<string, unknown> = o instanceof Error ? { type: o.name, message: o.message, stack: o.stack } : {};
  for (const [k, v] of Object.entries(o)) copy[k] = SECRET.has(k) ? CENSORED : v;
  return copy;
}

/**
 * The line with every secret key one level down censored. pino's `redact` did this with
 * wildcard paths (`*.token`), which cost ~11 µs of CPU a line, much of what logging added to a
 * request (README "Logs"); this walks the keys once and copies only when something must go.
 */
export function censorNested(line: Record<string, unknown>): Record<string, unknown> {
  let out = line;
  for (const k in line) {
    const v = line[k];
    if (typeof v !== 'object' || v === null || Array.isArray(v) || !hasSecret(v)) continue;
    if (out === line) out = { ...line };
    out[k] = censoredCopy(v);
  }
  return out;
}

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
      minLength: Math.min(WRITE_BATCH_BYTES, Math.floor(config.logMaxBytes / 8)),
      maxWrite: MAX_WRITE_BYTES,
      periodicFlush: FLUSH_EVERY_MS,
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
  if (options.stderr) {
    const stderr = stderrStream();
    streams.push({ stream: stderr, level });
    closers.push(async () => stderr.close());
  }
  const logger = pino(
    {
      level,
      base: { pid: process.pid },
      redact: { paths: [...SECRET_KEYS], censor: CENSORED },
      formatters: { log: censorNested },
    },
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
