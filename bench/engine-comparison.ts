/**
 * SQLite against PostgreSQL, one setup after another within each concurrency level, the first
 * rotating from level to level so the machine's noise weighs on each alike; at the highest level
 * two PostgreSQL instances on one database as well. Shared by `pgexecute` (the engine in-process)
 * and `pghttp` (POST /execute to headless servers).
 */
import { loadavg } from 'node:os';
import { percentile, type LoadRun } from './execute-bench.ts';

export type Setup = 'SQLite NORMAL' | 'SQLite FULL' | 'PostgreSQL' | 'PostgreSQL ×2';

export interface EngineFigures {
  engine: Setup;
  concurrency: number;
  requests: number;
  executionsPerSecond: number;
  p50ms: number;
  p99ms: number;
  /** Requests that did not execute; any is a bug to report. */
  errors: number;
}

/** Runs `count` fresh requests tagged `tag` through a setup, `concurrency` in flight. */
export type RunSetup = (setup: Setup, tag: string, count: number, concurrency: number) => Promise<LoadRun>;

export const round = (x: number, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits;

export const loadAverage = () => loadavg().map((x) => round(x));

export async function compareEngines(run: RunSetup, perLevel: number, concurrencies: number[]) {
  const figures: EngineFigures[] = [];
  for (const [level, concurrency] of concurrencies.entries()) {
    const names: Setup[] = ['SQLite NORMAL', 'SQLite FULL', 'PostgreSQL'];
    const order = [...names.slice(level % names.length), ...names.slice(0, level % names.length)];
    if (level === concurrencies.length - 1) order.push('PostgreSQL ×2');
    for (const engine of order) {
      const tag = `${engine.replace(/\W+/g, '-')}-${concurrency}`;
      // Warm-up: connections, pools, JIT, the signature threads, each instance's key registered.
      await run(engine, `warm-${tag}`, Math.max(50, concurrency * 2), concurrency);
      const { latencies, errors, seconds } = await run(engine, tag, perLevel, concurrency);
      figures.push({
        engine,
        concurrency,
        requests: perLevel,
        executionsPerSecond: Math.round(perLevel / seconds),
        p50ms: percentile(latencies, 50),
        p99ms: percentile(latencies, 99),
        errors,
      });
    }
  }
  const at = (engine: Setup, c: number) => figures.find((f) => f.engine === engine && f.concurrency === c);
  const ratios = concurrencies.map((c) => {
    const pg1 = at('PostgreSQL', c)!.executionsPerSecond;
    const ratio = (engine: Setup) => round(pg1 / at(engine, c)!.executionsPerSecond);
    const two = at('PostgreSQL ×2', c);
    return {
      concurrency: c,
      postgresOverSqliteNormal: ratio('SQLite NORMAL'),
      postgresOverSqliteFull: ratio('SQLite FULL'),
      ...(two && {
        twoInstancesOverSqliteFull: round(two.executionsPerSecond / at('SQLite FULL', c)!.executionsPerSecond),
        twoInstancesOverOne: round(two.executionsPerSecond / pg1),
      }),
    };
  });
  return { figures, ratios };
}
