import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { Agent } from 'node:http';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { postRaw, runLoad } from './execute-bench.ts';
import { loadConfig } from '../src/main/app/config.ts';
import { createLogger, LOG_DIR } from '../src/main/app/logging.ts';
import { REPO_ROOT, tempDir } from '../test/support/harness.ts';
import { NODE_BIN, waitForExit } from '../test/support/server-process.ts';
import { executeWire, TestApprover } from '../test/support/clawshield.ts';

const CONCURRENCY = 16;
/** Small enough that every logged run rolls the file several times (a request line is ~250 bytes). */
const LOG_MAX_BYTES = 128 * 1024;
const LOG_FILES = 3;

export interface LoggingCostFigures {
  concurrency: number;
  /** Logged/silent pairs, run back to back, the order flipped each pair (A B, B A, A B …). */
  pairs: number;
  requestsPerRun: number;
  /** Executions per second of each run, pair by pair. */
  samples: { logged: number[]; silent: number[] };
  /** The server process's own CPU time (user + system) per request in each run, microseconds. */
  cpuSamples: { logged: number[]; silent: number[] };
  /**
   * Logged CPU per request over silent, the median of the pairs, as a cost in percent: what
   * logging adds to the server's work. A busy neighbour slows a run down but barely changes the
   * CPU the server itself spends on a request, so this is the firmer figure on a shared machine.
   */
  cpuCostPercent: number;
  /** logged / silent of each pair. */
  pairRatios: number[];
  /**
   * The median of the pair ratios: logged throughput as a share of silent. The median, because
   * a neighbour's burst lands on one run of a pair and makes that pair's ratio an outlier.
   */
  throughputRatio: number;
  /** (1 - throughputRatio) × 100; the target is under 5. Negative: the logged runs were faster. */
  costPercent: number;
  /** The geometric mean of the pair ratios, for comparison (outliers weigh on it). */
  meanThroughputRatio: number;
  /** The lowest and highest pair's cost: how far machine noise moves one comparison. */
  costRangePercent: [number, number];
  /**
   * A 95 % interval of costPercent (bootstrap of the median over the pairs): the figure is
   * known to within this on this machine at this load. Too wide to decide 5 %? Run more pairs.
   */
  costInterval95Percent: [number, number];
  /** The same interval for cpuCostPercent. */
  cpuCostInterval95Percent: [number, number];
  /** What the logged server was configured with, and the files it left (evidence it rolled). */
  logging: { level: string; maxBytes: number; files: number; stderr: string; filesLeft: string[] };
  /** 1-minute load average before and after (a shared machine: read the figures with it). */
  loadAverage: { before: number; after: number; cpus: number };
  /** Microseconds of this process's time per request line written to a rolling file, measured alone. */
  microsecondsPerLine: number;
}

interface BenchServer {
  child: ChildProcess;
  url: URL;
  dataDir: string;
}

/**
 * The headless server in its own process, as an operator runs it. Its stderr (where the
 * headless server also writes each log line) goes to /dev/null: a pipe read by this process
 * would charge the reading to the load generator, on the same cores.
 */
function startServer(approver: TestApprover, env: Record<string, string>): Promise<BenchServer> {
  const dataDir = tempDir('openexec-logbench-');
  const child = spawn(NODE_BIN, ['--import', 'tsx', 'src/main/headless.ts'], {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      OPENEXEC_PORT: '0',
      OPENEXEC_DATA_DIR: dataDir,
      OPENEXEC_MODE: 'clawshield',
      CLAWSHIELD_PUBLIC_KEY: approver.publicKeyPem,
      CLAWSHIELD_TENANT_ID: 'tenant-001',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  let out = '';
  return new Promise((resolve, reject) => {
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = /OpenExec listening on (http:\/\/\S+)/.exec(out);
      if (!m) return;
      child.stdout!.off('data', onData);
      child.stdout!.resume();
      resolve({ child, url: new URL(m[1]!), dataDir });
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`logging bench: the server exited (${code}) before it was ready: ${out}`)));
  });
}

async function stopServer(s: BenchServer): Promise<void> {
  s.child.kill('SIGTERM');
  await waitForExit(s.child);
  rmSync(s.dataDir, { recursive: true, force: true });
}

/** CPU seconds (user + system) the process has used so far, from /proc (Linux). */
function cpuSeconds(pid: number): number {
  // Fields after the command name, which is in parentheses and may hold spaces.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime are fields 14 and 15 of the whole line: 12 and 13 after the name.
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}
/** USER_HZ: 100 on every Linux this runs on. */
const CLOCK_TICKS = 100;

interface RunFigures {
  perSecond: number;
  cpuMicrosPerRequest: number;
}

