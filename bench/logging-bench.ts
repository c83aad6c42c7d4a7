import { rmSync } from 'node:fs';
import { benchExecute } from './execute-bench.ts';
import { loadConfig } from '../src/main/app/config.ts';
import { createLogger } from '../src/main/app/logging.ts';
import { tempDir } from '../test/support/harness.ts';

export interface LoggingCostFigures {
  concurrency: number;
  rounds: number;
  /** Median executions per second with one log line per request (file and stderr) … */
  loggedPerSecond: number;
  /** … and with OPENEXEC_LOG_LEVEL=silent, the floor measured in the same run. */
  silentPerSecond: number;
  /** (silent - logged) / silent, in percent; the target is under 5. */
  costPercent: number;
  samples: { logged: number[]; silent: number[] };
  /** Microseconds of this process's time per request line written to a rolling file, measured alone. */
  microsecondsPerLine: number;
  /** That time × the logged rate: the share of one core logging takes at that rate, in percent. */
  lineShareOfCorePercent: number;
}

/** A request line like the server's, written `n` times to a fresh rolling log; µs per line including the final flush. */
async function lineCost(n: number): Promise<number> {
  const dataDir = tempDir('openexec-logbench-');
  const log = await createLogger(loadConfig({ OPENEXEC_DATA_DIR: dataDir }), { stderr: false });
  const child = log.logger.child({ reqId: 'req-1' });
  const started = performance.now();
  for (let i = 0; i < n; i++) child.info({ method: 'POST', route: '/execute', status: 200, ms: 3.21, seq: i }, 'request');
  await log.close();
  const us = ((performance.now() - started) * 1000) / n;
  rmSync(dataDir, { recursive: true, force: true });
  return Math.round(us * 100) / 100;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

/**
 * What logging costs /execute at concurrency 16: the same run with the log on (info: a JSON
 * line per request to logs/ and to stderr) and off (silent), alternated round by round so a
 * busy machine weighs on both alike.
 */
export async function benchLoggingCost(rounds: number, perRound: number): Promise<LoggingCostFigures> {
  const logged: number[] = [];
  const silent: number[] = [];
  for (let i = 0; i < rounds; i++) {
    // Which goes first alternates too: a warm page cache or a quiet neighbour favours neither.
    const order = [
      ['info', logged],
      ['silent', silent],
    ] as const;
    for (const [level, into] of i % 2 === 0 ? order : [...order].reverse()) {
      const [f] = await benchExecute('NORMAL', [16], perRound, { OPENEXEC_LOG_LEVEL: level });
      if (!f || f.errors > 0) throw new Error(`logging bench: ${f?.errors ?? 'no'} errors at level ${level}`);
      into.push(f.executionsPerSecond);
    }
  }
  const on = median(logged);
  const off = median(silent);
  const us = await lineCost(50_000);
  return {
    concurrency: 16,
    rounds,
    loggedPerSecond: on,
    silentPerSecond: off,
    costPercent: Math.round(((off - on) / off) * 1000) / 10,
    samples: { logged, silent },
    microsecondsPerLine: us,
    lineShareOfCorePercent: Math.round(((us * on) / 1e6) * 1000) / 10,
  };
}
