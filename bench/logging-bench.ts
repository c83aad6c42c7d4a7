import { benchExecute } from './execute-bench.ts';

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
    for (const [level, into] of [['info', logged], ['silent', silent]] as const) {
      const [f] = await benchExecute('NORMAL', [16], perRound, { OPENEXEC_LOG_LEVEL: level });
      if (!f || f.errors > 0) throw new Error(`logging bench: ${f?.errors ?? 'no'} errors at level ${level}`);
      into.push(f.executionsPerSecond);
    }
  }
  const on = median(logged);
  const off = median(silent);
  return {
    concurrency: 16,
    rounds,
    loggedPerSecond: on,
    silentPerSecond: off,
    costPercent: Math.round(((off - on) / off) * 1000) / 10,
    samples: { logged, silent },
  };
}