/** One run of `n` fresh executions at concurrency 16: executions per second, and the server's CPU per request. */
async function run(s: BenchServer, approver: TestApprover, tag: string, n: number): Promise<RunFigures> {
  const bodies = Array.from({ length: n }, (_, i) => {
    const payload = `{"a":${i},"b":16}`;
    return executeWire('add', payload, `${tag}-${i}`, approver.mint('add', payload));
  });
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  try {
    // Connections, JIT and page cache warm before the clock starts.
    await Promise.all(
      Array.from({ length: CONCURRENCY }, (_, i) =>
        postRaw(agent, s.url, executeWire('echo', '{}', `${tag}-warm-${i}`, approver.mint('echo', '{}'))),
      ),
    );
    const cpuBefore = cpuSeconds(s.child.pid!);
    const { errors, seconds } = await runLoad(agent, s.url, bodies, CONCURRENCY);
    const cpu = cpuSeconds(s.child.pid!) - cpuBefore;
    if (errors > 0) throw new Error(`logging bench: ${errors} errors in run ${tag}`);
    return { perSecond: Math.round(n / seconds), cpuMicrosPerRequest: Math.round((cpu * 1e6) / n) };
  } finally {
    agent.destroy();
  }
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

const round1 = (x: number) => Math.round(x * 10) / 10;
const median = (xs: number[]) => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length / 2;
  return sorted.length % 2 === 1 ? sorted[Math.floor(mid)]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};
/** A 95 % bootstrap interval of the median of `xs`. */
function medianInterval(xs: number[], resamples = 4000): [number, number] {
  const medians = Array.from({ length: resamples }, () => median(xs.map(() => xs[Math.floor(Math.random() * xs.length)]!))).sort(
    (a, b) => a - b,
  );
  return [medians[Math.floor(resamples * 0.025)]!, medians[Math.ceil(resamples * 0.975) - 1]!];
}
const geometricMean = (xs: number[]) => Math.exp(xs.reduce((sum, x) => sum + Math.log(x), 0) / xs.length);

/**
 * What logging costs /execute at concurrency 16. Two servers run side by side, one logging
 * every request (info, to a rolling file, and to stderr) and one silent; the runs alternate
 * between them in pairs, the order flipped each pair, so a busy neighbour weighs on both
 * alike. Each pair gives a ratio; their median is the figure.
 */
export async function benchLoggingCost(pairs: number, perRun: number): Promise<LoggingCostFigures> {
  const before = loadavg()[0]!;
  const approver = new TestApprover();
  const logged = await startServer(approver, {
    OPENEXEC_LOG_LEVEL: 'info',
    OPENEXEC_LOG_MAX_BYTES: String(LOG_MAX_BYTES),
    OPENEXEC_LOG_FILES: String(LOG_FILES),
  });
  const silent = await startServer(approver, { OPENEXEC_LOG_LEVEL: 'silent' }).catch(async (err: unknown) => {
    await stopServer(logged);
    throw err;
  });
  const samples = { logged: [] as number[], silent: [] as number[] };
  const cpuSamples = { logged: [] as number[], silent: [] as number[] };
  let filesLeft: string[] = [];
  try {
    await run(logged, approver, 'warm-logged', perRun / 4);
    await run(silent, approver, 'warm-silent', perRun / 4);
    for (let i = 0; i < pairs; i++) {
      const order = [
        ['logged', logged],
        ['silent', silent],
      ] as const;
      for (const [name, server] of i % 2 === 0 ? order : [...order].reverse()) {
        const f = await run(server, approver, `${name}-${i}`, perRun);
        samples[name].push(f.perSecond);
        cpuSamples[name].push(f.cpuMicrosPerRequest);
      }
    }
    filesLeft = readdirSync(join(logged.dataDir, LOG_DIR)).sort();
  } finally {
    await stopServer(logged);
    await stopServer(silent);
  }
  const pairRatios = samples.logged.map((l, i) => l / samples.silent[i]!);
  const ratio = median(pairRatios);
  const cpuRatios = cpuSamples.logged.map((l, i) => l / cpuSamples.silent[i]!);
  const cpuRatio = median(cpuRatios);
  const [ratioLow, ratioHigh] = medianInterval(pairRatios);
  const [cpuLow, cpuHigh] = medianInterval(cpuRatios);
  const costs = pairRatios.map((r) => (1 - r) * 100);
  return {
    concurrency: CONCURRENCY,
    pairs,
    requestsPerRun: perRun,
    samples,
    cpuSamples,
    cpuCostPercent: round1((cpuRatio - 1) * 100),
    pairRatios: pairRatios.map((r) => Math.round(r * 1000) / 1000),
    throughputRatio: Math.round(ratio * 1000) / 1000,
    costPercent: round1((1 - ratio) * 100),
    meanThroughputRatio: Math.round(geometricMean(pairRatios) * 1000) / 1000,
    costRangePercent: [round1(Math.min(...costs)), round1(Math.max(...costs))],
    costInterval95Percent: [round1((1 - ratioHigh) * 100), round1((1 - ratioLow) * 100)],
    cpuCostInterval95Percent: [round1((cpuLow - 1) * 100), round1((cpuHigh - 1) * 100)],
    logging: { level: 'info', maxBytes: LOG_MAX_BYTES, files: LOG_FILES, stderr: '/dev/null', filesLeft },
    loadAverage: { before, after: loadavg()[0]!, cpus: cpus().length },
    microsecondsPerLine: await lineCost(50_000),
  };
}
