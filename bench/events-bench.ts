/**
 * Event streams under load, against a server in its own process. Each figure is printed with
 * the machine's floor: the same work with no subscriber at all, measured in the same run.
 *  - 500 subscribers that never read while 10,000 proposals arrive: the server's RSS growth.
 *  - POST /execute latency with 200 subscribers reading every event.
 */
import { Agent } from 'node:http';
import { connect, type Socket } from 'node:net';
import { readFileSync, rmSync } from 'node:fs';
import { tempDir } from '../test/support/harness.ts';
import { getHead } from '../test/support/raw-http.ts';
import { spawnServer, waitForExit, type ServerProcess } from '../test/support/server-process.ts';
import { cpuSeconds } from './process-cpu.ts';
import { executeWire, TestApprover } from '../test/support/clawshield.ts';
import { percentile, runLoad } from './execute-bench.ts';

const CONCURRENCY = 16;
const MiB = 1024 * 1024;
const round1 = (x: number) => Math.round(x * 10) / 10;

/** Resident set of a process, from /proc (Linux); null elsewhere. */
function rssBytes(pid: number): number | null {
  try {
    const kb = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb === undefined ? null : Number(kb) * 1024;
  } catch {
    return null;
  }
}

async function withServer<T>(env: Record<string, string>, work: (server: ServerProcess, url: URL) => Promise<T>): Promise<T> {
  const dataDir = tempDir('openexec-bench-');
  const server = await spawnServer({
    OPENEXEC_DATA_DIR: dataDir,
    OPENEXEC_MAX_SUBSCRIBERS: '1000',
    OPENEXEC_MAX_CONNECTIONS: '2048',
    ...env,
  });
  try {
    return await work(server, new URL(server.url));
  } finally {
    server.child.kill('SIGTERM');
    await waitForExit(server.child);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** A proposal of about 1.8 KB, as in the report that found the problem (17.6 MiB for 10,000). */
function proposalBody(i: number, tag: string): string {
  return JSON.stringify({
    action: 'echo',
    payload: { to: 'cfo@example.com', amount: i, note: 'n'.repeat(1500) },
    nonce: `${tag}-${i}`,
    context: 'Quarterly report',
  });
}

/** What a stream received: its byte count and its last few hundred bytes. */
interface StreamTail {
  socket: Socket;
  bytes: number;
  tail: string;
  closed: boolean;
}

/**
 * `count` event streams, each open once its greeting arrived. `reading` ones read and discard
 * everything; the others stop reading at once, until resumed.
 */
async function eventStreams(url: string, count: number, reading: boolean): Promise<StreamTail[]> {
  const port = Number(new URL(url).port);
  const streams: StreamTail[] = [];
  for (let i = 0; i < count; i++) {
    streams.push(
      await new Promise<StreamTail>((resolve, reject) => {
        const socket = connect(port, '127.0.0.1', () => socket.write(getHead('/events')));
        const t: StreamTail = { socket, bytes: 0, tail: '', closed: false };
        socket.on('data', (d: Buffer) => {
          t.bytes += d.length;
          t.tail = (t.tail + d.toString('latin1')).slice(-400);
          if (t.bytes === d.length) {
            if (!reading) socket.pause();
            resolve(t);
          }
        });
        socket.on('close', () => (t.closed = true));
        socket.on('error', () => undefined);
        socket.once('error', reject);
      }),
    );
  }
  return streams;
}

async function idleRun(subscribers: number, proposals: number) {
  return withServer({}, async (server, url) => {
    const pid = server.child.pid!;
    const idle = await eventStreams(server.url, subscribers, false);
    const before = rssBytes(pid);
    let peak = before ?? 0;
    const sampler = setInterval(() => (peak = Math.max(peak, rssBytes(pid) ?? 0)), 25);
    const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
    const bodies = Array.from({ length: proposals }, (_, i) => proposalBody(i, `idle-${subscribers}`));
    const run = await runLoad(agent, url, bodies, CONCURRENCY, '/proposals', 202);
    await new Promise((r) => setTimeout(r, 1000)); // the last events reach the sockets
    clearInterval(sampler);
    const after = rssBytes(pid);
    peak = Math.max(peak, after ?? 0);
    agent.destroy();
    // Now read what each stream was left with: a dropped one ends with a resync event, or was
    // cut (it did not take its last event within the grace time).
    for (const t of idle) t.socket.resume();
    const deadline = performance.now() + 60_000;
    while (idle.some((t) => !t.closed) && performance.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    const figures = {
      subscribers,
      proposals,
      requestMiB: round1(bodies.reduce((n, b) => n + b.length, 0) / MiB),
      proposalsPerSecond: Math.round(proposals / run.seconds),
      errors: run.errors,
      rssBeforeMiB: before === null ? null : round1(before / MiB),
      rssPeakGrowthMiB: before === null ? null : round1((peak - before) / MiB),
      endedWithResync: idle.filter((t) => t.closed && t.tail.includes('event: resync')).length,
      cut: idle.filter((t) => t.closed && !t.tail.includes('event: resync')).length,
      stillOpen: idle.filter((t) => !t.closed).length,
      meanMiBReceivedEach: subscribers === 0 ? 0 : round1(idle.reduce((n, t) => n + t.bytes, 0) / subscribers / MiB),
    };
    for (const t of idle) t.socket.destroy();
    return figures;
  });
}

async function executeRun(subscribers: number, requests: number) {
  const approver = new TestApprover();
  return withServer(
    { OPENEXEC_MODE: 'clawshield', CLAWSHIELD_PUBLIC_KEY: approver.publicKeyPem, CLAWSHIELD_TENANT_ID: 'tenant-001' },
    async (server, url) => {
      const reading = await eventStreams(server.url, subscribers, true);
      const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
      const mint = (i: number, tag: string) => {
        const payload = `{"a":${i},"b":${subscribers}}`;
        return executeWire('add', payload, `events-${tag}-${subscribers}-${i}`, approver.mint('add', payload));
      };
      await runLoad(
        agent,
        url,
        Array.from({ length: 200 }, (_, i) => mint(i, 'warm')),
        CONCURRENCY,
      );
      const cpu0 = cpuSeconds(server.child.pid!);
      const run = await runLoad(
        agent,
        url,
        Array.from({ length: requests }, (_, i) => mint(i, 'run')),
        CONCURRENCY,
      );
      const cpu1 = cpuSeconds(server.child.pid!);
      agent.destroy();
      await new Promise((r) => setTimeout(r, 500));
      const figures = {
        subscribers,
        concurrency: CONCURRENCY,
        requests,
        executionsPerSecond: Math.round(requests / run.seconds),
        p50ms: percentile(run.latencies, 50),
        p99ms: percentile(run.latencies, 99),
        maxms: percentile(run.latencies, 100),
        errors: run.errors,
        serverCpuMsPerExecution: cpu0 === null || cpu1 === null ? null : Math.round(((cpu1 - cpu0) * 1000 * 100) / requests) / 100,
        eventMiBReceived: round1(reading.reduce((n, t) => n + t.bytes, 0) / MiB),
        subscribersClosed: reading.filter((t) => t.closed).length,
      };
      for (const t of reading) t.socket.destroy();
      return figures;
    },
  );
}

export async function benchEvents() {
  const proposals = Number(process.env['BENCH_PROPOSALS'] ?? 10_000);
  const requests = Number(process.env['BENCH_EXECUTIONS'] ?? 5000);
  return {
    idleSubscribers: { floor: await idleRun(0, proposals), measured: await idleRun(500, proposals) },
    readingSubscribers: { floor: await executeRun(0, requests), measured: await executeRun(200, requests) },
  };
}
